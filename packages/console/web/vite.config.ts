// Builds the Samsa Console front end (Preact + uPlot) into web/dist, which the console server
// serves. Relative asset URLs, no CDN: the page loads nothing from outside the console server.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 300 },
  logLevel: 'warn',
});
