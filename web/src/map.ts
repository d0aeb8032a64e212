// The city map: districts from the city's own GeoJSON (no tiles needed, so it works offline; a tile
// or style URL may be configured), and one source per located entity type, clustered when large.
import * as maplibregl from 'maplibre-gl';
import type { GeoJSONSource, MapGeoJSONFeature, MapMouseEvent, StyleSpecification } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
// MapLibre's worker, bundled by Vite as an ES module beside the page (no CDN).
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url';
import { queryAll } from './api';
import { AIR_TYPE, Feature, Layer, collection, hiddenTypes, layers } from './layers';
import { BANDS, NO_DATA_COLOR } from './aqi';
import { h, replace } from './dom';

type GeoData = Parameters<GeoJSONSource['setData']>[0];
import { t, tOr } from './i18n';

export interface MapConfig { styleUrl?: string; center: [number, number]; zoom: number }

let map: maplibregl.Map;
const dirty = new Set<Layer>();
let flushScheduled = false;
const renderWaiters: Array<() => void> = [];
export const districts: Feature[] = [];

export function getMap(): maplibregl.Map { return map; }

function baseStyle(): StyleSpecification {
  return {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#0f1b2a' } }],
  };
}

// The worker starts loading as the page's script runs, not when the map is made (after config.json).
maplibregl.setWorkerUrl(workerUrl);
maplibregl.prewarm();

export async function createMap(config: MapConfig, onPick: (id: string, layerShort: string) => void): Promise<void> {
  // The districts are fetched while the map sets itself up (WebGL, style, worker).
  const districtEntities = queryAll<{ id: string; geometry: Feature['geometry']; properties: Record<string, unknown> }>(
    { type: 'District', options: 'keyValues', omit: 'centroid' }, undefined, 'application/geo+json');
  map = new maplibregl.Map({
    container: 'map',
    style: config.styleUrl || baseStyle(),
    center: config.center,
    zoom: config.zoom,
    attributionControl: false,
    fadeDuration: 0,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');
  map.on('render', () => { for (const waiter of renderWaiters.splice(0)) waiter(); });
  await new Promise<void>(resolve => map.once('load', () => resolve()));
  for (const d of await districtEntities) {
    if (d.geometry) districts.push({ type: 'Feature', geometry: d.geometry, properties: { id: d.id, name: String(d.properties.name ?? d.id) } });
  }
  map.addSource('districts', { type: 'geojson', data: { type: 'FeatureCollection', features: districts } as unknown as GeoData });
  map.addLayer({ id: 'district-fill', type: 'fill', source: 'districts', paint: { 'fill-color': '#1d3557', 'fill-opacity': config.styleUrl ? 0.15 : 0.85 } });
  map.addLayer({ id: 'district-line', type: 'line', source: 'districts', paint: { 'line-color': '#8ecae6', 'line-width': 1.2 } });
  map.addLayer({ id: 'district-hover', type: 'line', source: 'districts', paint: { 'line-color': '#ffd166', 'line-width': 3 }, filter: ['==', ['get', 'id'], ''] });
  if (districts.length) fitTo(districts);

  map.on('mousemove', 'district-fill', (e: MapMouseEvent & { features?: MapGeoJSONFeature[] }) => {
    const f = e.features?.[0];
    map.setFilter('district-hover', ['==', ['get', 'id'], f ? String(f.properties.id) : '']);
    map.getCanvas().title = f ? String(f.properties.name) : '';
  });
  map.on('click', (e: MapMouseEvent) => {
    const pointLayers = [...layers.values()].flatMap(l => [`pts-${l.short}`, `clu-${l.short}`]).filter(id => map.getLayer(id));
    const hits: MapGeoJSONFeature[] = map.queryRenderedFeatures(e.point, { layers: pointLayers });
    const ring = (f: MapGeoJSONFeature): number => (f.layer.id === 'pts-Alert' || f.layer.id === 'pts-Incident' ? 1 : 0);
    const hit = [...hits].sort((a, b) => ring(a) - ring(b))[0];
    if (hit) {
      const props = hit.properties as Record<string, unknown>;
      if (props.cluster) {
        const source = map.getSource(hit.source) as GeoJSONSource;
        void source.getClusterExpansionZoom(Number(props.cluster_id)).then(zoom =>
          map.easeTo({ center: (hit.geometry as unknown as { coordinates: [number, number] }).coordinates, zoom }));
        return;
      }
      onPick(String(props.id), String(props.type));
      return;
    }
    const district = map.queryRenderedFeatures(e.point, { layers: ['district-fill'] })[0];
    if (district) onPick(String(district.properties.id), 'District');
  });
}

function fitTo(features: Feature[]): void {
  const bounds = new maplibregl.LngLatBounds();
  const visit = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') bounds.extend(c as [number, number]);
    else if (Array.isArray(c)) c.forEach(visit);
  };
  features.forEach(f => visit(f.geometry.coordinates));
  if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 30, animate: false });
}

export function addLayer(layer: Layer): void {
  const id = layer.short;
  const existing = map.getSource(`src-${id}`) as GeoJSONSource | undefined;
  if (existing) {
    existing.setData(collection(layer) as unknown as GeoData);
    return;
  }
  map.addSource(`src-${id}`, {
    type: 'geojson',
    data: collection(layer) as unknown as GeoData,
    cluster: layer.cluster,
    clusterRadius: 40,
    clusterMaxZoom: 12,
  });
  const isAir = id === AIR_TYPE;
  if (layer.cluster) {
    map.addLayer({
      id: `clu-${id}`, type: 'circle', source: `src-${id}`, filter: ['has', 'point_count'],
      paint: {
        'circle-color': layer.color, 'circle-opacity': 0.75, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1,
        'circle-radius': ['interpolate', ['linear'], ['get', 'point_count'], 2, 10, 100, 18, 1000, 28],
      },
    });
  }
  // Alerts and incidents are rings around what they concern, so the station's own colour stays visible.
  const ring = id === 'Alert' || id === 'Incident';
  map.addLayer({
    id: `pts-${id}`, type: 'circle', source: `src-${id}`, filter: ['!', ['has', 'point_count']],
    paint: ring ? {
      'circle-color': layer.color, 'circle-opacity': 0, 'circle-stroke-color': layer.color, 'circle-stroke-width': 2.5,
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 7, id === 'Alert' ? 11 : 15, 13, id === 'Alert' ? 17 : 22],
    } : {
      'circle-color': ['get', '_color'],
      'circle-radius': isAir ? ['interpolate', ['linear'], ['zoom'], 7, 7, 13, 12] : ['interpolate', ['linear'], ['zoom'], 7, 3, 14, 7],
      'circle-stroke-color': isAir ? '#ffffff' : '#0f1b2a', 'circle-stroke-width': isAir ? 1.5 : 1,
    },
  });
  for (const top of ON_TOP) if (map.getLayer(top)) map.moveLayer(top);
}

// Stations, then alerts and incidents around them, stay above the other layers.
const ON_TOP = [`pts-${AIR_TYPE}`, 'pts-Alert', 'pts-Incident'];

// Pushes changed layers to the map once per frame, however many notifications arrived.
export function refresh(layer: Layer): void {
  dirty.add(layer);
  if (flushScheduled) return;
  flushScheduled = true;
  requestAnimationFrame(() => {
    flushScheduled = false;
    for (const l of dirty) {
      const source = map.getSource(`src-${l.short}`) as GeoJSONSource | undefined;
      if (source) source.setData(collection(l) as unknown as GeoData);
      else addLayer(l);
    }
    dirty.clear();
  });
}

// Resolves after the map has drawn a frame showing `id` with `color` (used to time live updates).
export function whenRendered(check: () => boolean, timeoutMs = 5000): Promise<number> {
  const started = performance.now();
  return new Promise(resolve => {
    const test = (): void => {
      if (check() || performance.now() - started > timeoutMs) resolve(performance.timeOrigin + performance.now());
      else { renderWaiters.push(test); map.triggerRepaint(); }
    };
    renderWaiters.push(test);
    map.triggerRepaint();
  });
}

// The colour the map draws a point with, read from the rendered features (what the user sees).
export function renderedColor(id: string, short: string): string | undefined {
  const f = map.queryRenderedFeatures({ layers: [`pts-${short}`] }).find((x: MapGeoJSONFeature) => x.properties.id === id);
  return f ? String(f.properties._color) : undefined;
}

export function flyTo(geometry: Feature['geometry']): void {
  if (geometry.type === 'Point') map.flyTo({ center: geometry.coordinates as [number, number], zoom: Math.max(map.getZoom(), 12), duration: 600 });
  else fitTo([{ type: 'Feature', geometry, properties: {} }]);
}

// The dispatched units' routes: a line from each unit to its incident.
export function setRoutes(routes: Array<{ incident: string; unit: string; from: [number, number]; to: [number, number]; distanceM: number }>): void {
  if (!map) return;
  const data = { type: 'FeatureCollection', features: routes.map(r => ({ type: 'Feature', geometry: { type: 'LineString', coordinates: [r.from, r.to] },
    properties: { incident: r.incident, unit: r.unit, distanceM: Math.round(r.distanceM) } })) } as unknown as GeoData;
  const source = map.getSource('routes') as GeoJSONSource | undefined;
  if (source) { source.setData(data); return; }
  map.addSource('routes', { type: 'geojson', data });
  map.addLayer({ id: 'route-line', type: 'line', source: 'routes', layout: { 'line-cap': 'round' },
    paint: { 'line-color': '#ffb300', 'line-width': 3, 'line-dasharray': [2, 1.5] } });
  for (const top of ON_TOP) if (map.getLayer(top)) map.moveLayer(top);
}

export function fitRoute(from: [number, number], to: [number, number]): void {
  map.fitBounds(new maplibregl.LngLatBounds(from, from).extend(to), { padding: { top: 80, bottom: 160, left: 260, right: 120 }, maxZoom: 14, duration: 600 });
}

export function setLayerVisible(layer: Layer, visible: boolean): void {
  for (const id of [`pts-${layer.short}`, `clu-${layer.short}`])
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
}

// The AQI levels, and each other layer with its count; clicking a layer hides or shows it.
export function renderLegend(el: HTMLElement, onToggle?: (layer: Layer) => void): void {
  const items = [...layers.values()].filter(l => l.short !== AIR_TYPE && l.features.size).map(l =>
    h('li', { class: hiddenTypes.has(l.typeIri) ? 'layer-item off' : 'layer-item', 'data-layer': l.short, title: t('legend.toggle'),
      onclick: () => onToggle?.(l) },
      h('span', { class: 'dot', style: `background:${l.color}` }), `${tOr(`layer.${l.short}`, l.short)} (${l.features.size})`));
  replace(el,
    h('div', { class: 'legend-title' }, t('aqi.title')),
    h('ul', {}, ...BANDS.map((b, i) => h('li', {}, h('span', { class: 'dot', style: `background:${b.color}` }),
      `${i === 0 ? 0 : BANDS[i - 1].max + 1}${b.max === Infinity ? '+' : `–${b.max}`} ${t(b.key)}`)),
      h('li', {}, h('span', { class: 'dot', style: `background:${NO_DATA_COLOR}` }), t('aqi.none'))),
    items.length ? h('ul', {}, ...items) : null);
}
