// The console's live stream (GET /city/v1/live, src/live/live_stream.hpp), checked on the wire from
// inside the page (a raw WebSocket, as the console opens it) and through the console itself.
import assert from 'node:assert/strict';
import { until } from './harness.mjs';

// In the page: open a raw stream and keep its messages on window.__streams[name].
const open = (page, name, query = '') => page.evaluate(([n, q]) => new Promise((ok, fail) => {
  window.__streams ??= {};
  const ws = new WebSocket(`ws://${location.host}/city/v1/live${q}`);
  const s = { ws, messages: [] };
  window.__streams[n] = s;
  ws.onmessage = e => s.messages.push(JSON.parse(e.data));
  ws.onopen = () => ok(true);
  ws.onerror = () => fail(new Error('the stream did not open'));
}), [name, query]);
const messages = (page, name) => page.evaluate(n => window.__streams[n].messages, name);
const send = (page, name, filter) => page.evaluate(([n, f]) => window.__streams[n].ws.send(typeof f === 'string' ? f : JSON.stringify(f)), [name, filter]);
const close = (page, name) => page.evaluate(n => new Promise(ok => { const s = window.__streams[n]; s.ws.onclose = () => ok(true); s.ws.close(); }), name);
const waitFor = (page, name, what, test, timeoutMs = 10000) => until(what, async () => (await messages(page, name)).find(test), timeoutMs, 30);
const changed = (m, id) => m.type === 'changes' && m.data.some(e => e.id === id);
const stateIn = (ms, id) => ms.filter(m => m.type === 'changes').flatMap(m => m.data).filter(e => e.id === id).at(-1);
const pm25Of = e => e && Object.entries(e).find(([k]) => k === 'pm25' || k.endsWith('/pm25'))?.[1];

// A box of ±0.01° around a point.
const around = ([lon, lat]) => [lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01];

export async function streamProtocol(city, page, station) {
  const patch = (id, body) => city.api(`/ngsi-ld/v1/entities/${encodeURIComponent(id)}/attrs`, { method: 'PATCH', body });
  const stations = await city.api('/ngsi-ld/v1/entities?type=AirQualityObserved&options=keyValues&pick=id,location&limit=100');
  const here = stations.find(s => s.id === station);
  // The station farthest from `station`: outside its small box.
  const dist = s => Math.hypot(s.location.coordinates[0] - here.location.coordinates[0], s.location.coordinates[1] - here.location.coordinates[1]);
  const other = stations.filter(s => s.id !== station).sort((a, b) => dist(b) - dist(a))[0];
  const types = await city.api('/ngsi-ld/v1/types');
  const stationType = types.typeList.find(t => t === 'AirQualityObserved' || t.endsWith('/AirQualityObserved'));

  await open(page, 'a');
  const hello = await waitFor(page, 'a', 'hello', m => m.type === 'hello');
  assert.match(hello.epoch, /^[0-9a-f]{16}$/);
  await send(page, 'a', { types: [stationType], bbox: around(here.location.coordinates), everywhere: [] });
  await waitFor(page, 'a', 'the filter acknowledged', m => m.type === 'filter');

  // Bounds: the other station (outside the box) changes first, then ours: only ours arrives, and the
  // stream is ordered, so had the other been sent it would have come first.
  await patch(other.id, { pm25: { type: 'Property', value: 33 } });
  await patch(station, { pm25: { type: 'Property', value: 44 } });
  await waitFor(page, 'a', 'our station', m => changed(m, station));
  assert.equal(stateIn(await messages(page, 'a'), other.id), undefined, 'a station outside the bounds was sent');
  assert.equal(pm25Of(stateIn(await messages(page, 'a'), station)), 44);

  // Types: a response unit is not a type asked for.
  await patch('urn:ngsi-ld:ResponseUnit:env-patrol-1', { note: { type: 'Property', value: 'filtered out' } });
  await patch(station, { pm25: { type: 'Property', value: 45 } });
  await until('our second change', async () => pm25Of(stateIn(await messages(page, 'a'), station)) === 45, 10000, 30);
  assert.equal(stateIn(await messages(page, 'a'), 'urn:ngsi-ld:ResponseUnit:env-patrol-1'), undefined, 'a type not asked for was sent');

  // Widening the bounds replays what the client missed there: the other station's newest state.
  const acks = (await messages(page, 'a')).filter(m => m.type === 'filter').length;
  await send(page, 'a', { types: [stationType], bbox: [115, 39, 118, 41.5], everywhere: [] });
  const ack = await until('the second acknowledgement', async () => (await messages(page, 'a')).filter(m => m.type === 'filter')[acks], 10000, 30);
  assert.equal(ack.replayed, 1);
  assert.equal(pm25Of(stateIn(await messages(page, 'a'), other.id)), 33);

  // Catch-up: what changed while the client was away comes with its first filter after reconnecting.
  const seq = Math.max(...(await messages(page, 'a')).map(m => m.seq ?? 0));
  await close(page, 'a');
  await patch(station, { pm25: { type: 'Property', value: 46 } });
  await open(page, 'b', `?epoch=${hello.epoch}&since=${seq}`);
  await waitFor(page, 'b', 'hello again', m => m.type === 'hello');
  await send(page, 'b', { types: [stationType] });
  // Replayed, or sent as it is consumed if the server had not consumed it yet.
  await until('the change made while away', async () => pm25Of(stateIn(await messages(page, 'b'), station)) === 46, 10000, 30);
  await close(page, 'b');

  // Another process's epoch: the server cannot tell what was missed and says so.
  await open(page, 'c', `?epoch=0000000000000000&since=${seq}`);
  await send(page, 'c', {});
  await waitFor(page, 'c', 'a reset', m => m.type === 'reset');
  // A filter it cannot read: an error, the connection stays.
  await send(page, 'c', { bbox: [1, 2] });
  const error = await waitFor(page, 'c', 'an error', m => m.type === 'error');
  assert.match(error.detail, /bbox/);
  await close(page, 'c');

  // The console itself uses one stream for everything, no subscription sockets.
  const sockets = page.requests.filter(u => u.startsWith('ws'));
  assert.ok(sockets.length >= 1);
  assert.deepEqual(sockets.filter(u => !new URL(u).pathname.startsWith('/city/v1/live')), []);
}

// The console narrows the stream to the map's view: a change off screen does not come, and comes
// (replayed) when the map shows its place again.
export async function streamFollowsMap(city, page, station, colourFor) {
  const filters = () => page.evaluate(() => window.citytwin.live.filters);
  let before = await filters();
  await page.evaluate(() => window.citytwin.getMap().jumpTo({ center: [-60, -30], zoom: 9 }));
  await until('the filter for the new view', async () => (await filters()) > before);
  const now = await page.evaluate(id => window.citytwin.renderedColor(id, 'AirQualityObserved') ?? '', station);
  const [pm25, colour] = colourFor(now);
  await page.evaluate(() => { window.citytwin.received = {}; });
  await city.api(`/ngsi-ld/v1/entities/${encodeURIComponent(station)}/attrs`, { method: 'PATCH', body: { pm25: { type: 'Property', value: pm25 } } });
  // Units are streamed everywhere: once this later change is in, the earlier one would have been.
  await city.api('/ngsi-ld/v1/entities/urn:ngsi-ld:ResponseUnit:env-patrol-1/attrs', { method: 'PATCH', body: { note: { type: 'Property', value: 'sync' } } });
  await until('the unit change', () => page.evaluate(() => window.citytwin.received['urn:ngsi-ld:ResponseUnit:env-patrol-1']));
  assert.equal(await page.evaluate(id => window.citytwin.received[id], station), undefined, 'an off-screen station change was streamed');
  before = await filters();
  await page.evaluate(() => window.citytwin.getMap().jumpTo({ center: [116.4, 40.0], zoom: 8 }));
  await until('the filter back over Beijing', async () => (await filters()) > before);
  await page.waitForFunction(([id, c]) => window.citytwin.renderedColor(id, 'AirQualityObserved') === c, [station, colour], { timeout: 15000 });
  assert.ok(await page.evaluate(() => window.citytwin.live.replayed) >= 1);
}
