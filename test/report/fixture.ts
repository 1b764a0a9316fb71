/**
 * Synthetic, deterministic comparison results for the report tests (and for anyone who needs a plausible
 * results.json without training): smooth exponential loss and accuracy curves with seeded noise, per-epoch times,
 * a confusion matrix consistent with the final accuracy, and an SNN sample (raster, membrane, output counts).
 */
import { CE_RATE_LOSS_FLOOR } from '../../src/experiment/analysis.js';
import type {
  EvalRecord,
  IterationRecord,
  ModelKind,
  ModelRecord,
  Results,
  RunConfig,
  SnnSample,
} from '../../src/experiment/results.js';
import { Rng } from '../../src/tensor/random.js';

export const LN10 = Math.log(10);

export function syntheticConfig(over: Partial<RunConfig> = {}): RunConfig {
  return {
    dataset: 'mnist',
    batchSize: 128,
    numSteps: 50,
    lr: 1e-2,
    betas: [0.9, 0.999],
    beta: 0.5,
    surrogate: { kind: 'fastSigmoid', slope: 25 },
    epochs: { snn: 2, cnn: 2 },
    evalEvery: 50,
    seed: 0,
    subset: { train: 12800, test: 1000 },
    backend: 'wasm',
    threads: 2,
    ...over,
  };
}

/** A bare record: every array empty, an all-zero confusion matrix; tests fill in what they measure. */
export function makeRecord(kind: ModelKind, over: Partial<ModelRecord> = {}): ModelRecord {
  return {
    kind,
    iterations: [],
    evals: [],
    epochs: [],
    confusion: Array.from({ length: 10 }, () => new Array<number>(10).fill(0)),
    bestAccuracy: null,
    finalAccuracy: null,
    peakMemoryBytes: null,
    operationsPerInference: 0,
    status: 'complete',
    ...over,
  };
}

export function makeResults(models: Results['models'], config: Partial<RunConfig> = {}): Results {
  return {
    schemaVersion: 1,
    createdAt: '2025-01-02T03:04:05.000Z',
    config: syntheticConfig(config),
    environment: {
      backend: 'wasm',
      threads: 2,
      cpu: 'Synthetic CPU @ 3.0GHz',
      cores: 2,
      userAgent: 'Node.js v20 (linux x64)',
      platform: 'linux',
      spiketsVersion: '0.1.0',
    },
    models,
  };
}

/** Iteration records for the given per-iteration losses (iter 1..n), each iteration taking `timeS`. */
export function iterationsFromLosses(losses: readonly number[], itersPerEpoch: number, timeS = 0.1): IterationRecord[] {
  return losses.map((loss, i) => ({
    iter: i + 1,
    epoch: Math.floor(i / itersPerEpoch) + 1,
    loss,
    timeS,
    elapsedS: (i + 1) * timeS,
  }));
}

/** Evaluation records at the given iterations, elapsed = iter * secondsPerIter. */
export function evalsAt(
  points: readonly [iter: number, accuracy: number][],
  itersPerEpoch: number,
  secondsPerIter: number,
): EvalRecord[] {
  return points.map(([iter, acc]) => ({
    iter,
    epoch: iter === 0 ? 0 : Math.ceil(iter / itersPerEpoch),
    elapsedS: iter * secondsPerIter,
    testAccuracy: acc,
    testLoss: 1 - acc,
  }));
}

/** A confusion matrix with `support` samples per class and about `accuracy` of each on the diagonal. */
export function confusionFor(accuracy: number, support: number, rng: Rng): number[][] {
  return Array.from({ length: 10 }, (_, t) => {
    const row = new Array<number>(10).fill(0);
    const correct = Math.min(support, Math.round(support * Math.min(1, accuracy + 0.02 * (rng.uniform() - 0.5))));
    row[t] = correct;
    for (let k = 0; k < support - correct; k++) {
      let p = rng.int(9);
      if (p >= t) p++;
      row[p]!++;
    }
    return row;
  });
}

function syntheticSample(rng: Rng, steps: number, label: number): SnnSample {
  const layers = [
    { layer: 'lif1', neurons: 1728, rate: 0.1 },
    { layer: 'lif2', neurons: 1024, rate: 0.05 },
  ];
  const raster = layers.map(({ layer, neurons, rate }) => ({
    layer,
    neurons,
    steps,
    spikes: Array.from({ length: steps }, () => {
      const ids: number[] = [];
      for (let n = 0; n < neurons; n++) if (rng.uniform() < rate) ids.push(n);
      return ids;
    }),
  }));
  // Output layer: a leaky integrate-and-fire with reset by subtraction, driven hardest for the label.
  const beta = 0.5;
  const threshold = 1;
  const drive = Array.from({ length: 10 }, (_, c) => (c === label ? 0.8 : 0.25 + 0.2 * rng.uniform()));
  const mem = new Array<number>(10).fill(0);
  const traces = drive.map(() => [] as number[]);
  const outSpikes: number[][] = [];
  const counts = new Array<number>(10).fill(0);
  for (let t = 0; t < steps; t++) {
    const fired: number[] = [];
    for (let c = 0; c < 10; c++) {
      const reset = mem[c]! > threshold ? threshold : 0;
      mem[c] = beta * mem[c]! + drive[c]! + 0.1 * rng.normal() - reset;
      traces[c]!.push(mem[c]!);
      if (mem[c]! > threshold) {
        fired.push(c);
        counts[c]!++;
      }
    }
    outSpikes.push(fired);
  }
  raster.push({ layer: 'lif3 (output)', neurons: 10, steps, spikes: outSpikes });
  const prediction = counts.indexOf(Math.max(...counts));
  const membrane = [label, (label + 1) % 10, (label + 2) % 10].map((neuron) => ({
    layer: 'lif3',
    neuron,
    threshold,
    values: traces[neuron]!,
  }));
  return { label, prediction, raster, membrane, outputCounts: counts };
}

export interface SyntheticOptions {
  seed?: number;
  itersPerEpoch?: number;
  epochs?: number;
  evalEvery?: number;
  models?: ModelKind[];
  snnStatus?: ModelRecord['status'];
}

/** A plausible two-model run: the SNN slower per iteration and converging a little later than the CNN. */
export function syntheticResults(options: SyntheticOptions = {}): Results {
  const rng = new Rng(options.seed ?? 0);
  const ipe = options.itersPerEpoch ?? 100;
  const epochs = options.epochs ?? 2;
  const evalEvery = options.evalEvery ?? 50;
  const n = ipe * epochs;
  const kinds = options.models ?? ['snn', 'cnn'];
  const spec = {
    snn: { floor: CE_RATE_LOSS_FLOOR, tau: 40, accTau: 60, secs: 0.5, acc: 0.975, ops: 2.1e6 },
    cnn: { floor: 0, tau: 25, accTau: 35, secs: 0.1, acc: 0.985, ops: 2.3e6 },
  } as const;
  const models: Results['models'] = {};
  for (const kind of kinds) {
    const p = spec[kind];
    const losses = Array.from({ length: n }, (_, i) => {
      const clean = p.floor + 0.05 + (LN10 - p.floor - 0.05) * Math.exp(-i / p.tau);
      return Math.max(p.floor, clean + 0.03 * rng.normal());
    });
    const iterations = losses.map((loss, i) => {
      const timeS = p.secs * (1 + 0.1 * rng.uniform());
      return { iter: i + 1, epoch: Math.floor(i / ipe) + 1, loss, timeS, elapsedS: 0 };
    });
    let elapsed = 0;
    for (const it of iterations) it.elapsedS = elapsed += it.timeS;
    const evals: EvalRecord[] = [];
    for (let iter = 0; iter <= n; iter += evalEvery) {
      const acc = Math.min(1, 0.1 + (p.acc - 0.1) * (1 - Math.exp(-iter / p.accTau)) + 0.002 * rng.normal());
      evals.push({
        iter,
        epoch: iter === 0 ? 0 : Math.ceil(iter / ipe),
        elapsedS: iter === 0 ? 0 : iterations[iter - 1]!.elapsedS,
        testAccuracy: Math.max(0, acc),
        testLoss: p.floor + (1 - acc),
      });
    }
    const epochRecords = Array.from({ length: epochs }, (_, e) => {
      const its = iterations.slice(e * ipe, (e + 1) * ipe);
      const endEval = evals.find((v) => v.iter === (e + 1) * ipe);
      return {
        epoch: e + 1,
        trainTimeS: its.reduce((s, it) => s + it.timeS, 0),
        evalTimeS: 2 * p.secs,
        trainLoss: its.reduce((s, it) => s + it.loss, 0) / its.length,
        testAccuracy: endEval?.testAccuracy ?? evals.at(-1).testAccuracy,
      };
    });
    const finalAccuracy = evals.at(-1).testAccuracy;
    models[kind] = {
      kind,
      itersPerEpoch: ipe,
      iterations,
      evals,
      epochs: epochRecords,
      confusion: confusionFor(finalAccuracy, 100, rng),
      bestAccuracy: Math.max(...evals.map((e) => e.testAccuracy)),
      finalAccuracy,
      peakMemoryBytes: kind === 'snn' ? 350 * 2 ** 20 : 90 * 2 ** 20,
      operationsPerInference: p.ops,
      status: kind === 'snn' ? (options.snnStatus ?? 'complete') : 'complete',
      ...(kind === 'snn'
        ? {
            spikeRates: [
              { layer: 'lif1', rate: 0.1 },
              { layer: 'lif2', rate: 0.05 },
              { layer: 'lif3', rate: 0.2 },
            ],
            spikesPerInference: 50 * (1728 * 0.1 + 1024 * 0.05 + 10 * 0.2),
            sample: syntheticSample(rng, 50, 7),
          }
        : {}),
    };
  }
  return makeResults(models, {
    epochs: { snn: epochs, cnn: epochs },
    evalEvery,
    subset: { train: ipe * 128, test: 1000 },
  });
}
