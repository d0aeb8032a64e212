// Starts what the browser tests need: mosquitto on a free port, `citytwin demo --mqtt` with a temp
// data dir and the built console (web/dist), the 12 Beijing air stations replayed through MQTT (their
// history is what the time machine shows), and headless Debian chromium driven by playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

export const root = resolve(import.meta.dirname, '../..');
const require = createRequire(join(root, 'web/package.json'));
const { chromium } = require('playwright-core');

export const artifacts = process.env.CITYTWIN_BROWSER_ARTIFACTS ?? join(root, 'build/browser-artifacts');
mkdirSync(artifacts, { recursive: true });
const binary = process.env.CITYTWIN_BIN ?? join(root, 'build/release/citytwin');
const webDir = process.env.CITYTWIN_WEB_DIR ?? join(root, 'web/dist');

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

export async function until(what, check, timeoutMs = 15000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, everyMs));
  }
}

export class City {
  processes = [];
  async start() {
    if (!existsSync(binary)) throw new Error(`${binary} is missing: make release`);
    if (!existsSync(join(webDir, 'index.html'))) throw new Error(`${webDir} is missing: make web`);
    this.dir = mkdtempSync(join(tmpdir(), 'citytwin-browser-'));
    this.mqttPort = await freePort();
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    this.spawn('mosquitto', ['-p', String(this.mqttPort)], 'mosquitto.log');
    await until('mosquitto', () => this.tcpOpen(this.mqttPort), 10000);
    await this.startServer();
  }
  async startServer() {
    // --speed 0: no built-in live feed; the stations' readings are the test's own MQTT replay, so the
    // history the time machine shows is exactly what the test sent.
    this.server = this.spawn(binary, ['demo', '--speed', '0', '--listen', `127.0.0.1:${this.port}`, '--data-dir', join(this.dir, 'data'),
      '--mqtt', `mqtt://127.0.0.1:${this.mqttPort}`, '--web-dir', webDir, '--log-level', 'warn'], 'citytwin.log');
    await until('citytwin /health', async () => (await fetch(`${this.base}/health`).catch(() => null))?.ok, 30000, 100);
  }
  async stopServer() {
    const exited = new Promise(ok => this.server.once('exit', ok));
    this.server.kill('SIGTERM');
    await exited;
    this.processes = this.processes.filter(p => p !== this.server);
  }
  spawn(cmd, args, log) {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', () => {}); p.stderr.on('data', () => {});
    this.processes.push(p);
    return p;
  }
  tcpOpen(port) {
    return new Promise(ok => {
      const { Socket } = require('node:net');
      const s = new Socket();
      s.once('connect', () => { s.destroy(); ok(true); });
      s.once('error', () => ok(false));
      s.connect(port, '127.0.0.1');
    });
  }
  // The Beijing stations, provisioned and their 72 hours of readings sent through the broker at once.
  replayStations() {
    const r = spawnSync(binary, ['replay', '--csv', join(root, 'data/beijing-air/air-quality-2017-02-01_03.csv'),
      '--to', `mqtt://127.0.0.1:${this.mqttPort}`, '--provision', this.base, '--apikey', 'beijing-air',
      '--locations', join(root, 'data/beijing-air/stations.csv'), '--utc-offset', '+08:00', '--speedup', '100000000'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`replay failed: ${r.stderr}`);
  }
  publish(topic, payload) {
    const r = spawnSync('mosquitto_pub', ['-p', String(this.mqttPort), '-q', '1', '-t', topic, '-m', payload]);
    if (r.status !== 0) throw new Error(`mosquitto_pub failed: ${r.stderr}`);
  }
  async api(path, { method = 'GET', body, headers = {} } = {}) {
    const r = await fetch(`${this.base}${path}`, {
      method, headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  stop() {
    for (const p of this.processes.reverse()) p.kill('SIGTERM');
    if (this.dir && !process.env.CITYTWIN_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  return chromium.launch({
    executablePath,
    // WebGL in software (SwiftShader through ANGLE: there is no GPU). Turning vsync and the frame-rate
    // limit off makes frames of an empty canvas cheap (tests/browser/gl_flags.mjs) but leaves the
    // compositor spinning: the console then became usable 3 times later on a loaded machine, so not here.
    args: ['--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-dev-shm-usage'],
  });
}

// A page that records every request it makes (HTTP and WebSocket), to check they all go to `origin`.
export async function openPage(browser, origin) {
  const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  const page = await context.newPage();
  page.requests = [];
  page.errors = [];
  page.on('request', r => page.requests.push(r.url()));
  page.on('websocket', ws => page.requests.push(ws.url()));
  page.on('pageerror', e => page.errors.push(e.message));
  page.on('response', r => { if (r.status() >= 400) page.errors.push(`${r.status()} ${r.request().method()} ${r.url()}`); });
  page.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(m.text()); });
  void origin;
  return page;
}

export function foreignRequests(page, base) {
  const host = new URL(base).host;
  return page.requests.filter(u => {
    if (u.startsWith('data:') || u.startsWith('blob:')) return false;
    return new URL(u).host !== host;
  });
}

// How fast this machine's browser draws at all: rAF frame times of an empty WebGL canvas being cleared,
// the floor under every timing the console tests measure (software GL on a loaded machine is slow).
export async function webglBaseline(browser) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await page.setContent('<canvas id=c width=1600 height=900></canvas>');
  const r = await page.evaluate(async () => {
    const gl = document.getElementById('c').getContext('webgl2');
    const d = [];
    let last = performance.now();
    await new Promise(done => {
      const tick = t => { gl.clearColor(Math.random(), 0, 0, 1); gl.clear(gl.COLOR_BUFFER_BIT); d.push(t - last); last = t; if (d.length < 60) requestAnimationFrame(tick); else done(); };
      requestAnimationFrame(t => { last = t; requestAnimationFrame(tick); });
    });
    d.sort((a, b) => a - b);
    return { p50: d[30], p95: d[57] };
  });
  await page.close();
  return { p50: Math.round(r.p50 * 10) / 10, p95: Math.round(r.p95 * 10) / 10 };
}
