// Open alerts by severity and application, and the incident workflow: acknowledge, dispatch the
// proposed unit, resolve, close (POST /admin/v1/incidents/{id}/...); 409 on an illegal step is shown.
import { ALERT_CONTEXT, ALERT_TYPE, ApiError, Entity, Json, api, plainValue, queryAll, shortName } from './api';
import { display, h, replace } from './dom';
import { formatTime, t, tOr } from './i18n';

export const alerts = new Map<string, Entity>();
export const incidents = new Map<string, Entity>();
const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'informational'];
let root: HTMLElement | undefined;
let message = '';

// The kinds of response unit the city has (a dispatch names one when the incident has no unitKind).
let unitKinds: string[] = [];
const chosenKind = new Map<string, string>();

export async function loadAlerts(): Promise<void> {
  const [a, i, units] = await Promise.all([
    queryAll({ type: ALERT_TYPE, options: 'keyValues' }, ALERT_CONTEXT),
    queryAll({ type: 'Incident', options: 'keyValues' }),
    queryAll({ type: 'ResponseUnit', options: 'keyValues', pick: 'id,kind' }).catch(() => []),
  ]);
  unitKinds = [...new Set(units.map(u => text(u.kind)).filter(k => k))].sort();
  alerts.clear();
  incidents.clear();
  for (const e of a) alerts.set(e.id, e);
  for (const e of i) incidents.set(e.id, e);
  render();
  incidentsChanged();
}

export function mergeAlerts(entities: Entity[]): void {
  for (const e of entities) if (e.deletedAt) alerts.delete(e.id); else alerts.set(e.id, { ...alerts.get(e.id), ...e });
  render();
}
export function mergeIncidents(entities: Entity[]): void {
  for (const e of entities) if (e.deletedAt) incidents.delete(e.id); else incidents.set(e.id, { ...incidents.get(e.id), ...e });
  render();
  incidentsChanged();
}

// Who draws the dispatched units' routes (main: the map).
let incidentsChanged: () => void = () => {};
export function onIncidentsChanged(f: () => void): void { incidentsChanged = f; }
// Who shows a route on the map (main: switch to the map and fit the route).
let showRoute: (incidentId: string) => void = () => {};
export function onShowRoute(f: (incidentId: string) => void): void { showRoute = f; }

type Point = [number, number];
export interface Route { incident: string; unit: string; from: Point; to: Point; distanceM: number }

function pointOf(geometry: Json | undefined): Point | undefined {
  const g = plainValue(geometry ?? null) as { type?: string; coordinates?: unknown } | null;
  if (!g || typeof g !== 'object') return undefined;
  if (g.type === 'Point' && Array.isArray(g.coordinates)) return [Number(g.coordinates[0]), Number(g.coordinates[1])];
  return undefined;
}

// Great-circle distance in metres (the dispatch ranks units by it when there is no road graph).
export function distanceM(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad, dLon = (b[0] - a[0]) * rad;
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(x));
}

// The route of each dispatched incident: from its assigned unit (where the unit is now) to it.
export function routes(unitAt: (unitId: string) => Json | undefined): Route[] {
  const out: Route[] = [];
  for (const i of incidents.values()) {
    if (text(i.status) !== 'dispatched' || !i.assignedUnit) continue;
    const unit = text(i.assignedUnit);
    const from = pointOf(unitAt(unit));
    const to = pointOf(i.location);
    if (from && to) out.push({ incident: i.id, unit, from, to, distanceM: distanceM(from, to) });
  }
  return out;
}
let unitLocation: (unitId: string) => Json | undefined = () => undefined;
export function setUnitLocator(f: (unitId: string) => Json | undefined): void { unitLocation = f; }

export function mountAlerts(el: HTMLElement): void { root = el; render(); }

const text = (v: Json | undefined): string => display(plainValue(v ?? null));
const sev = (e: Entity): number => { const i = SEVERITY_ORDER.indexOf(text(e.severity)); return i < 0 ? 9 : i; };

export function activeAlerts(): Entity[] {
  return [...alerts.values()].filter(a => text(a.status) !== 'cleared' && !a.validTo).sort((x, y) => sev(x) - sev(y) || text(y.dateIssued).localeCompare(text(x.dateIssued)));
}

async function step(id: string, action: string): Promise<void> {
  const body: Record<string, string> = { by: 'console' };
  try {
    if (action === 'dispatch') {
      // The nearest available unit of the kind asked for, as the server proposes it.
      const incident = incidents.get(id);
      const kind = incident?.unitKind ? text(incident.unitKind) : chosenKind.get(id) ?? unitKinds[0] ?? '';
      const proposals = await api<Array<{ unit: string; distance?: number }>>(
        `/admin/v1/incidents/${encodeURIComponent(id)}/proposals${kind ? `?kind=${encodeURIComponent(kind)}` : ''}`);
      if (!proposals.length) throw new Error(t('incidents.noUnit'));
      body.unit = proposals[0].unit;
      if (kind) body.kind = kind;
    }
    await api(`/admin/v1/incidents/${encodeURIComponent(id)}/${action}`, { method: 'POST', body });
    message = '';
    const updated = await api<Entity>(`/ngsi-ld/v1/entities/${encodeURIComponent(id)}?options=keyValues`);
    incidents.set(id, updated);
    incidentsChanged();
  } catch (e) {
    message = `${t('common.error')}: ${e instanceof ApiError ? e.message : String(e)}`;
  }
  render();
}

const NEXT: Record<string, string[]> = {
  open: ['acknowledge'], acknowledged: ['dispatch', 'resolve'], dispatched: ['resolve'], resolved: ['close'], closed: [],
};

function kindSelect(id: string): HTMLElement {
  const select = h('select', { 'data-kind-for': id, title: t('incidents.proposal') },
    ...unitKinds.map(k => h('option', { value: k, selected: k === chosenKind.get(id) }, k))) as HTMLSelectElement;
  select.addEventListener('change', () => chosenKind.set(id, select.value));
  return select;
}

function unitCell(i: Entity): HTMLElement {
  const unit = text(i.assignedUnit);
  const route = text(i.status) === 'dispatched' ? routes(unitLocation).find(r => r.incident === i.id) : undefined;
  return h('span', { class: 'unit-cell' }, shortName(unit),
    route ? h('span', { class: 'muted small', 'data-route-km': (route.distanceM / 1000).toFixed(1) }, ` ${(route.distanceM / 1000).toFixed(1)} km `) : null,
    route ? h('button', { type: 'button', 'data-action': 'route', title: t('incidents.route'), onclick: () => showRoute(i.id) }, t('incidents.route')) : null);
}

// The mean of each response time over the incidents that have it (seconds).
export function meanResponseTimes(): Record<'timeToAcknowledge' | 'timeToDispatch' | 'timeToResolve', number | undefined> {
  const mean = (k: string): number | undefined => {
    const v = [...incidents.values()].map(i => plainValue(i[k] ?? null)).filter((x): x is number => typeof x === 'number');
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
  };
  return { timeToAcknowledge: mean('timeToAcknowledge'), timeToDispatch: mean('timeToDispatch'), timeToResolve: mean('timeToResolve') };
}

function responseTimes(): HTMLElement {
  const m = meanResponseTimes();
  return h('p', { class: 'muted', id: 'response-times' }, `${t('incidents.meanTimes')}: `,
    ...([['timeToAcknowledge', 'incidents.toAck'], ['timeToDispatch', 'incidents.toDispatch'], ['timeToResolve', 'incidents.toResolve']] as const)
      .map(([k, label]) => h('span', { 'data-mean': k }, `${t(label)} ${seconds(m[k])} s　`)));
}

function seconds(v: Json | undefined): string { return typeof v === 'number' ? String(Math.round(v)) : '–'; }

export function render(): void {
  if (!root || root.hidden) return;
  const open = activeAlerts();
  const alertRows = open.map(a => h('tr', { 'data-alert': a.id, 'data-severity': text(a.severity) },
    h('td', {}, h('span', { class: `sev sev-${text(a.severity)}` }, tOr(`severity.${text(a.severity)}`, text(a.severity)))),
    h('td', {}, `${text(a.category)}${a.subCategory ? ` / ${text(a.subCategory)}` : ''}`),
    h('td', {}, shortName(text(a.alertSource))),
    h('td', {}, text(a.description)),
    h('td', {}, formatTime(text(a.dateIssued)))));
  const incidentRows = [...incidents.values()].sort((x, y) => text(y.openedAt).localeCompare(text(x.openedAt))).map(i => {
    const status = text(i.status);
    return h('tr', { 'data-incident': i.id, 'data-status': status },
      h('td', {}, shortName(i.id)),
      h('td', {}, h('span', { class: `status st-${status}` }, tOr(`status.${status}`, status))),
      h('td', {}, h('span', { class: `sev sev-${text(i.severity)}` }, tOr(`severity.${text(i.severity)}`, text(i.severity)))),
      h('td', {}, text(i.description)),
      h('td', {}, formatTime(text(i.openedAt))),
      h('td', {}, i.assignedUnit ? unitCell(i) : status === 'acknowledged' && !i.unitKind && unitKinds.length
        ? kindSelect(i.id) : ''),
      h('td', {}, `${seconds(i.timeToAcknowledge)} / ${seconds(i.timeToDispatch)} / ${seconds(i.timeToResolve)}`),
      h('td', { class: 'actions' }, ...(NEXT[status] ?? []).map(action =>
        h('button', { type: 'button', 'data-action': action, onclick: () => void step(i.id, action) }, t(`incidents.${action}`)))));
  });
  replace(root,
    h('h2', {}, t('alerts.title'), ` (${open.length})`),
    open.length ? h('table', { class: 'grid', id: 'alerts-table' },
      h('thead', {}, h('tr', {}, ...['alerts.severity', 'alerts.category', 'alerts.source', 'alerts.description', 'alerts.issued'].map(k => h('th', {}, t(k))))),
      h('tbody', {}, ...alertRows)) : h('p', { class: 'muted' }, t('alerts.none')),
    h('h2', {}, t('incidents.title')),
    responseTimes(),
    message ? h('p', { class: 'error', id: 'incident-error' }, message) : null,
    incidentRows.length ? h('table', { class: 'grid', id: 'incidents-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'ID'), ...['incidents.status', 'alerts.severity', 'alerts.description', 'incidents.opened', 'incidents.unit',
        'incidents.responseTimes', 'incidents.actions'].map(k => h('th', {}, t(k))))),
      h('tbody', {}, ...incidentRows)) : h('p', { class: 'muted' }, t('incidents.none')));
}
