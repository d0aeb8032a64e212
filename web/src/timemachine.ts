// The time machine: a slider over the stations' recorded history; at a past moment the map shows
// each air station's AQI as it was then (GET /temporal/entities ... timerel=before&lastN=1).
import { NGSI, api, qs } from './api';
import { bandColor, stationIndex } from './aqi';
import { h, replace } from './dom';
import { formatTime, t } from './i18n';
import { AIR_TYPE, layerOfShort, pastIndex, style } from './layers';
import { refresh } from './map';

const HOUR = 3_600_000;
let range: { from: number; to: number } | undefined;
let moment: number | undefined;  // undefined: live
let version = 0;
let root: HTMLElement;
let player: number | undefined;  // playing forward: one hour of the city a second

type Series = { values?: Array<[number, string]> } | Array<{ values?: Array<[number, string]> }>;
type TemporalEntity = { id: string; name?: unknown; pm25?: Series; airQualityIndex?: Series };

function lastValue(s: Series | undefined): number | undefined {
  const values = Array.isArray(s) ? s[0]?.values : s?.values;
  const v = values?.[values.length - 1]?.[0];
  return typeof v === 'number' ? v : undefined;
}

// The slider spans the week before the newest recorded observation of any station.
export async function setRange(): Promise<void> {
  const layer = layerOfShort(AIR_TYPE);
  let newest = 0;
  if (layer) {
    const latest = await api<Array<{ pm25?: Series }>>(`${NGSI}/temporal/entities${qs({ type: layer.typeIri, attrs: 'pm25',
      lastN: 1, options: 'temporalValues', limit: 1000 })}`, { link: layer.link }).catch(() => []);
    for (const e of latest) {
      const values = Array.isArray(e.pm25) ? e.pm25[0]?.values : e.pm25?.values;
      const at = Date.parse(values?.[0]?.[1] ?? '');
      if (Number.isFinite(at)) newest = Math.max(newest, at);
    }
  }
  const to = Math.ceil((newest || Date.now()) / HOUR) * HOUR;
  range = { from: to - 7 * 24 * HOUR, to };
  render();
}

export function mountTimeMachine(el: HTMLElement): void { root = el; render(); }

export function render(): void {
  if (!root) return;
  const r = range ?? { from: Date.now() - 7 * 24 * HOUR, to: Date.now() };
  const slider = h('input', { type: 'range', id: 'tm-slider', min: r.from, max: r.to, step: HOUR, value: moment ?? r.to }) as HTMLInputElement;
  slider.addEventListener('input', () => { label.textContent = formatTime(Number(slider.value)); });
  slider.addEventListener('change', () => void goTo(Number(slider.value)));
  const label = h('span', { id: 'tm-label' }, moment ? formatTime(moment) : t('tm.live'));
  const list = h('ul', { id: 'tm-values' });
  replace(root,
    h('div', { class: 'tm-head' }, h('strong', {}, t('tm.title')), label,
      h('button', { type: 'button', id: 'tm-play', onclick: togglePlay }, player ? t('tm.pause') : t('tm.play')),
      h('button', { type: 'button', id: 'tm-live', disabled: moment === undefined, onclick: () => { stopPlay(); void goTo(undefined); } }, t('tm.live'))),
    slider, list);
  if (moment !== undefined) renderValues(list);
}

function renderValues(list: HTMLElement): void {
  const layer = layerOfShort(AIR_TYPE);
  if (!layer) return;
  const items = [...layer.features.values()].map(f => {
    const id = String(f.properties.id);
    const v = pastIndex.get(id);
    return h('li', { 'data-tm-station': id, 'data-aqi': v ?? '' },
      h('span', { class: 'dot', style: `background:${bandColor(v)}` }), `${String(f.properties.name ?? id)} `, h('b', {}, v ?? '—'));
  });
  replace(list, ...items);
}

// Shows the moment `at` (epoch ms), or live values when undefined.
export async function goTo(at: number | undefined): Promise<void> {
  const mine = ++version;
  const layer = layerOfShort(AIR_TYPE);
  moment = at;
  pastIndex.clear();
  if (at !== undefined && layer) {
    const query = qs({ type: layer.typeIri, attrs: 'pm25,airQualityIndex', timerel: 'before', timeAt: new Date(at + 1).toISOString(),
      lastN: 1, options: 'temporalValues', limit: 1000 });
    const past = await api<TemporalEntity[]>(`${NGSI}/temporal/entities${query}`, { link: layer.link });
    if (mine !== version) return;
    for (const e of past) {
      const index = stationIndex({ airQualityIndex: lastValue(e.airQualityIndex), pm25: lastValue(e.pm25) });
      if (index !== undefined) pastIndex.set(e.id, index);
    }
    if (!pastIndex.size) pastIndex.set('', -1);  // a moment before any record: every station without data
  }
  if (layer) {
    for (const f of layer.features.values()) style(layer, f.properties);
    refresh(layer);
  }
  render();
  root.dataset.moment = at === undefined ? 'live' : new Date(at).toISOString();
}

function stopPlay(): void {
  if (player) clearInterval(player);
  player = undefined;
}

function togglePlay(): void {
  if (player) { stopPlay(); render(); return; }
  const r = range ?? { from: Date.now() - 7 * 24 * HOUR, to: Date.now() };
  let at = moment === undefined || moment >= r.to ? r.from : moment;
  player = window.setInterval(() => {
    at += HOUR;
    if (at > r.to) { stopPlay(); void goTo(undefined); return; }
    void goTo(at);
  }, 1000);
  void goTo(at);
}

export function isLive(): boolean { return moment === undefined; }
// The newest recorded observation of the stations (epoch ms; now when none is known yet).
export function newest(): number { return range?.to ?? Date.now(); }
