// The dashboards: an overview (counts the console computes from what it shows, AQI by station,
// alerts by severity, incident response times) and one per smart application (appboards.ts), as tabs;
// a big-screen mode (大屏) for a 1920×1080 wall that cycles through them, the map and the alerts.
import { Entity, api, plainValue, queryAll, shortName, typeAlternatives } from './api';
import { bandColor, stationIndex } from './aqi';
// ECharts is loaded on first use, so the map is usable sooner.
const charts = (): Promise<typeof import('./charts')> => import('./charts');
import { display, h, replace } from './dom';
import { t, tOr } from './i18n';
import { activeAlerts, incidents, meanResponseTimes } from './alerts';
import { AIR_TYPE, layerOfShort } from './layers';
import { KPI_CONTEXT, appsOf, renderApp } from './appboards';

const SEVERITY_COLORS: Record<string, string> = { critical: '#7e0023', high: '#c62828', medium: '#ef6c00', low: '#9e9d24', informational: '#546e7a' };
let root: HTMLElement | undefined;
let kpis: Entity[] = [];
let devicesOnline = '–';
let cycle: number | undefined;
let cycleMs = 20_000;
let version = 0;

// Attribute names as the model's terms whatever @context they came back with.
const short = (e: Entity): Entity => Object.fromEntries(Object.entries(e).map(([k, v]) => [k === 'id' || k === 'type' ? k : shortName(k), v])) as Entity;

export async function loadDashboard(): Promise<void> {
  const [k, d] = await Promise.all([
    queryAll({ type: typeAlternatives('KeyPerformanceIndicator', 'dataModel.KeyPerformanceIndicator'), options: 'keyValues' }, KPI_CONTEXT).catch(() => []),
    api<{ devices?: Array<{ deviceState?: string }> }>('/iot/devices?limit=1000').catch(() => ({ devices: [] })),
  ]);
  kpis = k.map(short);
  const list = d.devices ?? [];
  devicesOnline = `${list.filter(x => x.deviceState === 'online').length} / ${list.length}`;
  render();
}

// KeyPerformanceIndicator changes from the live stream.
export function mergeKpis(entities: Entity[]): void {
  const byId = new Map(kpis.map(k => [k.id, k]));
  for (const e of entities) {
    if (e.deletedAt) byId.delete(e.id);
    else byId.set(e.id, { ...byId.get(e.id), ...short(e) });
  }
  kpis = [...byId.values()];
  // Only the tiles change on a live update; charts are redrawn when the tab is opened.
  if (root && !root.hidden) render();
}

// A change of what the overview counts: redrawn if the overview is shown (the applications' charts
// are redrawn when their KPIs change).
export function onLiveUpdate(): void { if (!currentApp()) render(); }

export function mountDashboard(el: HTMLElement): void { root = el; void loadDashboard(); }

// The tab shown: #/dashboard (overview) or #/dashboard?app=<application>.
function currentApp(): string { return new URLSearchParams(location.hash.split('?')[1] ?? '').get('app') ?? ''; }

export function setCycleMs(ms: number): void { cycleMs = ms; }

// The screens the big-screen mode shows in turn.
export function bigScreenViews(): string[] {
  return ['#/dashboard', ...appsOf(kpis).map(a => `#/dashboard?app=${a}`), '#/map', '#/alerts'];
}

export function toggleBigScreen(on = !document.body.classList.contains('big')): void {
  document.body.classList.toggle('big', on);
  if (cycle) { clearInterval(cycle); cycle = undefined; }
  if (on) {
    void document.documentElement.requestFullscreen?.().catch(() => {});
    let i = Math.max(0, bigScreenViews().indexOf(location.hash));
    cycle = window.setInterval(() => {
      const views = bigScreenViews();
      i = (i + 1) % views.length;
      location.hash = views[i];
    }, cycleMs);
  } else if (document.fullscreenElement) {
    void document.exitFullscreen();
  }
  render();
}

function tile(key: string, value: string, color?: string): HTMLElement {
  return h('div', { class: 'tile', 'data-kpi': key }, h('div', { class: 'tile-value', style: color ? `color:${color}` : undefined }, value),
    h('div', { class: 'tile-label' }, t(key)));
}

export function render(): void {
  if (!root || root.hidden) return;
  const mine = ++version;
  const app = currentApp();
  const apps = appsOf(kpis);
  const body = h('div', { id: 'dash-body', 'data-app': app || 'overview' });
  replace(root,
    h('div', { class: 'row' }, h('h2', {}, t('dash.title')),
      h('button', { type: 'button', id: 'big-screen', onclick: () => toggleBigScreen() }, document.body.classList.contains('big') ? t('dash.exit') : t('dash.bigScreen'))),
    h('nav', { class: 'tabs', id: 'dash-tabs' },
      h('a', { href: '#/dashboard', class: app ? '' : 'active', 'data-app': 'overview' }, t('dash.overview')),
      ...apps.map(a => h('a', { href: `#/dashboard?app=${a}`, class: a === app ? 'active' : '', 'data-app': a }, tOr(`app.${a}`, a)))),
    body);
  const isCurrent = (): boolean => mine === version && !root?.hidden;
  if (app) void renderApp(body, app, kpis, isCurrent);
  else void renderOverview(body, isCurrent);
}

async function renderOverview(body: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const air = layerOfShort(AIR_TYPE);
  const stations = [...(air?.features.values() ?? [])].map(f => ({ name: String(f.properties.name ?? f.properties.id), index: stationIndex(f.properties) }));
  const indexed = stations.filter(s => s.index !== undefined) as Array<{ name: string; index: number }>;
  const mean = indexed.length ? Math.round(indexed.reduce((a, s) => a + s.index, 0) / indexed.length) : undefined;
  const open = activeAlerts();
  const openIncidents = [...incidents.values()].filter(i => !['resolved', 'closed'].includes(String(plainValue(i.status ?? null))));
  const times = meanResponseTimes();
  const secs = (v: number | undefined): string => (v === undefined ? '–' : `${display(Math.round(v))} s`);
  const aqiChart = h('div', { class: 'chart big-chart', id: 'chart-aqi' });
  const sevChart = h('div', { class: 'chart big-chart', id: 'chart-severity' });
  replace(body,
    h('div', { class: 'tiles' },
      tile('dash.stations', String(stations.length)),
      tile('dash.meanAqi', mean === undefined ? '–' : String(mean), bandColor(mean)),
      tile('dash.activeAlerts', String(open.length)),
      tile('dash.openIncidents', String(openIncidents.length)),
      tile('dash.devicesOnline', devicesOnline),
      tile('dash.timeToAcknowledge', secs(times.timeToAcknowledge)),
      tile('dash.timeToDispatch', secs(times.timeToDispatch)),
      tile('dash.timeToResolve', secs(times.timeToResolve))),
    h('div', { class: 'charts' }, h('div', {}, h('h3', {}, t('dash.aqiByStation')), aqiChart), h('div', {}, h('h3', {}, t('dash.alertsBySeverity')), sevChart)));
  const { chart } = await charts();
  if (!isCurrent()) return;
  indexed.sort((a, b) => b.index - a.index);
  chart(aqiChart, {
    grid: { left: 110, right: 20, top: 10, bottom: 20 },
    xAxis: { type: 'value' }, yAxis: { type: 'category', data: indexed.map(s => s.name), inverse: true },
    tooltip: {},
    series: [{ type: 'bar', data: indexed.map(s => ({ value: s.index, itemStyle: { color: bandColor(s.index) } })) }],
  });
  const bySeverity = new Map<string, number>();
  for (const a of open) { const s = String(plainValue(a.severity ?? null)); bySeverity.set(s, (bySeverity.get(s) ?? 0) + 1); }
  chart(sevChart, {
    tooltip: {}, legend: { bottom: 0, textStyle: { color: '#ddd' } },
    series: [{ type: 'pie', radius: ['40%', '70%'], data: [...bySeverity].map(([k, v]) => ({ name: t(`severity.${k}`), value: v, itemStyle: { color: SEVERITY_COLORS[k] ?? '#607d8b' } })) }],
  });
}
