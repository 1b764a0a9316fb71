/**
 * The browser app: `vite` / `vite build` with this file (npm scripts `web` and `build:web`). `spikets` resolves to
 * the library's source entry (../src/index.ts), so the page uses exactly the public API.
 *
 * Both the dev server and `vite preview` send COOP/COEP, which makes the page cross-origin isolated:
 * SharedArrayBuffer exists and the wasm backend can run several threads over one shared memory.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { mnistAssets } from './mnist-assets.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: here('public'),
  resolve: { alias: { spikets: here('../src/index.ts') } },
  plugins: [mnistAssets(here('public'))],
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
  worker: { format: 'es' },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    // vega + vega-lite are large on their own; the warning would say nothing new.
    chunkSizeWarningLimit: 2500,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod's sources carry /* @__PURE__ */ comments in places Rollup ignores; harmless and not ours to fix.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
});
