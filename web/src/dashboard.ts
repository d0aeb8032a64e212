// The dashboard: KPI tiles (the twin's KeyPerformanceIndicator entities, and counts the console
// computes from what it shows), AQI by station and alerts by severity; a big-screen mode (大屏) for a
// 1920×1080 wall that cycles through the views.
import { Entity, api, plainValue, queryAll, typeAlternatives } from './api';
import { bandColor, stationIndex } from './aqi';
// ECharts is loaded on first use, so the map is usable sooner.
const charts = (): Promise<typeof import('./charts')> => import('./charts');
import { display, h, replace } from './dom';
import { t } from './i18n';
import { activeAlerts, incidents } from './alerts';
import { AIR_TYPE, layerOfShort } from './layers';

const SEVERITY_COLORS: Record<string, string> = { critical: '#7e0023', high: '#c62828', medium: '#ef6c00', low: '#9e9d24', informational: '#546e7a' };
let root: HTMLElement | undefined;
let kpis: Entity[] = [];
let devicesOnline = '–';
let cycle: number | undefined;

export async function loadDashboard(): Promise<void> {
  const [k, d] = await Promise.all([
    queryAll({ type: typeAlternatives('KeyPerformanceIndicator', 'dataModel.KeyPerformanceIndicator'), options: 'keyValues' }).catch(() => []),
    api<{ devices?: Array<{ deviceState?: string }> }>('/iot/devices?limit=1000').catch(() => ({ devices: [] })),
  ]);
  kpis = k;
  const list = d.devices ?? [];
  devicesOnline = `${list.filter(x => x.deviceState === 'online').length} / ${list.length}`;
  render();
}

export function mountDashboard(el: HTMLElement): void { root = el; void loadDashboard(); }

function tile(key: string, value: string, color?: string): HTMLElement {
  return h('div', { class: 'tile', 'data-kpi': key }, h('div', { class: 'tile-value', style: color ? `color:${color}` : undefined }, value), h('div', { class: 'tile-label' }, key.startsWith('dash.') ? t(key) : key));
}

export function toggleBigScreen(on = !document.body.classList.contains('big')): void {
  document.body.classList.toggle('big', on);
  if (cycle) { clearInterval(cycle); cycle = undefined; }
  if (on) {
    void document.documentElement.requestFullscreen?.().catch(() => {});
    const views = ['#/dashboard', '#/map', '#/alerts'];
    let i = 0;
    cycle = window.setInterval(() => { i = (i + 1) % views.length; location.hash = views[i]; }, 20_000);
  } else if (document.fullscreenElement) {
    void document.exitFullscreen();
  }
  render();
}

export function render(): void { void renderCharts(); }

async function renderCharts(): Promise<void> {
  const { chart } = await charts();
  if (!root || root.hidden) return;
  const air = layerOfShort(AIR_TYPE);
  const stations = [...(air?.features.values() ?? [])].map(f => ({ name: String(f.properties.name ?? f.properties.id), index: stationIndex(f.properties) }));
  const indexed = stations.filter(s => s.index !== undefined) as Array<{ name: string; index: number }>;
  const mean = indexed.length ? Math.round(indexed.reduce((a, s) => a + s.index, 0) / indexed.length) : undefined;
  const open = activeAlerts();
  const openIncidents = [...incidents.values()].filter(i => !['resolved', 'closed'].includes(String(plainValue(i.status ?? null))));
  const kpiTiles = kpis.map(k => tile(String(plainValue(k.name ?? null) ?? k.id), display(plainValue(k.kpiValue ?? null))));
  const aqiChart = h('div', { class: 'chart big-chart', id: 'chart-aqi' });
  const sevChart = h('div', { class: 'chart big-chart', id: 'chart-severity' });
  replace(root,
    h('div', { class: 'row' }, h('h2', {}, t('dash.title')),
      h('button', { type: 'button', id: 'big-screen', onclick: () => toggleBigScreen() }, document.body.classList.contains('big') ? t('dash.exit') : t('dash.bigScreen'))),
    h('div', { class: 'tiles' },
      tile('dash.stations', String(stations.length)),
      tile('dash.meanAqi', mean === undefined ? '–' : String(mean), bandColor(mean)),
      tile('dash.activeAlerts', String(open.length)),
      tile('dash.openIncidents', String(openIncidents.length)),
      tile('dash.devicesOnline', devicesOnline)),
    kpiTiles.length ? h('h3', {}, t('dash.kpis')) : null,
    kpiTiles.length ? h('div', { class: 'tiles' }, ...kpiTiles) : null,
    h('div', { class: 'charts' }, h('div', {}, h('h3', {}, t('dash.aqiByStation')), aqiChart), h('div', {}, h('h3', {}, t('dash.alertsBySeverity')), sevChart)));
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
