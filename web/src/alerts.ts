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
}

export function mergeAlerts(entities: Entity[]): void { for (const e of entities) alerts.set(e.id, { ...alerts.get(e.id), ...e }); render(); }
export function mergeIncidents(entities: Entity[]): void { for (const e of entities) incidents.set(e.id, { ...incidents.get(e.id), ...e }); render(); }

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
      h('td', {}, i.assignedUnit ? shortName(text(i.assignedUnit)) : status === 'acknowledged' && !i.unitKind && unitKinds.length
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
    message ? h('p', { class: 'error', id: 'incident-error' }, message) : null,
    incidentRows.length ? h('table', { class: 'grid', id: 'incidents-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'ID'), ...['incidents.status', 'alerts.severity', 'alerts.description', 'incidents.opened', 'incidents.unit',
        'incidents.responseTimes', 'incidents.actions'].map(k => h('th', {}, t(k))))),
      h('tbody', {}, ...incidentRows)) : h('p', { class: 'muted' }, t('incidents.none')));
}
