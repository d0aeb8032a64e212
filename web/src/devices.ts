// Provisioned devices (GET /iot/devices) with their online/offline state and when they were last seen;
// the Device entities' live changes re-read the list.
import { api } from './api';
import { h, replace } from './dom';
import { formatTime, t } from './i18n';

type Device = { device_id: string; entity_name?: string; entity_type?: string; protocol?: string; transport?: string;
  deviceState?: string; lastSeen?: string; service?: string };

let devices: Device[] = [];
let root: HTMLElement | undefined;

export async function loadDevices(): Promise<void> {
  const answer = await api<{ devices?: Device[] } | Device[]>('/iot/devices?limit=1000');
  devices = Array.isArray(answer) ? answer : answer.devices ?? [];
  render();
}

export function mountDevices(el: HTMLElement): void { root = el; void loadDevices().catch(() => render()); }

export function render(): void {
  if (!root) return;
  const rows = devices.map(d => {
    const state = d.deviceState ?? 'unknown';
    return h('tr', { 'data-device': d.device_id, 'data-state': state },
      h('td', {}, d.device_id), h('td', { class: 'mono small' }, d.entity_name ?? ''),
      h('td', {}, d.protocol ?? d.transport ?? ''),
      h('td', {}, h('span', { class: `state dev-${state}` }, t(`devices.${state}`))),
      h('td', {}, d.lastSeen ? formatTime(d.lastSeen) : '—'));
  });
  replace(root,
    h('div', { class: 'row' }, h('h2', {}, t('devices.title'), ` (${devices.length})`),
      h('button', { type: 'button', onclick: () => void loadDevices() }, t('common.refresh'))),
    rows.length ? h('table', { class: 'grid', id: 'devices-table' },
      h('thead', {}, h('tr', {}, ...['devices.id', 'devices.entity', 'devices.protocol', 'devices.state', 'devices.lastSeen'].map(k => h('th', {}, t(k))))),
      h('tbody', {}, ...rows)) : h('p', { class: 'muted' }, t('devices.none')));
}
