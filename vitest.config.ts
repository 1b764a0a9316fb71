import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Tests that read ../shared (golden vectors from snnTorch, the peer's reference run). */
const sharedTests = [
  'test/backend/reference.test.ts',
  'test/functional/accuracy-options.test.ts',
  'test/functional/losses-golden.test.ts',
  'test/nn/cnn-golden.test.ts',
  'test/snn/leaky.test.ts',
  'test/snn/neurons.test.ts',
  'test/snn/spikegen.test.ts',
  'test/snn/surrogates.test.ts',
  'test/train/network-golden.test.ts',
  'test/train/replay.test.ts',
  'test/train/torch-seed-golden.test.ts',
];
const sharedDir = process.env.SPIKETS_SHARED_DIR ?? fileURLToPath(new URL('../shared/', import.meta.url));
const hasShared = existsSync(join(sharedDir, 'golden', 'network.json'));
if (!hasShared) {
  console.warn(
    `warning: ${sharedDir} has no golden vectors; skipping the ${sharedTests.length} golden test files (set SPIKETS_SHARED_DIR)`,
  );
}

export default defineConfig({
  resolve: { alias: { spikets: fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(hasShared ? [] : sharedTests)],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
