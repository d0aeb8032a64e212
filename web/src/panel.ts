// The entity panel: current attributes by their Smart Data Model names and charts of their history.
import { ALERT_TYPE, Json, NGSI, api, contextForType, plainValue, shortName } from './api';
// ECharts is loaded on first use, so the map is usable sooner.
const charts = (): Promise<typeof import('./charts')> => import('./charts');
import { display, h, replace } from './dom';
import { formatTime, t, tOr } from './i18n';
import { layerOfShort } from './layers';

type NormalizedAttr = { type?: string; value?: Json; object?: Json; observedAt?: string; unitCode?: string };
type Temporal = Record<string, { values?: Array<[number, string]> } | Array<{ values?: Array<[number, string]> }> | string>;

let current: { id: string; short: string } | undefined;
let version = 0;

export function openEntity(id: string, short: string): Promise<void> {
  current = { id, short };
  return render();
}
export function closePanel(): void {
  current = undefined;
  document.getElementById('panel')!.hidden = true;
}
export function openedEntity(): string | undefined { return current?.id; }

export async function render(): Promise<void> {
  const panel = document.getElementById('panel')!;
  if (!current) return;
  const { id, short } = current;
  const mine = ++version;
  panel.hidden = false;
  const layer = layerOfShort(short);
  const link = short === 'Alert' ? contextForType(ALERT_TYPE) : layer?.link;
  let entity: Record<string, Json>;
  try {
    entity = await api<Record<string, Json>>(`${NGSI}/entities/${encodeURIComponent(id)}`, { link });
  } catch (e) {
    replace(panel, h('div', { class: 'error' }, `${t('common.error')}: ${(e as Error).message}`));
    return;
  }
  if (mine !== version) return;
  const rows: HTMLElement[] = [];
  const numeric: string[] = [];
  for (const [name, raw] of Object.entries(entity)) {
    if (name === 'id' || name === 'type' || name === '@context') continue;
    const attr = (Array.isArray(raw) ? raw[0] : raw) as NormalizedAttr;
    const value = plainValue((attr?.value ?? attr?.object ?? null) as Json);
    if (typeof value === 'number') numeric.push(name);
    rows.push(h('tr', { 'data-attr': shortName(name) },
      h('th', {}, tOr(`attr.${shortName(name)}`, shortName(name))),
      h('td', {}, display(value), attr?.unitCode ? h('span', { class: 'unit' }, ` ${attr.unitCode}`) : null),
      h('td', { class: 'muted' }, attr?.observedAt ? formatTime(attr.observedAt) : '')));
  }
  const chartEl = h('div', { class: 'chart', id: 'history-chart' });
  replace(panel,
    h('div', { class: 'panel-head' },
      h('div', {}, h('div', { class: 'panel-title' }, display(plainValue((entity.name as NormalizedAttr | undefined)?.value ?? id))),
        h('div', { class: 'muted small' }, `${tOr(`layer.${short}`, shortName(String(entity.type)))} · ${id}`)),
      h('button', { type: 'button', class: 'close', title: t('panel.close'), onclick: closePanel }, '×')),
    h('h3', {}, t('panel.attributes')),
    h('table', { class: 'attrs' }, h('thead', {}, h('tr', {}, h('th', {}, t('panel.attribute')), h('th', {}, t('panel.value')), h('th', {}, t('panel.observedAt')))),
      h('tbody', {}, ...rows)),
    h('h3', {}, t('panel.history')),
    chartEl);
  if (!numeric.length) { replace(chartEl, h('div', { class: 'muted' }, t('panel.noHistory'))); return; }
  const attrs = numeric.slice(0, 6);
  let temporal: Temporal;
  try {
    temporal = await api<Temporal>(`${NGSI}/temporal/entities/${encodeURIComponent(id)}?attrs=${attrs.map(encodeURIComponent).join(',')}&options=temporalValues&lastN=500`, { link });
  } catch {
    replace(chartEl, h('div', { class: 'muted' }, t('panel.noHistory')));
    return;
  }
  if (mine !== version) return;
  const series = attrs.map(name => {
    const raw = temporal[name];
    const values = (Array.isArray(raw) ? raw[0]?.values : typeof raw === 'object' ? raw.values : undefined) ?? [];
    return { name: tOr(`attr.${shortName(name)}`, shortName(name)), type: 'line', showSymbol: false, data: values.map(([v, at]) => [at, v]) };
  }).filter(s => s.data.length);
  if (!series.length) { replace(chartEl, h('div', { class: 'muted' }, t('panel.noHistory'))); return; }
  (await charts()).chart(chartEl, {
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => display(v) },
    legend: { top: 0, textStyle: { color: '#ddd' }, selected: Object.fromEntries(series.map((s, i) => [s.name, i < 2])) },
    grid: { left: 40, right: 10, top: 30, bottom: 40 },
    xAxis: { type: 'time', axisLabel: { formatter: (v: number) => formatTime(v).replace(/^\d{4}[-/]/, '') } },
    yAxis: { type: 'value', scale: true },
    dataZoom: [{ type: 'inside' }],
    series,
  });
}
