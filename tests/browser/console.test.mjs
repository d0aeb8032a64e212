// Browser tests of the operations console (issue #17) on a running `citytwin demo`: see harness.mjs.
// Screenshots and the measured numbers go to build/browser-artifacts/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { City, artifacts, foreignRequests, launchBrowser, openPage, root, until, webglBaseline } from './harness.mjs';
import { streamFollowsMap, streamProtocol } from './live_stream.mjs';
import { applicationDashboards, deviceCommand, incidentRoute } from './features.mjs';

const ALERT_LINK = '<https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"';
// The six AQI level colours (HJ 633-2012) and the PM2.5 breakpoints of its sub-index: the oracle.
const GOOD = '#00e400';
const HAZARDOUS = '#7e0023';
const PM25 = [0, 35, 75, 115, 150, 250, 350, 500];
const IAQI = [0, 50, 100, 150, 200, 300, 400, 500];
const BAND_COLOURS = [[50, GOOD], [100, '#ffff00'], [150, '#ff7e00'], [200, '#ff0000'], [300, '#99004c'], [Infinity, HAZARDOUS]];
const bandColour = index => BAND_COLOURS.find(([max]) => index <= max)[1];
const iaqi = v => { for (let i = 1; i < PM25.length; i++) if (v <= PM25[i]) return Math.round(IAQI[i - 1] + (IAQI[i] - IAQI[i - 1]) * (v - PM25[i - 1]) / (PM25[i] - PM25[i - 1])); return 500; };

const city = new City();
// The timing targets (usable in 2 s, reading on screen in 1 s, frames under 50 ms) are asserted on a
// machine whose browser can draw: an empty WebGL canvas under 20 ms a frame (p95), or with
// CITYTWIN_BROWSER_STRICT=1. Otherwise they are measured and reported only, beside that baseline.
let strict = process.env.CITYTWIN_BROWSER_STRICT === '1';
const target = (ok, what) => { if (strict) assert.ok(ok, what); else if (!ok) console.log(`not asserted (slow machine, see emptyCanvasFrames): ${what}`); };
let browser;
let page;
const measured = {};
const shot = name => page.screenshot({ path: join(artifacts, `${name}.png`) });
const STATION = 'urn:ngsi-ld:AirQualityObserved:dongsi';

before(async () => {
  await city.start();
  city.replayStations();
  // Dongsi's readings with a PM2.5 value in the replayed file: all of them must be in its history.
  const [header, ...rows] = readFileSync(join(root, 'data/beijing-air/air-quality-2017-02-01_03.csv'), 'utf8').trim().split(/\r?\n/).map(l => l.split(','));
  const readings = rows.filter(r => r[header.indexOf('station')] === 'Dongsi' && r[header.indexOf('PM2.5')] !== 'NA').length;
  await until('12 stations with their history', async () => {
    const s = await city.api('/ngsi-ld/v1/entities?type=AirQualityObserved&options=keyValues&pick=id,pm25&limit=100');
    const h = await city.api(`/ngsi-ld/v1/temporal/entities/${STATION}?attrs=pm25&options=temporalValues&lastN=100`);
    return s.length === 12 && (h.pm25?.values?.length ?? 0) === readings;
  }, 30000, 200);
  // The demo's own default air rules give way to the test's, which also opens an incident.
  await city.api('/admin/v1/rules/pm25-heavy', { method: 'DELETE' });
  await city.api('/admin/v1/rules/aqi-heavy/disable', { method: 'POST' });
  await city.api('/admin/v1/rules', { method: 'POST', body: {
    id: 'pm25-heavy', watch: { type: 'AirQualityObserved' }, when: 'pm25>150', clearWhen: 'pm25<115', severity: 'high',
    actions: [{ alert: { category: 'environment', subCategory: 'airPollution' } }, { incident: { category: 'environment' } }] } });
  await city.api('/ngsi-ld/v1/entities', { method: 'POST', body: {
    id: 'urn:ngsi-ld:ResponseUnit:env-patrol-1', type: 'ResponseUnit', kind: { type: 'Property', value: 'environment' },
    available: { type: 'Property', value: true }, location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [116.40, 39.93] } } } });
  browser = await launchBrowser();
  measured.emptyCanvasFrames = await webglBaseline(browser);
  strict ||= measured.emptyCanvasFrames.p95 < 20;
  measured.timingTargetsAsserted = strict;
  page = await openPage(browser, city.base);
});

after(async () => {
  writeFileSync(join(artifacts, 'measurements.json'), JSON.stringify(measured, null, 2));
  console.log('console measurements:', JSON.stringify(measured));
  await browser?.close();
  city.stop();
});

test('the map shows every district and every station, usable within 2 s of navigation', async () => {
  await page.goto(`${city.base}/?lang=zh`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 20000 });
  measured.usableMs = Math.round(await page.evaluate(() => window.citytwin.readyAt));
  measured.usablePhasesMs = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, Math.round(m.startTime)])));
  const districts = await city.api('/ngsi-ld/v1/entities?type=District&count=true&limit=0&pick=id');
  const stations = await city.api('/ngsi-ld/v1/entities?type=AirQualityObserved&pick=id&limit=1000');
  const shown = await page.evaluate(() => {
    const map = window.citytwin.getMap();
    return {
      districts: map.querySourceFeatures('districts').map(f => f.properties.id),
      stations: map.queryRenderedFeatures({ layers: ['pts-AirQualityObserved'] }).map(f => f.properties.id),
    };
  });
  const districtCount = (await fetch(`${city.base}/ngsi-ld/v1/entities?type=District&count=true&limit=1`)).headers.get('NGSILD-Results-Count');
  void districts;
  assert.equal(new Set(shown.districts).size, Number(districtCount));
  assert.deepEqual([...new Set(shown.stations)].sort(), stations.map(s => s.id).sort());
  await shot('01-map');
  target(measured.usableMs < 2000, `usable after ${measured.usableMs} ms`);
});

test('search by name opens the station: attributes by their short names and a history chart', async () => {
  await page.fill('#search', 'Dongs');
  await page.click(`#search-results .hit[data-id="${STATION}"]`);
  await page.locator('#panel tr[data-attr=pm25]').waitFor({ timeout: 10000 });
  const names = await page.$$eval('#panel tr[data-attr]', rows => rows.map(r => r.dataset.attr));
  assert.ok(names.includes('pm25') && names.includes('name'));
  assert.ok(names.every(n => !n.includes('://')), `IRIs among ${names}`);
  await page.locator('#history-chart canvas').waitFor({ timeout: 15000 });
  await shot('01b-panel');
  await page.click('#panel .close');
});

test('a reading published over MQTT changes a station colour without a reload, within 1 s', async () => {
  const before = await page.evaluate(id => window.citytwin.renderedColor(id, 'AirQualityObserved'), STATION);
  const [pm25, colour] = before === GOOD ? [400, HAZARDOUS] : [10, GOOD];
  await page.evaluate(() => { window.citytwin.updates = {}; window.citytwin.received = {}; });
  const published = Date.now();
  city.publish('/beijing-air/dongsi/attrs', `PM2.5|${pm25}`);
  // The reading arrives first and its AQI (computed by the air application from it) right after:
  // wait for the colour of the new AQI.
  const update = await until('the new colour on screen', () => page.evaluate(([id, c]) => {
    const u = window.citytwin.updates[id];
    return u && u.color === c ? u : null;
  }, [STATION, colour]), 10000, 20);
  measured.mqttToScreenMs = Math.round(update.at - published);
  measured.mqttToBrowserMs = Math.round(await page.evaluate(id => window.citytwin.received[id], STATION) - published);
  assert.equal(update.color, colour);
  assert.equal(await page.evaluate(id => window.citytwin.renderedColor(id, 'AirQualityObserved'), STATION), colour);
  await shot('02-live-colour');
  target(measured.mqttToScreenMs < 1000, `reading on screen after ${measured.mqttToScreenMs} ms`);
});

test('the live badge shows a lost connection, and the console reconnects by itself and catches up', async () => {
  await page.locator('#live-badge[data-state=online]').waitFor({ timeout: 10000 });
  const errorsBefore = page.errors.length;
  await city.stopServer();
  await page.locator('#live-badge[data-state=offline]').waitFor({ timeout: 10000 });
  await shot('02b-offline');
  await city.startServer();
  // A change made while the page is still reconnecting: it must reach the screen (live or by catching up).
  const [pm25, colour] = (await page.evaluate(id => window.citytwin.renderedColor(id, 'AirQualityObserved'), STATION)) === HAZARDOUS
    ? [10, GOOD] : [400, HAZARDOUS];
  await city.api(`/ngsi-ld/v1/entities/${encodeURIComponent(STATION)}/attrs`, { method: 'PATCH', body: { pm25: { type: 'Property', value: pm25 } } });
  await page.locator('#live-badge[data-state=online]').waitFor({ timeout: 20000 });
  await page.waitForFunction(([id, c]) => window.citytwin.renderedColor(id, 'AirQualityObserved') === c, [STATION, colour], { timeout: 15000 });
  page.errors.splice(errorsBefore);  // refused connections during the outage this test made
});

test('one live stream: filtered on the server by type and bounds, catching up after a reconnection', async () => {
  await streamProtocol(city, page, STATION);
});

test('the console narrows its stream to the map view, and what changed off screen comes back with the view', async () => {
  await streamFollowsMap(city, page, STATION, now => (now === HAZARDOUS ? [10, GOOD] : [400, HAZARDOUS]));
});

test('an alert appears, and its incident is acknowledged, dispatched and resolved through the UI', async () => {
  city.publish('/beijing-air/dongsi/attrs', 'PM2.5|10');
  await until('the dongsi alert to clear', async () => {
    const a = await city.api(`/ngsi-ld/v1/entities?type=https://smartdatamodels.org/dataModel.Alert/Alert&options=keyValues&limit=1000`, { headers: { Link: ALERT_LINK } });
    return !a.some(x => x.alertSource === STATION && x.status === 'active');
  });
  await page.click('a[data-view=alerts]');
  city.publish('/beijing-air/dongsi/attrs', 'PM2.5|420');
  const alertRow = page.locator(`#alerts-table tr[data-alert*="${STATION}"]`);
  await alertRow.first().waitFor({ timeout: 10000 });
  const incident = await until('the new incident', async () => {
    const list = await city.api(`/ngsi-ld/v1/entities?type=Incident&options=keyValues&limit=1000&q=${encodeURIComponent(`concerns=="${STATION}";status=="open"`)}`);
    return list.sort((a, b) => String(b.openedAt?.['@value'] ?? b.openedAt).localeCompare(String(a.openedAt?.['@value'] ?? a.openedAt)))[0];
  });
  const row = page.locator(`#incidents-table tr[data-incident="${incident.id}"]`);
  await row.waitFor({ timeout: 10000 });
  await shot('03-alerts');
  for (const [action, status] of [['acknowledge', 'acknowledged'], ['dispatch', 'dispatched'], ['resolve', 'resolved']]) {
    await row.locator(`button[data-action=${action}]`).click();
    await page.locator(`#incidents-table tr[data-incident="${incident.id}"][data-status=${status}]`).waitFor({ timeout: 10000 });
    const stored = await city.api(`/ngsi-ld/v1/entities/${encodeURIComponent(incident.id)}?options=keyValues`);
    assert.equal(stored.status, status);
    if (status === 'dispatched') {
      assert.equal(stored.assignedUnit, 'urn:ngsi-ld:ResponseUnit:env-patrol-1');
      await incidentRoute(city, page, incident.id, shot);
    }
  }
  // Response times: the means of what the server measured, shown above the incidents.
  const times = (await city.api(`/ngsi-ld/v1/entities?type=Incident&options=keyValues&limit=1000`)).map(i => i.timeToAcknowledge).filter(v => typeof v === 'number');
  const mean = Math.round(times.reduce((a, b) => a + b, 0) / times.length);
  await until('the mean time to acknowledge shown', async () =>
    (await page.locator('#response-times [data-mean=timeToAcknowledge]').textContent()).match(/(\d+) s/)?.[1] === String(mean));
  await shot('04-incident-resolved');
});

test('a rule created with a syntax error shows the server error at the field', async () => {
  await page.click('a[data-view=rules]');
  await page.locator('#rules-table tr[data-rule="pm25-heavy"]').waitFor();
  await page.click('#rule-new');
  await page.fill('#rule-form input[name=id]', 'bad-rule');
  await page.fill('#rule-form input[name=when]', 'pm25>>150');
  await page.click('#rule-save');
  const error = page.locator('#rule-form [data-error-for=when]');
  await error.waitFor({ timeout: 10000 });
  assert.match(await error.textContent(), /^when: .*'>>'/);
  assert.equal(await page.locator('#rule-form [data-field=when] input.invalid').count(), 1);
  await shot('05-rule-error');
  const rules = await city.api('/admin/v1/rules');
  assert.ok(!rules.some(r => r.id === 'bad-rule'));
  page.errors = page.errors.filter(e => !/^400 POST .*\/admin\/v1\/rules$/.test(e));  // the refusal this test asked for
});

test('a rule is disabled and enabled again from the list', async () => {
  const toggle = page.locator('#rules-table tr[data-rule="pm25-heavy"] button[data-action=toggle]');
  await toggle.click();
  await page.locator('#rules-table tr[data-rule="pm25-heavy"].disabled').waitFor({ timeout: 10000 });
  assert.equal((await city.api('/admin/v1/rules/pm25-heavy')).enabled, false);
  await page.locator('#rules-table tr[data-rule="pm25-heavy"] button[data-action=toggle]').click();
  await page.locator('#rules-table tr[data-rule="pm25-heavy"]:not(.disabled)').waitFor({ timeout: 10000 });
  assert.equal((await city.api('/admin/v1/rules/pm25-heavy')).enabled, true);
});

test('switching language changes the labels', async () => {
  const labels = () => page.evaluate(() => [...document.querySelectorAll('#nav a, #lang-toggle, #rule-form label > span:first-child, #rules-table th')].map(e => e.textContent));
  const zh = await labels();
  await page.click('#lang-toggle');
  const en = await labels();
  assert.equal(zh.length, en.length);
  assert.ok(zh.length > 10);
  zh.forEach((label, i) => assert.notEqual(label, en[i], `label ${i} (${label}) is not translated`));
  assert.ok(en.includes('Rules') && zh.includes('规则'));
  await shot('06-english');
});

test('the time machine shows the AQI a station had at a past moment', async () => {
  await page.click('a[data-view=map]');
  const moment = Date.parse('2017-02-02T06:00:00Z');
  await page.evaluate(at => {
    const slider = document.getElementById('tm-slider');
    slider.value = String(at);
    slider.dispatchEvent(new Event('change'));
  }, moment);
  await page.locator(`#timemachine[data-moment="${new Date(moment).toISOString()}"]`).waitFor({ timeout: 10000 });
  const shown = Number(await page.locator(`[data-tm-station="${STATION}"]`).getAttribute('data-aqi'));
  // The station's AQI then: the one the air application recorded with the reading, else the PM2.5 IAQI.
  const past = await city.api(`/ngsi-ld/v1/temporal/entities/${STATION}?attrs=pm25,airQualityIndex&options=temporalValues&timerel=before&timeAt=${new Date(moment + 1).toISOString()}&lastN=1`);
  const now = await city.api(`/ngsi-ld/v1/entities/${STATION}?options=keyValues&pick=pm25,airQualityIndex`);
  const aqiThen = past.airQualityIndex ? past.airQualityIndex.values[0][0] : iaqi(past.pm25.values[0][0]);
  const aqiNow = now.airQualityIndex ?? iaqi(now.pm25);
  assert.equal(shown, aqiThen);
  assert.notEqual(shown, aqiNow);
  // The map draws the station in the colour of its level then.
  await page.waitForFunction(([id, colour]) => window.citytwin.renderedColor(id, 'AirQualityObserved') === colour,
    [STATION, bandColour(shown)], { timeout: 10000 });
  await shot('07-time-machine');
  await page.click('#tm-live');
});

test('the dashboard shows KPI tiles and a big-screen mode', async () => {
  await page.click('a[data-view=dashboard]');
  await page.locator('[data-kpi="dash.stations"] .tile-value').waitFor();
  assert.equal(await page.locator('[data-kpi="dash.stations"] .tile-value').textContent(), '12');
  await page.click('#big-screen');
  await page.setViewportSize({ width: 1920, height: 1080 });
  await shot('08-dashboard-big-screen');
  await page.click('#big-screen');
  await page.setViewportSize({ width: 1600, height: 900 });
  await page.click('a[data-view=devices]');
  await page.locator('#devices-table tr[data-device="dongsi"][data-state=online]').waitFor({ timeout: 10000 });
  await shot('09-devices');
});

test('a dashboard per application from its KPIs, the AQI calendar, and the big screen cycling through them', async () => {
  await applicationDashboards(city, page, shot);
});

test('a command sent to a device from the console, its status shown as the device answers', async () => {
  await deviceCommand(city, page, shot);
});

test('every request the page made went to the CityTwin server', () => {
  assert.deepEqual(foreignRequests(page, city.base), []);
  assert.deepEqual(page.errors, []);
});

test('with 10,000 located entities, panning and zooming keep frames under 50 ms', async () => {
  const entities = [];
  for (let i = 0; i < 10000; i++) {
    entities.push({ id: `urn:ngsi-ld:StreetLight:bench-${i}`, type: 'StreetLight',
      location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [115.8 + ((i * 7919) % 10007) / 10007 * 1.4, 39.6 + ((i * 104729) % 10009) / 10009 * 1.2] } } });
  }
  for (let i = 0; i < entities.length; i += 1000) {
    await city.api('/ngsi-ld/v1/entityOperations/upsert', { method: 'POST', body: entities.slice(i, i + 1000) });
  }
  const bench = await openPage(browser, city.base);
  await bench.goto(`${city.base}/?lang=en`);
  await bench.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60000 });
  measured.usableMsWith10kEntities = Math.round(await bench.evaluate(() => window.citytwin.readyAt));
  const frames = await bench.evaluate(async () => {
    const map = window.citytwin.getMap();
    const deltas = [];
    let last = performance.now();
    let running = true;
    const tick = now => { deltas.push(now - last); last = now; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(t => { last = t; requestAnimationFrame(tick); });
    const move = f => new Promise(r => { map.once('moveend', r); f(); });
    await move(() => map.panBy([400, 0], { duration: 1000 }));
    await move(() => map.panBy([-400, 200], { duration: 1000 }));
    await move(() => map.zoomTo(map.getZoom() + 2, { duration: 1000 }));
    await move(() => map.zoomTo(map.getZoom() - 2, { duration: 1000 }));
    running = false;
    deltas.sort((a, b) => a - b);
    const at = q => deltas[Math.min(deltas.length - 1, Math.floor(q * deltas.length))];
    return { count: deltas.length, p50: at(0.5), p95: at(0.95), max: deltas[deltas.length - 1] };
  });
  measured.frames10k = Object.fromEntries(Object.entries(frames).map(([k, v]) => [k, Math.round(v * 10) / 10]));
  measured.entitiesOnMap = await bench.evaluate(() => [...window.citytwin.layers.values()].reduce((n, l) => n + l.features.size, 0));
  await bench.screenshot({ path: join(artifacts, '10-10k-entities.png') });
  assert.deepEqual(foreignRequests(bench, city.base), []);
  assert.ok(measured.entitiesOnMap >= 10000);
  target(frames.p95 < 50, `p95 frame ${frames.p95} ms`);
});
