// Live updates: ONE WebSocket (GET /city/v1/live, see src/live/live_stream.hpp) carrying every change
// the console wants, filtered by the server by entity type and by the map's bounds (the console
// sends a new filter as the map moves). A badge shows the connection. A dropped stream reconnects by
// itself with backoff and names the last change it saw (epoch and sequence): the server replays the
// newest state of every entity it missed, or answers "reset" (another server process, or too long
// ago) and the console reloads what it shows. Changes that arrive while a reload is under way wait
// for it and are applied after it, in order. No polling.
import { Entity, currentTenant, shortName, typeIri } from './api';
import { t } from './i18n';

export interface LiveFilter { types?: string[]; bbox?: [number, number, number, number]; everywhere?: string[] }
export interface LiveHandlers {
  onEntities: (entities: Entity[]) => void;
  // Reload everything shown (the server cannot tell what was missed); changes wait meanwhile.
  reload: () => Promise<void>;
}

type State = 'connecting' | 'online' | 'offline';
type Message =
  | { type: 'hello'; epoch: string; seq: number }
  | { type: 'changes'; seq: number; data: Entity[] }
  | { type: 'reset'; seq: number }
  | { type: 'filter'; seq: number; replayed: number }
  | { type: 'error'; detail: string };

let state: State = 'connecting';
let badge: HTMLElement | undefined;
let handlers: LiveHandlers | undefined;
let socket: WebSocket | undefined;
let filter: LiveFilter = {};
let epoch = '';
let seq = 0;       // the last change sequence heard of (shown on the badge)
let baseline = 0;  // the sequence the console's loaded state is from (its first hello or last reset):
                   // reconnecting from it, the server replays every entity in view that changed since
let held: Entity[][] | undefined;  // changes waiting for a reload
let delay = 500;
let firstHello: (() => void) | undefined;
// What the tests read: how many filter messages the server acknowledged, and the last replay size.
export const stats = { filters: 0, replayed: 0, resets: 0, connections: 0, lastSeq: 0 };

export function setBadge(el: HTMLElement): void { badge = el; updateBadge(); }

export function updateBadge(): void {
  if (!badge) return;
  badge.className = `badge ${state}`;
  badge.dataset.state = state;
  badge.textContent = t(`live.${state}`);
  badge.title = epoch ? `${epoch} #${seq}` : '';
}

function setState(next: State): void { state = next; updateBadge(); }

// Attribute names as the Smart Data Model terms (the stream compacts with the core @context only),
// and the type as the full IRI the layers are keyed by.
function shortKeys(e: Entity): Entity {
  const type = Array.isArray(e.type) ? String(e.type[0]) : String(e.type);
  const out: Entity = { id: e.id, type: typeIri(type) };
  for (const [k, v] of Object.entries(e)) if (k !== 'id' && k !== 'type') out[shortName(k)] = v;
  return out;
}

function deliver(entities: Entity[]): void {
  if (!entities.length || !handlers) return;
  if (held) held.push(entities);
  else handlers.onEntities(entities);
}

// Runs `load` with the changes held back, then applies what arrived meanwhile, in order.
export async function whileHolding(load: () => Promise<void>): Promise<void> {
  const mine = held === undefined;
  if (mine) held = [];
  try {
    await load();
  } finally {
    if (mine) {
      const waiting = held ?? [];
      held = undefined;
      for (const batch of waiting) handlers?.onEntities(batch);
    }
  }
}

function send(): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(filter));
}

// Replaces the filter (sent now if connected, else at the next connection).
export function setFilter(next: LiveFilter): void {
  filter = next;
  send();
}

function connect(): void {
  setState('connecting');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const params = new URLSearchParams();
  if (currentTenant()) params.set('tenant', currentTenant());
  if (epoch) { params.set('epoch', epoch); params.set('since', String(baseline)); }
  const query = params.toString();
  const ws = new WebSocket(`${scheme}://${location.host}/city/v1/live${query ? `?${query}` : ''}`);
  socket = ws;
  if (!stats.connections) performance.mark('live-connect');
  ws.onopen = () => { if (!stats.connections) performance.mark('live-open'); };
  let reconnecting = epoch !== '';
  ws.onmessage = ev => {
    let m: Message;
    try { m = JSON.parse(String(ev.data)) as Message; } catch { return; }
    if (m.type === 'hello') {
      // A reconnection keeps its baseline (the server replays what changed after it, or resets when
      // its epoch is another process's); a new stream starts from the hello's.
      if (!reconnecting) { seq = m.seq; baseline = m.seq; }
      epoch = m.epoch;
      reconnecting = false;
      delay = 500;
      if (!stats.connections) performance.mark('live-hello');
      stats.connections++;
      setState('online');
      send();  // a reconnection's first filter replays what was missed
      firstHello?.();
      firstHello = undefined;
    } else if (m.type === 'changes') {
      seq = Math.max(seq, m.seq);
      stats.lastSeq = seq;
      deliver(m.data.map(shortKeys));
    } else if (m.type === 'reset') {
      stats.resets++;
      seq = m.seq;
      baseline = m.seq;
      void whileHolding(() => handlers?.reload() ?? Promise.resolve());
    } else if (m.type === 'filter') {
      seq = Math.max(seq, m.seq);
      stats.filters++;
      stats.replayed = m.replayed;
    }
    updateBadge();
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    setState('offline');
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 5000);
  };
}

// Opens the stream; resolves at its first hello, after which a load of the twin's state plus the
// changes that follow is complete.
export function start(h: LiveHandlers): Promise<void> {
  handlers = h;
  return new Promise(resolve => { firstHello = resolve; connect(); });
}
