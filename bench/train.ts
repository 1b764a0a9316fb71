/**
 * Training throughput of spikets on the seed networks (not a test): the same rows as the PyTorch peer
 * (bench/peer/peer.py), on real MNIST training batches (the first batches of the training set, in order).
 *
 *   snn_train_t{50,25,10}  one training iteration of the seed SNN (forward over T steps, ceRateLoss, BPTT, Adam)
 *   snn_forward_t50        forward only (no gradients), T = 50
 *   cnn_train / cnn_forward  the CNN with the same layers (ReLU, cross-entropy)
 * plus peak RSS right after the SNN T=50 row, RSS every 10 iterations of a longer SNN run (`--rss-iters`, the
 * flatness check: memory must not grow across iterations) and the spike density of each LIF layer.
 *
 * Weights: `--weights trained` (default) starts both networks from the golden `after30iters` weights, whose spike
 * activity is typical of training (at the seed init the deeper LIF layers are silent, which would flatter a
 * spike-sparse engine); `--weights init` uses the seed-0 init. Batch 128, Adam lr 1e-2, beta 0.5, fastSigmoid 25.
 *
 * Run compiled (see bench/README.md): node build/bench/train.js [--backend wasm|reference] [--threads N]
 *   [--reps N] [--cnn-reps N] [--warmup N] [--rss-iters N] [--rows a,b] [--weights trained|init] [--golden PATH]
 *   [--name NAME] [--quiet]
 * Writes bench/results/<name>.json (schema: BenchResult in bench/common.ts). Exit code 3: the backend did not load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { activateBackend, type BackendName } from '../src/cli/backend.js';
import { DataLoader } from '../src/data/loader.js';
import { mnist } from '../src/data/node.js';
import { parseConfig } from '../src/experiment/config.js';
import { createCnnModel, createSnnModel, type ComparisonModel } from '../src/experiment/models.js';
import { noGrad } from '../src/tensor/autograd.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { SnnRunner } from '../src/train/snn-runner.js';
import {
  type BenchResult,
  defaultGoldenPath,
  fmtSeconds,
  goldenWeights,
  peakRssMb,
  repoRoot,
  ROW_NAMES,
  type RowName,
  rssMb,
  table,
  timeRow,
} from './common.js';

const USAGE =
  'usage: train.js [--backend wasm|reference] [--threads N] [--reps N] [--cnn-reps N] [--warmup N] [--rss-iters N] ' +
  '[--rows ' +
  ROW_NAMES.join(',') +
  '] [--weights trained|init] [--golden PATH] [--batches N] [--name NAME] [--quiet]';

interface Options {
  backend: BackendName;
  threads: number;
  reps: number;
  cnnReps: number;
  warmup: number;
  rssIters: number;
  rows: RowName[];
  weights: 'trained' | 'init';
  golden: string;
  batches: number;
  name: string;
  quiet: boolean;
}

class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

function count(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min)
    throw new BenchUsageError(`bench/train: --${name} must be an integer >= ${min}, got ${raw}`);
  return v;
}

function checkName(name: string): string {
  if (!/^[\w.-]+$/.test(name))
    throw new BenchUsageError(`bench/train: --name must be letters, digits, '.', '_' or '-', got ${name}`);
  return name;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'wasm' },
      threads: { type: 'string' },
      reps: { type: 'string' },
      'cnn-reps': { type: 'string' },
      warmup: { type: 'string' },
      'rss-iters': { type: 'string' },
      rows: { type: 'string' },
      weights: { type: 'string', default: 'trained' },
      golden: { type: 'string' },
      batches: { type: 'string' },
      name: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const backend = values.backend;
  if (backend !== 'wasm' && backend !== 'reference')
    throw new BenchUsageError(`bench/train: --backend must be wasm or reference, got ${backend}`);
  const weights = values.weights;
  if (weights !== 'trained' && weights !== 'init')
    throw new BenchUsageError(`bench/train: --weights must be trained or init, got ${weights}`);
  const rows = (values.rows ?? ROW_NAMES.join(',')).split(',').filter((r) => r !== '');
  for (const r of rows) {
    if (!(ROW_NAMES as readonly string[]).includes(r))
      throw new BenchUsageError(`bench/train: unknown row ${r} in --rows (rows: ${ROW_NAMES.join(', ')})`);
  }
  return {
    backend,
    threads: count('threads', values.threads, 0, 0),
    reps: count('reps', values.reps, 15, 1),
    cnnReps: count('cnn-reps', values['cnn-reps'], 50, 1),
    warmup: count('warmup', values.warmup, 2, 0),
    rssIters: count('rss-iters', values['rss-iters'], 20, 0),
    rows: rows as RowName[],
    weights,
    golden: values.golden ?? defaultGoldenPath(),
    batches: count('batches', values.batches, 8, 1),
    name: checkName(values.name ?? `spikets-${backend}`),
    quiet: values.quiet,
  };
}

/** Copies the golden weights into the model's six parameters, checking their sizes. */
function loadWeights(model: ComparisonModel, weights: Float32Array[] | null): void {
  if (!weights) return;
  const params = model.net.parameters();
  if (params.length !== weights.length)
    throw new Error(`bench/train: the ${model.kind} has ${params.length} parameters, expected ${weights.length}`);
  params.forEach((p, i) => {
    const w = weights[i]!;
    if (p.size !== w.length)
      throw new Error(`bench/train: ${model.kind} parameter ${i} has ${p.size} values, golden has ${w.length}`);
    p.values.set(w);
  });
}

/** A small cycle of real training batches (always the same ones, so both sides see the same inputs). */
function loadBatches(n: number): { x: Tensor; y: Tensor }[] {
  const { train } = mnist();
  const loader = new DataLoader(train, { batchSize: 128, limit: 128 * n, dropLast: true });
  return [...loader.batches(0)].map(({ x, y }) => ({ x, y }));
}

function main(): Promise<void> | void {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    process.exit(2);
  }
  return run(opts);
}

async function run(opts: Options): Promise<void> {
  const log = (s: string): void => {
    if (!opts.quiet) console.log(s);
  };
  let backend: Awaited<ReturnType<typeof activateBackend>>;
  try {
    backend = await activateBackend(opts.backend, opts.threads);
  } catch (error) {
    console.error(`bench/train: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(3);
  }
  const engine = `spikets ${backend.name} x${backend.threads} thread(s)`;
  const weightSet = opts.weights === 'trained' ? 'after30iters' : 'init_seed0';
  const weights = opts.weights === 'trained' ? goldenWeights(opts.golden, weightSet) : null;
  const batches = loadBatches(opts.batches);
  const load0 = os.loadavg()[0]!;
  log(
    `${engine}; weights ${opts.weights === 'trained' ? `golden ${weightSet}` : 'seed-0 init'}; batch 128, ${batches.length} MNIST batches; load average ${load0.toFixed(2)} on ${os.cpus().length} CPUs`,
  );

  const result: BenchResult = {
    tool: 'spikets',
    engine,
    env: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cpus: os.cpus().length,
      loadavg_start: os.loadavg(),
      date: new Date().toISOString(),
    },
    config: {
      backend: backend.name,
      threads: backend.threads,
      batch: 128,
      weights: opts.weights === 'trained' ? `golden ${weightSet}` : 'seed-0 init',
      data: `MNIST train batches 0..${batches.length - 1}`,
      reps: opts.reps,
      cnn_reps: opts.cnnReps,
      warmup: opts.warmup,
    },
    rows: {},
    peak_rss_mb: { after_snn_train_t50: null, end: 0 },
    extra: {},
  };
  // What the process holds before the first row (Node, the engine's initial memory, MNIST): the baseline of the peak.
  result.extra.rss_before_rows_mb = Number(rssMb().toFixed(1));
  const want = new Set(opts.rows);
  let next = 0;
  const nextBatch = (): { x: Tensor; y: Tensor } => batches[next++ % batches.length]!;
  const losses: Record<string, number[]> = {};
  const measure = (row: RowName, fn: () => number | void, reps: number): void => {
    if (!want.has(row)) return;
    const seen: number[] = [];
    const timing = timeRow(
      () => {
        const loss = fn();
        if (typeof loss === 'number') seen.push(loss);
      },
      reps,
      opts.warmup,
    );
    result.rows[row] = timing;
    if (seen.length > 0) losses[row] = seen.map((l) => Number(l.toFixed(5)));
    log(
      `  ${row.padEnd(16)} median ${fmtSeconds(timing.median_s).padStart(9)}  min ${fmtSeconds(timing.min_s).padStart(9)}  cpu ${fmtSeconds(timing.cpu_median_s).padStart(9)}`,
    );
  };

  // SNN rows first so that the peak RSS after T=50 training is the SNN's own (plus the data set).
  for (const T of [50, 25, 10] as const) {
    const row = `snn_train_t${T}` as const;
    if (!want.has(row)) continue;
    const model = createSnnModel(parseConfig({ numSteps: T }));
    loadWeights(model, weights);
    measure(
      row,
      () => {
        const b = nextBatch();
        return model.trainStep(b.x, b.y);
      },
      opts.reps,
    );
    if (T === 50) result.peak_rss_mb.after_snn_train_t50 = peakRssMb();
  }
  const snn = createSnnModel(parseConfig({}));
  loadWeights(snn, weights);
  const runner = new SnnRunner(snn.net, [1, 28, 28]);
  measure(
    'snn_forward_t50',
    () => {
      noGrad(() => runner.run(nextBatch().x, 50));
    },
    opts.reps,
  );

  const cnn = createCnnModel(parseConfig({}));
  loadWeights(cnn, weights);
  measure(
    'cnn_train',
    () => {
      const b = nextBatch();
      return cnn.trainStep(b.x, b.y);
    },
    opts.cnnReps,
  );
  // The model's evaluation forward (the fused plan, as training uses; plus the batch's loss and argmax, which are
  // negligible): `cnn.net.forward` would time the generic tape path instead.
  measure(
    'cnn_forward',
    () => {
      const b = nextBatch();
      cnn.evaluate(b.x, b.y);
    },
    opts.cnnReps,
  );

  // Spike density per LIF layer, over every cached batch, at the forward model's weights.
  const totals: number[] = [];
  const neuronsPer: number[] = [];
  noGrad(() => {
    for (const b of batches) {
      const { spikeCounts, neurons } = runner.activity(b.x, 50);
      spikeCounts.forEach((c, k) => {
        totals[k] = (totals[k] ?? 0) + c.reduce((p, q) => p + q, 0);
        neuronsPer[k] = neurons[k]!;
      });
    }
  });
  const density = totals.map((t, k) => t / (50 * 128 * batches.length * neuronsPer[k]!));
  result.extra.spike_density_t50 = {
    layers: ['lif1', 'lif2', 'lif3_out'],
    density,
    neurons: neuronsPer,
    fused_plan: runner.fused,
  };
  log(
    `  spike density (T=50): ${density.map((d, k) => `lif${k + 1} ${(100 * d).toFixed(2)}%`).join(', ')}; fused plan: ${runner.fused}`,
  );

  if (opts.rssIters > 0) {
    const model = createSnnModel(parseConfig({}));
    loadWeights(model, weights);
    const samples: { iter: number; rss_mb: number }[] = [];
    for (let i = 1; i <= opts.rssIters; i++) {
      const b = nextBatch();
      model.trainStep(b.x, b.y);
      if (i % 10 === 0 || i === opts.rssIters) samples.push({ iter: i, rss_mb: Number(rssMb().toFixed(1)) });
    }
    // Growth from iteration 50 (or the first sample of a shorter run) to the end: a flat line is ~0 MB.
    const from = samples.find((p) => p.iter >= 50) ?? samples[0]!;
    const last = samples[samples.length - 1]!;
    result.extra.rss_flatness = {
      iters: opts.rssIters,
      samples,
      growth_from_iter: from.iter,
      growth_mb: Number((last.rss_mb - from.rss_mb).toFixed(1)),
    };
    log(
      `  RSS over ${opts.rssIters} SNN T=50 iterations: ${samples.map((s) => `${s.iter}: ${s.rss_mb.toFixed(0)}`).join(', ')} MB`,
    );
  }

  result.peak_rss_mb.end = peakRssMb();
  result.env.loadavg_end = os.loadavg();
  result.extra.losses = losses;
  backend.dispose();

  log('');
  log(
    table(
      ['row', 'median', 'min', 'cpu/iter', 'reps'],
      ROW_NAMES.filter((r) => result.rows[r]).map((r) => {
        const t = result.rows[r]!;
        return [r, fmtSeconds(t.median_s), fmtSeconds(t.min_s), fmtSeconds(t.cpu_median_s), String(t.reps)];
      }),
    ),
  );
  const peak = result.peak_rss_mb.after_snn_train_t50;
  const before = (result.extra.rss_before_rows_mb as number).toFixed(0);
  log(
    `peak RSS: ${peak === null ? '-' : `${peak.toFixed(0)} MB`} after the SNN T=50 training row, ${result.peak_rss_mb.end.toFixed(0)} MB at the end (RSS before the first row: ${before} MB)`,
  );

  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${opts.name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${file}`);
}

await main();
