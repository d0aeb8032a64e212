// Rules (/admin/v1/rules): the list with fired/failing state, enable/disable, and a form to create
// or edit one; the server's validation error ("when: q: unknown operator ...") is shown next to the
// field it names.
import { ApiError, Json, api } from './api';
import { display, h, replace } from './dom';
import { formatTime, t } from './i18n';

type Rule = { id: string; enabled?: boolean; watch?: { type?: string }; when?: string; for?: string; clearWhen?: string;
  severity?: string; description?: string; actions?: Json[]; status?: { state?: string; fired?: number; lastFired?: string } };

let rules: Rule[] = [];
let root: HTMLElement | undefined;
let editing: Rule | undefined;  // the form's rule; id '' for a new one
let isNew = false;
let fieldErrors: Record<string, string> = {};
let formError = '';

const FIELDS = ['id', 'watch', 'when', 'for', 'clearWhen', 'severity', 'description', 'actions'] as const;

export async function loadRules(): Promise<void> {
  rules = await api<Rule[]>('/admin/v1/rules');
  render();
}

export function mountRules(el: HTMLElement): void { root = el; void loadRules().catch(() => render()); }

async function toggle(rule: Rule): Promise<void> {
  await api(`/admin/v1/rules/${encodeURIComponent(rule.id)}/${rule.enabled === false ? 'enable' : 'disable'}`, { method: 'POST' });
  await loadRules();
}

function edit(rule: Rule | undefined): void {
  isNew = !rule;
  editing = rule ?? { id: '', watch: { type: 'AirQualityObserved' }, when: '', severity: 'medium', actions: [{ alert: { category: 'environment' } }] };
  fieldErrors = {};
  formError = '';
  render();
}

// The member a problem's detail names ("when: ...", "watch.type: ...", "actions[0].alert: ...").
function fieldOf(detail: string): string | undefined {
  const m = /^([A-Za-z]+)(?:[.[][^:]*)?:/.exec(detail);
  if (!m) return undefined;
  return (FIELDS as readonly string[]).includes(m[1]) ? m[1] : undefined;
}

async function save(form: HTMLFormElement): Promise<void> {
  const value = (name: string): string => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
  fieldErrors = {};
  formError = '';
  let actions: Json;
  try {
    actions = JSON.parse(value('actions') || '[]') as Json;
  } catch {
    fieldErrors.actions = t('rules.badJson');
    render();
    return;
  }
  const body: Record<string, Json> = { watch: { type: value('watch') }, when: value('when'), severity: value('severity'), actions };
  for (const optional of ['for', 'clearWhen', 'description']) if (value(optional)) body[optional] = value(optional);
  try {
    if (isNew) await api('/admin/v1/rules', { method: 'POST', body: { id: value('id'), ...body } });
    else {
      for (const optional of ['for', 'clearWhen', 'description']) if (!value(optional)) body[optional] = null;
      await api(`/admin/v1/rules/${encodeURIComponent(editing!.id)}`, { method: 'PATCH', body });
    }
    editing = undefined;
    await loadRules();
  } catch (e) {
    const detail = e instanceof ApiError ? e.message : String(e);
    const field = fieldOf(detail);
    if (field) fieldErrors[field] = detail; else formError = detail;
    // keep what was typed
    editing = { ...editing!, id: isNew ? value('id') : editing!.id, ...(body as Partial<Rule>), actions: actions as Json[] };
    render();
  }
}

function field(name: string, label: string, input: HTMLElement): HTMLElement {
  const error = fieldErrors[name];
  if (error) input.classList.add('invalid');
  return h('label', { class: 'field', 'data-field': name }, h('span', {}, label), input,
    error ? h('span', { class: 'field-error', 'data-error-for': name }, error) : null);
}

function form(rule: Rule): HTMLElement {
  const f = h('form', { id: 'rule-form', class: 'form' },
    h('h3', {}, isNew ? t('rules.new') : `${t('rules.edit')} ${rule.id}`),
    field('id', t('rules.id'), h('input', { name: 'id', value: rule.id, disabled: !isNew, required: true })),
    field('watch', t('rules.watch'), h('input', { name: 'watch', value: rule.watch?.type ?? '' })),
    field('when', t('rules.when'), h('input', { name: 'when', value: rule.when ?? '', placeholder: 'pm25>150' })),
    field('for', t('rules.for'), h('input', { name: 'for', value: rule.for ?? '', placeholder: 'PT10M' })),
    field('clearWhen', t('rules.clearWhen'), h('input', { name: 'clearWhen', value: rule.clearWhen ?? '' })),
    field('severity', t('rules.severity'), h('select', { name: 'severity' }, ...['informational', 'low', 'medium', 'high', 'critical'].map(s =>
      h('option', { value: s, selected: s === (rule.severity ?? 'medium') }, t(`severity.${s}`))))),
    field('description', t('rules.description'), h('input', { name: 'description', value: rule.description ?? '' })),
    field('actions', t('rules.actions'), h('textarea', { name: 'actions', rows: 3 }, JSON.stringify(rule.actions ?? []))),
    formError ? h('p', { class: 'error' }, formError) : null,
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', id: 'rule-save' }, t('rules.save')),
      h('button', { type: 'button', onclick: () => { editing = undefined; render(); } }, t('rules.cancel'))));
  f.addEventListener('submit', e => { e.preventDefault(); void save(f); });
  return f;
}

export function render(): void {
  if (!root) return;
  const rows = rules.map(r => h('tr', { 'data-rule': r.id, class: r.enabled === false ? 'disabled' : '' },
    h('td', {}, r.id), h('td', {}, r.watch?.type ?? ''), h('td', { class: 'mono' }, r.when ?? ''),
    h('td', {}, t(`severity.${r.severity ?? 'medium'}`)),
    h('td', {}, h('span', { class: `state st-${r.status?.state ?? ''}` }, r.enabled === false ? '—' : display(r.status?.state ?? ''))),
    h('td', {}, display(r.status?.fired ?? 0), r.status?.lastFired ? h('div', { class: 'muted small' }, formatTime(r.status.lastFired)) : null),
    h('td', { class: 'actions' },
      h('button', { type: 'button', 'data-action': 'toggle', onclick: () => void toggle(r) }, r.enabled === false ? t('rules.enable') : t('rules.disable')),
      h('button', { type: 'button', 'data-action': 'edit', onclick: () => edit(r) }, t('rules.edit')))));
  replace(root,
    h('div', { class: 'row' }, h('h2', {}, t('rules.title')), h('button', { type: 'button', id: 'rule-new', onclick: () => edit(undefined) }, t('rules.new'))),
    editing ? form(editing) : null,
    h('table', { class: 'grid', id: 'rules-table' },
      h('thead', {}, h('tr', {}, ...['rules.id', 'rules.watch', 'rules.when', 'rules.severity', 'rules.state', 'rules.fired', 'incidents.actions'].map(k => h('th', {}, t(k))))),
      h('tbody', {}, ...rows)));
}
