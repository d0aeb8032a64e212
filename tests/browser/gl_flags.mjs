// Which chromium flags draw WebGL fastest on this machine: for each set, the rAF frame times of an
// empty 1600×900 WebGL2 canvas being cleared and of a canvas drawing 10,000 points, and the renderer
// the page reports. Not a test: `node tests/browser/gl_flags.mjs` (after npm ci in web/); the
// numbers back the choice of flags in harness.mjs (docs/benchmarks.md).
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const { chromium } = createRequire(join(root, 'web/package.json'))('playwright-core');

const SETS = {
  'angle+swiftshader': ['--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  'angle+swiftshader, no vsync': ['--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-gpu-vsync', '--disable-frame-rate-limit'],
  'angle+swiftshader, gpu raster, blocklist ignored': ['--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--enable-gpu-rasterization', '--disable-gpu-vsync', '--disable-frame-rate-limit'],
  'angle+swiftshader, in-process gpu': ['--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--in-process-gpu', '--disable-gpu-vsync', '--disable-frame-rate-limit'],
  'defaults': [],
};
const only = process.argv[2];

async function measure(page, points) {
  return page.evaluate(async n => {
    const c = document.getElementById('c');
    const gl = c.getContext('webgl2');
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    const vs = gl.createShader(gl.VERTEX_SHADER);
    gl.shaderSource(vs, '#version 300 es\nin vec2 p; uniform float t; void main(){ gl_Position = vec4(p.x + t, p.y, 0, 1); gl_PointSize = 6.0; }');
    gl.compileShader(vs);
    const fs = gl.createShader(gl.FRAGMENT_SHADER);
    gl.shaderSource(fs, '#version 300 es\nprecision mediump float; out vec4 o; void main(){ o = vec4(1, .5, 0, 1); }');
    gl.compileShader(fs);
    const prog = gl.createProgram();
    gl.attachShader(prog, vs); gl.attachShader(prog, fs); gl.linkProgram(prog); gl.useProgram(prog);
    const data = new Float32Array(n * 2).map(() => Math.random() * 2 - 1);
    gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
    gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    const t = gl.getUniformLocation(prog, 't');
    const d = [];
    let last = performance.now();
    await new Promise(done => {
      const tick = now => {
        gl.clearColor(0, 0, Math.random(), 1); gl.clear(gl.COLOR_BUFFER_BIT);
        if (n) { gl.uniform1f(t, (now % 1000) / 5000); gl.drawArrays(gl.POINTS, 0, n); }
        d.push(now - last); last = now;
        if (d.length < 90) requestAnimationFrame(tick); else done();
      };
      requestAnimationFrame(now => { last = now; requestAnimationFrame(tick); });
    });
    d.sort((a, b) => a - b);
    return { renderer, p50: Math.round(d[45] * 10) / 10, p95: Math.round(d[85] * 10) / 10 };
  }, points);
}

for (const [name, args] of Object.entries(SETS)) {
  if (only && name !== only) continue;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage', ...args] });
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await page.setContent('<canvas id=c width=1600 height=900></canvas>');
  const empty = await measure(page, 0);
  await page.setContent('<canvas id=c width=1600 height=900></canvas>');
  const points = await measure(page, 10000);
  console.log(JSON.stringify({ flags: name, renderer: empty.renderer, empty: { p50: empty.p50, p95: empty.p95 }, points10k: { p50: points.p50, p95: points.p95 } }));
  await browser.close();
}
