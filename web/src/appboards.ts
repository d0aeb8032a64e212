// One dashboard per smart application, built from what the twin holds, so an application added to
// the server appears here without a console change:
// - its KeyPerformanceIndicator entities (SDM dataModel.KeyPerformanceIndicator, one per application,
//   indicator, frequency and area; id urn:ngsi-ld:KeyPerformanceIndicator:<app>:<indicator>:<freq>:<area>):
//   a tile per city-wide figure, a bar chart of each indicator by district, and for hourly indicators
//   kept per district a heatmap of district × hour from their history (the temporal API): for the
//   transport application, congestion by district and hour;
// - for the air application, the AQI calendar of the last 30 days per station (/city/v1/air/calendar).
import { Entity, Json, NGSI, api, plainValue, qs } from './api';
import { BANDS, bandColor } from './aqi';
import { display, h, replace } from './dom';
import { formatTime, t, tOr } from './i18n';
import { AIR_TYPE, layerOfShort } from './layers';
import { districts } from './map';
import { newest } from './timemachine';
const charts = (): Promise<typeof import('./charts')> => import('./charts');

export const KPI_TYPE = 'https://smartdatamodels.org/dataModel.KeyPerformanceIndicator/KeyPerformanceIndicator';
export const KPI_CONTEXT = 'https://raw.githubusercontent.com/smart-data-models/dataModel.KeyPerformanceIndicator/master/context.jsonld';
const PREFIX = 'urn:ngsi-ld:KeyPerformanceIndicator:';
const DAY = 86_400_000;

export interface Kpi { entity: Entity; app: string; indicator: string; frequency: string; area: string }

// The parts of a KPI entity's id (falls back on its attributes for ids of another shape).
export function kpiOf(e: Entity): Kpi {
  const parts = e.id.startsWith(PREFIX) ? e.id.slice(PREFIX.length).split(':') : [];
  const text = (v: Json | undefined): string => display(plainValue(v ?? null));
  return {
    entity: e,
    app: parts[0] || text(e.process) || 'other',
    indicator: parts[1] || text(e.name) || e.id,
    frequency: parts[2] || text(e.calculationFrequency),
    area: parts.length > 3 ? parts.slice(3).join(':') : text(e.area) || 'city',
  };
}

export function appsOf(kpis: Entity[]): string[] {
  const apps = new Set(kpis.map(k => kpiOf(k).app));
  if (layerOfShort(AIR_TYPE)) apps.add('air');
  return [...apps].sort();
}

const districtName = (id: string): string => String(districts.find(d => d.properties.id === id)?.properties.name ?? id);
export const indicatorLabel = (k: Kpi): string => tOr(`kpi.${k.indicator}`, display(plainValue(k.entity.name ?? null)) || k.indicator);
const frequencyLabel = (f: string): string => tOr(`freq.${f}`, f);

function tile(key: string, label: string, value: string, color?: string): HTMLElement {
  return h('div', { class: 'tile', 'data-kpi': key }, h('div', { class: 'tile-value', style: color ? `color:${color}` : undefined }, value),
    h('div', { class: 'tile-label' }, label));
}

// The dashboard of application `app` into `root`.
export async function renderApp(root: HTMLElement, app: string, all: Entity[], isCurrent: () => boolean): Promise<void> {
  const kpis = all.map(kpiOf).filter(k => k.app === app);
  const city = kpis.filter(k => k.area === 'city');
  const perDistrict = new Map<string, Kpi[]>();  // indicator/frequency → its district figures
  for (const k of kpis) if (k.area !== 'city') perDistrict.set(`${k.indicator}/${k.frequency}`, [...perDistrict.get(`${k.indicator}/${k.frequency}`) ?? [], k]);
  const barEls: Array<[HTMLElement, Kpi[]]> = [];
  const heatEls: Array<[HTMLElement, Kpi[]]> = [];
  const sections: HTMLElement[] = [];
  for (const [key, list] of perDistrict) {
    const bar = h('div', { class: 'chart', 'data-chart': `bar-${key}` });
    barEls.push([bar, list]);
    const title = `${indicatorLabel(list[0])} · ${frequencyLabel(list[0].frequency)}`;
    sections.push(h('div', {}, h('h3', {}, `${title} · ${t('dash.byDistrict')}`), bar));
    if (list[0].frequency === 'hourly') {
      const heat = h('div', { class: 'chart big-chart', 'data-chart': `heat-${key}`, 'data-heatmap': list[0].indicator });
      heatEls.push([heat, list]);
      sections.push(h('div', {}, h('h3', {}, `${indicatorLabel(list[0])} · ${t('dash.byDistrictHour')}`), heat));
    }
  }
  const calendar = app === 'air' ? h('div', { class: 'chart big-chart', id: 'aqi-calendar' }) : undefined;
  replace(root,
    h('h3', {}, tOr(`app.${app}`, app)),
    city.length ? h('div', { class: 'tiles' }, ...city.map(k => tile(`${k.indicator}/${k.frequency}`, `${indicatorLabel(k)} · ${frequencyLabel(k.frequency)}`,
      display(plainValue(k.entity.kpiValue ?? null)), k.indicator === 'meanAqi' ? bandColor(Number(plainValue(k.entity.kpiValue ?? null))) : undefined))) : null,
    !kpis.length && !calendar ? h('p', { class: 'muted' }, t('dash.noKpis')) : null,
    calendar ? h('div', {}, h('h3', {}, t('dash.aqiCalendar')), calendar) : h('span'),
    h('div', { class: 'charts' }, ...sections));
  const { chart } = await charts();
  if (!isCurrent()) return;
  for (const [el, list] of barEls) {
    const rows = list.map(k => ({ name: districtName(k.area), value: Number(plainValue(k.entity.kpiValue ?? null)) })).sort((a, b) => b.value - a.value);
    chart(el, { grid: { left: 110, right: 20, top: 10, bottom: 20 }, tooltip: {}, xAxis: { type: 'value' },
      yAxis: { type: 'category', inverse: true, data: rows.map(r => r.name) }, series: [{ type: 'bar', data: rows.map(r => r.value) }] });
  }
  for (const [el, list] of heatEls) void heatmap(el, list, isCurrent);
  if (calendar) void aqiCalendar(calendar, isCurrent);
}

type Temporal = { id: string; kpiValue?: { values?: Array<[number, string]> } | Array<{ values?: Array<[number, string]> }> };

// District × hour over the last 24 hours of the indicator's history.
async function heatmap(el: HTMLElement, list: Kpi[], isCurrent: () => boolean): Promise<void> {
  const series = await api<Temporal[]>(`${NGSI}/temporal/entities${qs({ id: list.map(k => k.entity.id).join(','), type: KPI_TYPE,
    attrs: 'kpiValue', options: 'temporalValues', lastN: 48, limit: 1000 })}`, { link: KPI_CONTEXT }).catch(() => []);
  const HOUR = 3_600_000;
  const points: Array<{ district: string; hour: number; value: number }> = [];
  for (const e of series) {
    const values = (Array.isArray(e.kpiValue) ? e.kpiValue[0]?.values : e.kpiValue?.values) ?? [];
    const k = list.find(x => x.entity.id === e.id);
    for (const [v, at] of values) if (typeof v === 'number' && k) points.push({ district: districtName(k.area), hour: Math.floor(Date.parse(at) / HOUR) * HOUR, value: v });
  }
  if (!isCurrent()) return;
  const last = Math.max(...points.map(p => p.hour), 0);
  const hours = Array.from({ length: 24 }, (_, i) => last - (23 - i) * HOUR);
  const names = [...new Set(list.map(k => districtName(k.area)))].sort();
  const data = points.filter(p => p.hour > last - 24 * HOUR).map(p => [hours.indexOf(p.hour), names.indexOf(p.district), Math.round(p.value * 10) / 10]);
  el.dataset.cells = String(data.length);
  const values = data.map(d => d[2]);
  const { chart } = await charts();
  chart(el, {
    tooltip: { position: 'top' }, grid: { left: 110, right: 20, top: 10, bottom: 70 },
    xAxis: { type: 'category', data: hours.map(x => formatTime(x).slice(-5)), splitArea: { show: true } },
    yAxis: { type: 'category', data: names, splitArea: { show: true } },
    visualMap: { min: Math.min(...values, 0), max: Math.max(...values, 1), calculable: true, orient: 'horizontal', left: 'center', bottom: 0,
      inRange: { color: ['#1a9850', '#fee08b', '#d73027'] }, textStyle: { color: '#ddd' } },
    series: [{ type: 'heatmap', data, label: { show: false } }],
  });
}

type Day = { date: string; aqi: number | null; level: string | null };

// Station × day over the 30 local days up to the newest observation, coloured by AQI level.
async function aqiCalendar(el: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const air = layerOfShort(AIR_TYPE);
  if (!air) return;
  const end = newest();
  const days = Array.from({ length: 30 }, (_, i) => new Date(end - (29 - i) * DAY).toISOString().slice(0, 10));
  const months = [...new Set(days.map(d => d.slice(0, 7)))];
  const stations = [...air.features.values()].map(f => ({ id: String(f.properties.id), name: String(f.properties.name ?? f.properties.id) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const answers = await Promise.all(stations.flatMap(s => months.map(m =>
    api<{ id: string; days: Day[] }>(`/city/v1/air/calendar${qs({ id: s.id, month: m })}`).catch(() => ({ id: s.id, days: [] as Day[] })))));
  if (!isCurrent()) return;
  const data: Array<[number, number, number]> = [];
  for (const a of answers) {
    const row = stations.findIndex(s => s.id === a.id);
    for (const d of a.days) {
      const col = days.indexOf(d.date);
      if (col >= 0 && row >= 0 && typeof d.aqi === 'number') data.push([col, row, d.aqi]);
    }
  }
  el.dataset.cells = String(data.length);
  const { chart } = await charts();
  chart(el, {
    tooltip: { position: 'top' }, grid: { left: 110, right: 20, top: 10, bottom: 70 },
    xAxis: { type: 'category', data: days.map(d => d.slice(5)), splitArea: { show: true } },
    yAxis: { type: 'category', data: stations.map(s => s.name), splitArea: { show: true } },
    visualMap: { type: 'piecewise', orient: 'horizontal', left: 'center', bottom: 0, textStyle: { color: '#ddd' },
      pieces: BANDS.map((b, i) => ({ min: i === 0 ? 0 : BANDS[i - 1].max + 1, max: b.max === Infinity ? 10000 : b.max, color: b.color, label: t(b.key) })) },
    series: [{ type: 'heatmap', data, label: { show: true, color: '#000', fontSize: 10 } }],
  });
}
