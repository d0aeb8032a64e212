// Browser checks of the dispatched unit's route, the per-application dashboards with the big-screen
// cycle, and device commands; called in order by console.test.mjs on its page.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { until } from './harness.mjs';

const KPI_LINK = '<https://raw.githubusercontent.com/smart-data-models/dataModel.KeyPerformanceIndicator/master/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"';
const HOUR = 3_600_000;

// Great-circle distance (m): the oracle for the distance the console shows.
function haversine([lon1, lat1], [lon2, lat2]) {
  const r = Math.PI / 180;
  const x = Math.sin((lat2 - lat1) * r / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin((lon2 - lon1) * r / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(x));
}

// A dispatched incident: a line from its unit to it on the map, the distance in its row.
export async function incidentRoute(city, page, incidentId, shot) {
  const incident = await city.api(`/ngsi-ld/v1/entities/${encodeURIComponent(incidentId)}?options=keyValues`);
  const unit = await city.api(`/ngsi-ld/v1/entities/${encodeURIComponent(incident.assignedUnit)}?options=keyValues`);
  const from = unit.location.coordinates, to = incident.location.coordinates;
  const km = (haversine(from, to) / 1000).toFixed(1);
  const row = page.locator(`#incidents-table tr[data-incident="${incidentId}"]`);
  await row.locator(`[data-route-km="${km}"]`).waitFor({ timeout: 10000 });
  await row.locator('button[data-action=route]').click();
  await page.locator('#view-map:not([hidden])').waitFor();
  const line = await until('the route on the map', () => page.evaluate(id => {
    const f = window.citytwin.getMap().querySourceFeatures('routes').find(x => x.properties.incident === id);
    return f ? f.geometry.coordinates : null;
  }, incidentId));
  assert.equal(line.length, 2);
  for (const [got, want] of [[line[0], from], [line[1], to]]) {
    assert.ok(Math.abs(got[0] - want[0]) < 1e-4 && Math.abs(got[1] - want[1]) < 1e-4, `route ends at ${got}, not ${want}`);
  }
  await page.waitForFunction(() => window.citytwin.getMap().loaded());
  await shot('04b-route');
  await page.click('a[data-view=alerts]');
}

// KPIs of an application the console has never heard of ("water"), hourly per district with a day of
// history and a city figure: a tab of its own with its tiles, bars and the district × hour heatmap.
export async function applicationDashboards(city, page, shot) {
  const districts = (await city.api('/ngsi-ld/v1/entities?type=District&options=keyValues&pick=id&limit=3')).map(d => d.id);
  const end = Math.floor(Date.now() / HOUR) * HOUR;
  const kpi = (area, values) => ({
    id: `urn:ngsi-ld:KeyPerformanceIndicator:water:leakRate:hourly:${area}`, type: 'KeyPerformanceIndicator',
    name: { type: 'Property', value: 'Leak rate' }, process: { type: 'Property', value: 'water' },
    calculationFrequency: { type: 'Property', value: 'hourly' }, area: { type: 'Property', value: area },
    kpiValue: values.map((v, i) => ({ type: 'Property', value: v, observedAt: new Date(end - (values.length - 1 - i) * HOUR).toISOString() })),
  });
  for (const [i, d] of districts.entries())
    await city.api('/ngsi-ld/v1/temporal/entities', { method: 'POST', headers: { Link: KPI_LINK }, body: kpi(d, Array.from({ length: 24 }, (_, h) => i * 10 + h)) });
  await city.api('/ngsi-ld/v1/temporal/entities', { method: 'POST', headers: { Link: KPI_LINK }, body: kpi('city', [1.5, 2.25]) });

  await page.click('a[data-view=dashboard]');
  await page.click('#dash-tabs a[data-app=water]');
  const tile = page.locator('[data-kpi="leakRate/hourly"] .tile-value');
  await tile.waitFor({ timeout: 10000 });
  assert.equal(await tile.textContent(), '2.25');
  await page.locator(`[data-heatmap=leakRate][data-cells="${districts.length * 24}"]`).waitFor({ timeout: 15000 });
  await page.locator('[data-chart="bar-leakRate/hourly"] canvas').waitFor();
  await shot('11-dashboard-water');

  // The air application: the AQI calendar, one cell per station-day the server reports an AQI for.
  await page.click('#dash-tabs a[data-app=air]');
  const stations = await city.api('/ngsi-ld/v1/entities?type=AirQualityObserved&pick=id&limit=100');
  let cells = 0;
  for (const s of stations) {
    const month = await city.api(`/city/v1/air/calendar?id=${encodeURIComponent(s.id)}&month=2017-02`);
    cells += month.days.filter(d => typeof d.aqi === 'number').length;
  }
  assert.ok(cells > 0);
  await page.locator(`#aqi-calendar[data-cells="${cells}"]`).waitFor({ timeout: 20000 });
  await shot('12-dashboard-air-calendar');

  // Big screen: cycles through the overview, every application's dashboard, the map and the alerts.
  await page.click('#dash-tabs a[data-app=overview]');
  await page.evaluate(() => {
    window.__hashes = [];
    window.addEventListener('hashchange', () => window.__hashes.push(location.hash));
    window.citytwin.setCycleMs(400);
  });
  await page.click('#big-screen');
  const wanted = ['#/dashboard?app=air', '#/dashboard?app=water', '#/map', '#/alerts', '#/dashboard'];
  await until('the big screen to cycle through every screen', () => page.evaluate(w => w.every(x => window.__hashes.includes(x)), wanted), 20000);
  await page.keyboard.press('Escape');  // leaves the big screen
  await page.waitForFunction(() => !document.body.classList.contains('big'));
  await page.evaluate(() => window.citytwin.setCycleMs(20000));
  await page.click('a[data-view=dashboard]');
}

// A device that takes commands: sent from the devices view, its status on screen as it goes.
export async function deviceCommand(city, page, shot) {
  await city.api('/iot/services', { method: 'POST', body: { services: [{ apikey: 'valve-key', entity_type: 'WaterValve', resource: '/iot/d' }] } });
  await city.api('/iot/devices', { method: 'POST', body: { devices: [{ device_id: 'valve1', apikey: 'valve-key', transport: 'MQTT',
    protocol: 'PDI-IoTA-UltraLight', commands: [{ name: 'close', type: 'command' }] }] } });
  // The simulated device: subscribed (its SUBACK seen) before the command is sent.
  // (stdbuf: its output line by line, not when it exits)
  const device = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-d', '-p', String(city.mqttPort), '-t', '/valve-key/valve1/cmd', '-C', '1', '-W', '30']);
  let out = '';
  device.stdout.on('data', d => { out += d; });
  await until('the device subscribed', () => out.includes('SUBACK'), 10000);
  await page.click('a[data-view=devices]');
  const row = page.locator('#devices-table tr[data-device=valve1] [data-command=close]');
  await row.waitFor({ timeout: 10000 });
  await row.locator('input').fill('50');
  await row.locator('button[data-send=close]').click();
  await until('the command on the device topic', () => out.includes('valve1@close|50'), 10000);
  await page.locator('#devices-table tr[data-device=valve1] [data-command=close][data-status=PENDING]').waitFor({ timeout: 10000 });
  city.publish('/valve-key/valve1/cmdexe', 'valve1@close|closed to 50');
  const done = page.locator('#devices-table tr[data-device=valve1] [data-command=close][data-status=OK]');
  await done.waitFor({ timeout: 10000 });
  assert.match(await done.locator('.cmd-info').textContent(), /closed to 50/);
  const stored = await city.api('/ngsi-ld/v1/entities/urn:ngsi-ld:WaterValve:valve1?options=keyValues');
  assert.equal(stored.close_status, 'OK');
  await shot('13-device-command');
  device.kill();
}
