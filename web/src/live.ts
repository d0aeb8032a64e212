// Live updates: one subscription per watched entity type, each streamed over its WebSocket
// (GET /ngsi-ld/v1/subscriptions/{id}/ws). A badge shows the connection; a dropped stream reconnects
// by itself with backoff and, once back, the console re-queries what it shows to catch up. No polling.
import { ApiError, Entity, NGSI, api, currentTenant, request } from './api';
import { t } from './i18n';

export interface Watch {
  typeIri: string;
  link?: string;
  onEntities: (entities: Entity[]) => void;
}

type State = 'connecting' | 'online' | 'offline';
const sockets = new Map<string, { state: State }>();
let onCatchUp: () => Promise<void> = async () => {};
let badge: HTMLElement | undefined;

export function setBadge(el: HTMLElement): void { badge = el; updateBadge(); }
export function setCatchUp(f: () => Promise<void>): void { onCatchUp = f; }

export function updateBadge(): void {
  if (!badge) return;
  const states = [...sockets.values()].map(s => s.state);
  const state: State = !states.length ? 'connecting' : states.every(s => s === 'online') ? 'online'
    : states.some(s => s === 'offline') ? 'offline' : 'connecting';
  badge.className = `badge ${state}`;
  badge.dataset.state = state;
  badge.textContent = t(`live.${state}`);
}

const storageKey = (w: Watch): string => `citytwin.sub.${currentTenant()}.${w.typeIri}`;

// The subscription for a type: the one this browser made before if the server still has it.
async function subscription(w: Watch): Promise<string> {
  const known = localStorage.getItem(storageKey(w));
  if (known) {
    try {
      await api(`${NGSI}/subscriptions/${encodeURIComponent(known)}`);
      return known;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
    }
  }
  const created = await request(`${NGSI}/subscriptions`, {
    method: 'POST', link: w.link,
    body: {
      type: 'Subscription', description: 'CityTwin console',
      entities: [{ type: w.typeIri }],
      notification: { format: 'keyValues', endpoint: { uri: 'urn:citytwin:websocket' } },
    },
  });
  const id = decodeURIComponent((created.headers.get('Location') ?? '').split('/').pop() ?? '');
  localStorage.setItem(storageKey(w), id);
  return id;
}

export function watch(w: Watch): void {
  const entry = { state: 'connecting' as State };
  sockets.set(w.typeIri, entry);
  let delay = 500;
  let wasDown = false;
  const connect = async (): Promise<void> => {
    entry.state = 'connecting';
    updateBadge();
    let id: string;
    try {
      id = await subscription(w);
    } catch {
      entry.state = 'offline';
      updateBadge();
      setTimeout(() => void connect(), delay = Math.min(delay * 2, 10_000));
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const tenant = currentTenant() ? `?tenant=${encodeURIComponent(currentTenant())}` : '';
    const ws = new WebSocket(`${scheme}://${location.host}${NGSI}/subscriptions/${encodeURIComponent(id)}/ws${tenant}`);
    ws.onopen = () => {
      entry.state = 'online';
      delay = 500;
      updateBadge();
      if (wasDown) { wasDown = false; void onCatchUp(); }
    };
    ws.onmessage = ev => {
      try {
        const n = JSON.parse(String(ev.data)) as { data?: Entity[] };
        if (n.data?.length) w.onEntities(n.data);
      } catch { /* not a notification */ }
    };
    ws.onclose = () => {
      entry.state = 'offline';
      wasDown = true;
      updateBadge();
      setTimeout(() => void connect(), delay = Math.min(delay * 2, 10_000));
    };
  };
  void connect();
}
