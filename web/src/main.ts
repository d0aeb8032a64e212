// The CityTwin operations console: map, alerts and incidents, rules, devices and dashboard.
import './style.css';
import { ALERT_TYPE, Entity, setTenant, shortName } from './api';
import { $, h, replace } from './dom';
import { applyStatic, currentLang, onLangChange, setLang, setTimeZone, t } from './i18n';
import { AIR_TYPE, Layer, NOT_ON_MAP, hiddenTypes, knownTypes, layers, loadLayer, loadLayers, mergeEntities } from './layers';
import { addLayer, createMap, districts, fitRoute, flyTo, getMap, refresh, renderLegend, renderedColor, setLayerVisible, setRoutes, whenRendered } from './map';
import { closePanel, openEntity, openedEntity, render as renderPanel } from './panel';
import * as live from './live';
import * as timeMachine from './timemachine';
import * as alertsView from './alerts';
import * as rulesView from './rules';
import * as devicesView from './devices';
import * as dashboard from './dashboard';

interface Config { styleUrl?: string; timeZone?: string; tenant?: string; center?: [number, number]; zoom?: number }

// What the browser tests read (the page's own state, not a second implementation).
const probe = {
  ready: false, readyAt: 0,
  updates: {} as Record<string, { at: number; color: string }>,
  received: {} as Record<string, number>,  // when a notification about the entity arrived (epoch ms)
  renderedColor, layers, getMap, live: live.stats, setCycleMs: dashboard.setCycleMs,
};
(window as unknown as { citytwin: typeof probe }).citytwin = probe;

const VIEWS = ['map', 'alerts', 'rules', 'devices', 'dashboard'] as const;
type View = typeof VIEWS[number];

async function readConfig(): Promise<Config> {
  try {
    const r = await fetch('/config.json', { cache: 'no-cache' });
    return r.ok ? (await r.json()) as Config : {};
  } catch { return {}; }
}

function currentView(): View {
  const v = location.hash.replace(/^#\/?/, '').split('?')[0] as View;
  return VIEWS.includes(v) ? v : 'map';
}

function renderNav(): void {
  const view = currentView();
  replace($('#nav'), ...VIEWS.map(v => h('a', { href: `#/${v}`, class: v === view ? 'active' : '', 'data-view': v }, t(`nav.${v}`))));
  ($('#search') as HTMLInputElement).placeholder = t('search.placeholder');
  $('#lang-toggle').textContent = t('lang.switch');
  document.title = t('app.title');
}

function showView(): void {
  const view = currentView();
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  renderNav();
  if (view === 'alerts') alertsView.render();
  if (view === 'rules') void rulesView.loadRules().catch(() => rulesView.render());
  if (view === 'devices') void devicesView.loadDevices().catch(() => devicesView.render());
  if (view === 'dashboard') void dashboard.loadDashboard();
  if (view === 'map') getMap()?.resize();
  void import('./charts').then(c => c.resizeAll(document));
}

function renderAll(): void {
  renderNav();
  live.updateBadge();
  renderLegend($('#legend'), toggleLayer);
  timeMachine.render();
  alertsView.render();
  rulesView.render();
  devicesView.render();
  dashboard.render();
  void renderPanel();
}

// Search by id or name over everything on the map and the districts.
function setUpSearch(): void {
  const input = $('#search') as HTMLInputElement;
  const results = $('#search-results');
  input.addEventListener('input', () => {
    const q = input.value.trim().toLowerCase();
    if (!q) { results.hidden = true; return; }
    const hits: Array<{ id: string; name: string; short: string; geometry: { type: string; coordinates: unknown } }> = [];
    for (const d of districts) if (`${d.properties.id} ${d.properties.name}`.toLowerCase().includes(q)) hits.push({ id: String(d.properties.id), name: String(d.properties.name), short: 'District', geometry: d.geometry });
    for (const l of layers.values()) for (const f of l.features.values()) {
      if (hits.length >= 20) break;
      if (`${f.properties.id} ${f.properties.name ?? ''}`.toLowerCase().includes(q)) hits.push({ id: String(f.properties.id), name: String(f.properties.name ?? ''), short: l.short, geometry: f.geometry });
    }
    replace(results, ...hits.slice(0, 20).map(hit => h('button', { type: 'button', class: 'hit', 'data-id': hit.id, onclick: () => {
      results.hidden = true;
      input.value = '';
      location.hash = '#/map';
      flyTo(hit.geometry);
      void openEntity(hit.id, hit.short);
    } }, h('b', {}, hit.name || hit.id), h('span', { class: 'muted small' }, ` ${hit.id}`))));
    results.hidden = hits.length === 0;
  });
}

function onLayerEntities(layer: Layer, entities: Entity[]): void {
  const now = performance.timeOrigin + performance.now();
  for (const e of entities) probe.received[e.id] = now;
  if (!mergeEntities(layer, entities)) return;
  refresh(layer);
  if (layer.short === AIR_TYPE) {
    for (const e of entities) {
      const f = layer.features.get(e.id);
      if (!f) continue;
      const color = String(f.properties._color);
      void whenRendered(() => renderedColor(e.id, layer.short) === color).then(at => { probe.updates[e.id] = { at, color }; });
    }
  }
  if (openedEntity() && entities.some(e => e.id === openedEntity())) void renderPanel();
  if (currentView() === 'dashboard') dashboard.onLiveUpdate();
  renderLegend($('#legend'), toggleLayer);
}

// Changes from the live stream, by entity type: to their layer (a new located type gets one), the
// alert and incident lists, the devices and the dashboard's indicators.
function onEntities(entities: Entity[]): void {
  const byType = new Map<string, Entity[]>();
  for (const e of entities) {
    const type = Array.isArray(e.type) ? String(e.type[0]) : String(e.type);
    const list = byType.get(type) ?? [];
    list.push(e);
    byType.set(type, list);
  }
  for (const [type, list] of byType) {
    const short = shortName(type);
    if (type === ALERT_TYPE) alertsView.mergeAlerts(list);
    if (short === 'Incident') alertsView.mergeIncidents(list);
    if (short === 'Device' && currentView() === 'devices') void devicesView.loadDevices();
    for (const e of list) devicesView.mergeEntity(e);
    if (short === 'KeyPerformanceIndicator') dashboard.mergeKpis(list);
    const layer = layers.get(type);
    if (layer) onLayerEntities(layer, list);
    else if (!NOT_ON_MAP.has(short) && list.some(e => e.location && !e.deletedAt)) void ensureLayer(type).then(l => onLayerEntities(l, list));
    if (short === 'ResponseUnit' || short === 'Incident') updateRoutes();
  }
}

// What the server streams: every type (or, with layers hidden, every other known type), and the
// located entities within the map's view (with a margin); alerts, incidents and units everywhere.
function updateFilter(): void {
  const map = getMap();
  if (!map) return;
  const b = map.getBounds();
  const dx = (b.getEast() - b.getWest()) * 0.25;
  const dy = (b.getNorth() - b.getSouth()) * 0.25;
  const everywhere = [ALERT_TYPE, 'Incident', 'ResponseUnit'];
  const types = hiddenTypes.size ? [...new Set([...knownTypes, ...layers.keys(), ...everywhere])].filter(t => !hiddenTypes.has(t)) : undefined;
  live.setFilter({ types, bbox: [b.getWest() - dx, b.getSouth() - dy, b.getEast() + dx, b.getNorth() + dy], everywhere });
}

// Where a response unit is now (its feature on the map), for the dispatched units' routes.
function unitLocation(id: string): Entity['location'] | undefined {
  for (const l of layers.values()) {
    if (l.short !== 'ResponseUnit') continue;
    const f = l.features.get(id);
    if (f) return f.geometry as unknown as Entity['location'];
  }
  return undefined;
}

function updateRoutes(): void { if (getMap()) setRoutes(alertsView.routes(unitLocation)); }

function toggleLayer(layer: Layer): void {
  const hide = !hiddenTypes.has(layer.typeIri);
  if (hide) hiddenTypes.add(layer.typeIri); else hiddenTypes.delete(layer.typeIri);
  setLayerVisible(layer, !hide);
  updateFilter();
  renderLegend($('#legend'), toggleLayer);
}

async function ensureLayer(typeIri: string): Promise<Layer> {
  const existing = layers.get(typeIri);
  if (existing) return existing;
  const layer = await loadLayer(typeIri);
  addLayer(layer);
  return layer;
}

// Everything shown, reloaded (at a reset of the live stream: the server could not tell what was missed).
async function catchUp(): Promise<void> {
  await Promise.all([loadLayers(), alertsView.loadAlerts(), dashboard.loadDashboard()]);
  for (const l of layers.values()) { addLayer(l); refresh(l); }
  if (!timeMachine.isLive()) await timeMachine.goTo(undefined);
  renderAll();
}

async function start(): Promise<void> {
  performance.mark('script');
  const config = await readConfig();
  const params = new URLSearchParams(location.search);
  setTenant(params.get('tenant') ?? config.tenant ?? '');
  setTimeZone(config.timeZone ?? 'Asia/Shanghai');
  const lang = params.get('lang');
  setLang(lang === 'en' || lang === 'zh' ? lang : currentLang());
  applyStatic();
  renderNav();
  live.setBadge($('#live-badge'));
  $('#lang-toggle').addEventListener('click', () => setLang(currentLang() === 'zh' ? 'en' : 'zh'));
  onLangChange(renderAll);
  window.addEventListener('hashchange', showView);
  alertsView.mountAlerts($('#view-alerts'));
  alertsView.setUnitLocator(unitLocation);
  alertsView.onIncidentsChanged(updateRoutes);
  alertsView.onShowRoute(id => {
    const route = alertsView.routes(unitLocation).find(r => r.incident === id);
    location.hash = '#/map';
    if (route) fitRoute(route.from, route.to);
  });
  rulesView.mountRules($('#view-rules'));
  devicesView.mountDevices($('#view-devices'));
  setUpSearch();
  document.addEventListener('keydown', e => {
    if (e.key !== 'Escape') return;
    if (document.body.classList.contains('big')) dashboard.toggleBigScreen(false);
    else closePanel();
  });

  // The live stream opens first: its hello marks the changes the loads below already include. The
  // entities are asked for before the map sets itself up (WebGL and style set-up hold the page's
  // thread for a while in software GL, and would hold back the hello and the requests behind it);
  // the changes that arrive meanwhile are applied once both are there.
  const hello = live.start({ onEntities, reload: catchUp });
  const styleUrl = params.get('style') ?? config.styleUrl;
  await live.whileHolding(async () => {
    await Promise.race([hello, new Promise(r => setTimeout(r, 3000))]);
    const data = Promise.all([
      loadLayers().then(() => performance.mark('data')),
      alertsView.loadAlerts().catch(() => {}),
    ]);
    await new Promise(r => setTimeout(r, 0));  // the requests leave before the map takes the thread
    await Promise.all([data, createMap({ styleUrl: styleUrl || undefined, center: config.center ?? [116.4, 40.05], zoom: config.zoom ?? 7.6 },
      (id, short) => void openEntity(id, short))]);
    for (const layer of layers.values()) addLayer(layer);
  });
  performance.mark('map');
  renderLegend($('#legend'), toggleLayer);
  timeMachine.mountTimeMachine($('#timemachine'));
  void timeMachine.setRange();
  dashboard.mountDashboard($('#view-dashboard'));
  updateFilter();
  updateRoutes();
  getMap().on('moveend', updateFilter);
  showView();
  // Usable: every layer's data is drawn (the map went idle after its sources loaded).
  const map = getMap();
  const loaded = (): boolean => [...layers.values()].every(l => map.isSourceLoaded(`src-${l.short}`)) && map.isSourceLoaded('districts');
  const markReady = (): void => {
    if (!loaded()) { map.once('idle', markReady); return; }
    probe.ready = true;
    probe.readyAt = performance.now();
    document.body.dataset.ready = 'true';
  };
  map.once('idle', markReady);
  map.triggerRepaint();
}

void start().catch(e => {
  document.body.dataset.ready = 'error';
  replace($('#legend'), h('div', { class: 'error' }, `${t('common.error')}: ${(e as Error).message}`));
});
