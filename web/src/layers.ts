// The located entities the console shows, one layer per entity type, kept as GeoJSON features and
// updated in place by live notifications and the time machine.
import { ALERT_CONTEXT, ALERT_TYPE, Entity, Json, api, contextForType, plainValue, queryAll, shortName, NGSI } from './api';
import { bandColor, stationIndex } from './aqi';

export interface Feature {
  type: 'Feature';
  id?: string | number;
  geometry: { type: string; coordinates: unknown };
  properties: Record<string, Json>;
}

export interface Layer {
  typeIri: string;
  short: string;        // the type's short name (layer label key: layer.<short>)
  link?: string;        // the @context its attributes are named with
  color: string;
  features: Map<string, Feature>;
  cluster: boolean;     // many points: clustered at low zoom
}

export const AIR_TYPE = 'AirQualityObserved';
export const NOT_ON_MAP = new Set(['District', 'Device', 'EntityTypeList', 'KeyPerformanceIndicator']);
const PALETTE = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#ff7f0e'];
const FIXED: Record<string, string> = { Alert: '#e53935', Incident: '#fb8c00', ResponseUnit: '#1e88e5', TrafficFlowObserved: '#6d4c41' };
export const CLUSTER_ABOVE = 300;

export const layers = new Map<string, Layer>();  // by type IRI
// Every entity type the twin held at the last load (those on the map and the others).
export const knownTypes = new Set<string>();
// Layers the user hid (by type IRI): not drawn, and not streamed by the server.
export const hiddenTypes = new Set<string>();
// The AQI of each air station at the time machine's moment (none: live values).
export const pastIndex = new Map<string, number>();

export function layerOfShort(short: string): Layer | undefined {
  for (const l of layers.values()) if (l.short === short) return l;
  return undefined;
}

function colorFor(short: string, i: number): string { return FIXED[short] ?? PALETTE[i % PALETTE.length]; }

// Primitive attributes become feature properties (what the map styles and searches use).
export function toFeature(layer: Layer, e: Entity, geometry?: Feature['geometry']): Feature | undefined {
  if (!onMap(layer, e)) return undefined;
  const geo = geometry ?? (e.location as unknown as Feature['geometry'] | undefined);
  if (!geo || typeof geo !== 'object' || !('coordinates' in geo)) return undefined;
  const props: Record<string, Json> = { id: e.id, type: layer.short };
  for (const [k, v] of Object.entries(e)) {
    if (k === 'id' || k === 'type' || k === 'location') continue;
    const value = v && typeof v === 'object' && !Array.isArray(v) && '@value' in v ? v['@value'] : v;
    if (value === null || typeof value !== 'object') props[shortName(k)] = value as Json;
  }
  style(layer, props);
  return { type: 'Feature', geometry: geo, properties: props };
}

// Cleared alerts and finished incidents leave the map.
function onMap(layer: Layer, e: Entity): boolean {
  const status = String(plainValue(e.status ?? null) ?? '');
  if (layer.short === 'Alert') return status !== 'cleared' && !e.validTo;
  if (layer.short === 'Incident') return status !== 'resolved' && status !== 'closed';
  return true;
}

export function style(layer: Layer, props: Record<string, Json>): void {
  if (layer.short === AIR_TYPE) {
    const past = pastIndex.get(String(props.id));
    const index = pastIndex.size ? past : stationIndex(props);
    props._aqi = index ?? -1;
    props._color = bandColor(index);
  } else {
    props._color = layer.color;
  }
}

interface TypeDetails { id: string; typeName: string }

// Finds the located entity types and loads each one's entities.
export async function loadLayers(): Promise<void> {
  const types = await api<TypeDetails[]>(`${NGSI}/types?details=true`);
  for (const t of types) knownTypes.add(t.id);
  const wanted = types.map(t => t.id).filter(iri => !NOT_ON_MAP.has(shortName(iri)));
  if (!wanted.includes(ALERT_TYPE)) wanted.push(ALERT_TYPE);
  wanted.sort((a, b) => shortName(a).localeCompare(shortName(b)));
  await Promise.all(wanted.map((iri, i) => loadLayer(iri, i)));
}

export async function loadLayer(typeIri: string, index = layers.size): Promise<Layer> {
  const short = shortName(typeIri);
  const link = typeIri === ALERT_TYPE ? ALERT_CONTEXT : contextForType(typeIri);
  let layer = layers.get(typeIri);
  if (!layer) {
    layer = { typeIri, short, link, color: colorFor(short, index), features: new Map(), cluster: false };
    layers.set(typeIri, layer);
  }
  const geo = await queryAll<{ id: string; geometry: Feature['geometry']; properties: Entity }>(
    { type: typeIri, options: 'keyValues' }, link, 'application/geo+json');
  layer.features.clear();
  for (const f of geo) {
    if (!f.geometry) continue;
    const feature = toFeature(layer, { ...f.properties, id: f.id, type: short }, f.geometry);
    if (feature) layer.features.set(f.id, feature);
  }
  layer.cluster = layer.features.size > CLUSTER_ABOVE;
  return layer;
}

// Merges entities (keyValues, from a notification) into their layer; returns whether any changed.
export function mergeEntities(layer: Layer, entities: Entity[]): boolean {
  let changed = false;
  for (const e of entities) {
    if (e.deletedAt) { if (layer.features.delete(e.id)) changed = true; continue; }
    const old = layer.features.get(e.id);
    const merged: Entity = { ...(old ? (old.properties as Entity) : {}), ...e, type: layer.short };
    if (!e.location && old) merged.location = old.geometry as unknown as Json;
    const f = toFeature(layer, merged);
    if (f) { layer.features.set(e.id, f); changed = true; } else if (layer.features.delete(e.id)) changed = true;
  }
  return changed;
}

export function collection(layer: Layer): { type: 'FeatureCollection'; features: Feature[] } {
  return { type: 'FeatureCollection', features: [...layer.features.values()] };
}
