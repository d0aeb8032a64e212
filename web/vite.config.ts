import { defineConfig } from 'vite';

// The console is served by citytwin itself at /, so every asset URL is relative to the root and the
// dev server proxies the API to a running citytwin (CITYTWIN_URL, default http://127.0.0.1:1026).
const target = process.env.CITYTWIN_URL ?? 'http://127.0.0.1:1026';

export default defineConfig({
  base: '/',
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000, sourcemap: false },
  server: {
    proxy: {
      '/ngsi-ld': { target, ws: true },
      '/admin': target,
      '/iot': target,
      '/health': target,
    },
  },
});
