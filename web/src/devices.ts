// Provisioned devices (GET /iot/devices) with their online/offline state and when they were last seen,
// and their commands: sending one writes the command attribute on the device's entity (NGSI-LD PATCH,
// as the IoT Agent API does); the server sends it to the device and keeps <cmd>_status (PENDING,
// DELIVERED, OK, ERROR) and <cmd>_info (the device's answer, or why it failed) on the entity, which
// the live stream brings back here. Device entities' live changes re-read the list.
import { ApiError, Entity, Json, NGSI, api, plainValue, qs } from './api';
import { display, h, replace } from './dom';
import { formatTime, t, tOr } from './i18n';

type Device = { device_id: string; entity_name?: string; entity_type?: string; protocol?: string; transport?: string;
  deviceState?: string; lastSeen?: string; service?: string; commands?: Array<{ name: string; type?: string }> };

let devices: Device[] = [];
let root: HTMLElement | undefined;
// The command attributes of each device's entity: <cmd>, <cmd>_status, <cmd>_info (by entity id).
const commandState = new Map<string, Record<string, Json>>();
const sendErrors = new Map<string, string>();
const drafts = new Map<string, string>();  // what was typed for each command, kept across re-renders
let commanded = new Set<string>();  // entity ids of the devices that take commands

export async function loadDevices(): Promise<void> {
  const answer = await api<{ devices?: Device[] } | Device[]>('/iot/devices?limit=1000');
  devices = Array.isArray(answer) ? answer : answer.devices ?? [];
  const withCommands = devices.filter(d => d.entity_name && d.commands?.length);
  commanded = new Set(withCommands.map(d => d.entity_name!));
  // Their command attributes, a page of entities at a time (a query: an entity not created yet is no error).
  for (let i = 0; i < withCommands.length; i += 100) {
    const page = withCommands.slice(i, i + 100);
    const attrs = [...new Set(page.flatMap(d => d.commands!.flatMap(c => [c.name, `${c.name}_status`, `${c.name}_info`])))].join(',');
    const found = await api<Entity[]>(`${NGSI}/entities${qs({ id: page.map(d => d.entity_name!).join(','), options: 'keyValues',
      pick: `id,type,${attrs}`, limit: 100 })}`).catch(() => []);
    for (const e of found) commandState.set(e.id, e);
  }
  render();
}

// An entity change from the live stream: a device's command status, if it is one of theirs.
export function mergeEntity(e: Entity): void {
  if (!commanded.has(e.id)) return;
  commandState.set(e.id, { ...commandState.get(e.id), ...e });
  render();
}

export function mountDevices(el: HTMLElement): void { root = el; void loadDevices().catch(() => render()); }

async function sendCommand(d: Device, command: string, value: string): Promise<void> {
  const key = `${d.device_id}/${command}`;
  sendErrors.delete(key);
  try {
    await api(`${NGSI}/entities/${encodeURIComponent(d.entity_name ?? '')}/attrs`, {
      method: 'PATCH', body: { [command]: { type: 'Property', value } } });
  } catch (e) {
    sendErrors.set(key, e instanceof ApiError ? e.message : String(e));
  }
  render();
}

function commandRow(d: Device): HTMLElement | null {
  if (!d.commands?.length || !d.entity_name) return null;
  const state = commandState.get(d.entity_name) ?? {};
  return h('div', { class: 'commands' }, ...d.commands.map(c => {
    const draft = `${d.device_id}/${c.name}`;
    const input = h('input', { type: 'text', class: 'cmd-value', 'data-command-value': c.name, placeholder: t('devices.value'),
      value: drafts.get(draft) ?? '' }) as HTMLInputElement;
    input.addEventListener('input', () => drafts.set(draft, input.value));
    const status = String(plainValue(state[`${c.name}_status`] ?? null) ?? '');
    const info = plainValue(state[`${c.name}_info`] ?? null);
    const error = sendErrors.get(`${d.device_id}/${c.name}`);
    return h('div', { class: 'command', 'data-command': c.name, 'data-status': status || 'none' },
      h('b', {}, c.name), input,
      h('button', { type: 'button', 'data-send': c.name, onclick: () => void sendCommand(d, c.name, input.value) }, t('devices.send')),
      h('span', { class: `cmd-status cmd-${status || 'none'}` }, status ? tOr(`cmd.${status}`, status) : t('devices.noCommand')),
      info !== null && info !== undefined && info !== '' ? h('span', { class: 'muted cmd-info' }, ` ${display(info)}`) : null,
      error ? h('span', { class: 'error cmd-error' }, ` ${error}`) : null);
  }));
}

export function render(): void {
  if (!root) return;
  const rows = devices.map(d => {
    const state = d.deviceState ?? 'unknown';
    return h('tr', { 'data-device': d.device_id, 'data-state': state },
      h('td', {}, d.device_id), h('td', { class: 'mono small' }, d.entity_name ?? ''),
      h('td', {}, d.protocol ?? d.transport ?? ''),
      h('td', {}, h('span', { class: `state dev-${state}` }, t(`devices.${state}`))),
      h('td', {}, d.lastSeen ? formatTime(d.lastSeen) : '—'),
      h('td', {}, commandRow(d)));
  });
  replace(root,
    h('div', { class: 'row' }, h('h2', {}, t('devices.title'), ` (${devices.length})`),
      h('button', { type: 'button', onclick: () => void loadDevices() }, t('common.refresh'))),
    rows.length ? h('table', { class: 'grid', id: 'devices-table' },
      h('thead', {}, h('tr', {}, ...['devices.id', 'devices.entity', 'devices.protocol', 'devices.state', 'devices.lastSeen', 'devices.commands'].map(k => h('th', {}, t(k))))),
      h('tbody', {}, ...rows)) : h('p', { class: 'muted' }, t('devices.none')));
}
