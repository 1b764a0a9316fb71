import type { DataLoader } from '../data/loader.js';
import type { ExperimentConfig } from './config.js';
import type { ComparisonModel } from './models.js';
import type { EpochRecord, EvalRecord, IterationRecord, ModelKind, ModelRecord } from './results.js';

/** Progress events, for progress bars and live charts. */
export type RunEvent =
  | { type: 'model-start'; kind: ModelKind; epochs: number; itersPerEpoch: number; startIter: number }
  | { type: 'iteration'; kind: ModelKind; record: IterationRecord; itersPerEpoch: number; totalIters: number }
  | { type: 'eval'; kind: ModelKind; record: EvalRecord }
  | { type: 'epoch'; kind: ModelKind; record: EpochRecord }
  | { type: 'model-end'; kind: ModelKind; record: ModelRecord };

/** Where a model's training stands: enough to resume and end with the same numbers. */
export interface Progress {
  /** Optimizer steps done so far (1-based ids of the next step = iter + 1). */
  iter: number;
  /** Epoch in progress (1-based) and how many of its batches are done. */
  epoch: number;
  batchInEpoch: number;
  iterations: IterationRecord[];
  evals: EvalRecord[];
  epochs: EpochRecord[];
  /** Training seconds so far (eval excluded). */
  elapsedS: number;
  /** Training and eval seconds of the epoch in progress. */
  epochTrainS: number;
  epochEvalS: number;
  epochLossSum: number;
  confusion: number[][];
}

export function freshProgress(): Progress {
  return {
    iter: 0,
    epoch: 1,
    batchInEpoch: 0,
    iterations: [],
    evals: [],
    epochs: [],
    elapsedS: 0,
    epochTrainS: 0,
    epochEvalS: 0,
    epochLossSum: 0,
    confusion: emptyConfusion(),
  };
}

export function emptyConfusion(): number[][] {
  return Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
}

export interface TrainModelOptions {
  model: ComparisonModel;
  config: ExperimentConfig;
  train: DataLoader;
  test: DataLoader;
  /** Test data of the periodic evaluations (default: `test`); epoch ends always evaluate `test`. */
  probe?: DataLoader;
  progress: Progress;
  now: () => number;
  onEvent?: (e: RunEvent) => void;
  /** Polled between iterations: true stops after the current iteration with status 'interrupted'. */
  shouldStop?: () => boolean;
  /** Called after every `checkpointEvery` iterations and when stopping, to persist the progress. */
  onCheckpoint?: (progress: Progress) => Promise<void> | void;
  checkpointEvery?: number;
}

export type TrainOutcome = { status: 'complete' | 'interrupted' } | { status: 'failed'; message: string };

/** Lets timers and signal handlers run between iterations (Ctrl-C, UI updates) without slowing the loop. */
async function yieldToEventLoop(): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/**
 * Trains one model for `config.epochs[kind]` epochs from `progress` (fresh or resumed), evaluating on `probe`
 * before training and every `evalEvery` iterations, and on the whole test set at each epoch end. Deterministic: the batch order is a function of (seed, epoch),
 * so a resumed run replays the same batches.
 */
export async function trainModel(o: TrainModelOptions): Promise<TrainOutcome> {
  const { model, config, train, progress: p } = o;
  const epochs = config.epochs[model.kind];
  const itersPerEpoch = train.numBatches;
  o.onEvent?.({ type: 'model-start', kind: model.kind, epochs, itersPerEpoch, startIter: p.iter });
  const probe = o.probe ?? o.test;
  if (p.iter === 0 && p.evals.length === 0) recordEval(o, probe, 0, 0);
  let lastYield = o.now();
  while (p.epoch <= epochs) {
    let batchIndex = 0;
    for (const batch of train.batches(p.epoch - 1)) {
      if (batchIndex++ < p.batchInEpoch) continue;
      if (o.shouldStop?.()) {
        await o.onCheckpoint?.(p);
        return { status: 'interrupted' };
      }
      const t0 = o.now();
      const loss = model.trainStep(batch.x, batch.y);
      const timeS = (o.now() - t0) / 1000;
      if (!Number.isFinite(loss)) {
        return {
          status: 'failed',
          message: `${model.kind.toUpperCase()} loss became ${loss} at iteration ${p.iter + 1} (epoch ${p.epoch}); the last good checkpoint is kept`,
        };
      }
      p.iter++;
      p.batchInEpoch++;
      p.elapsedS += timeS;
      p.epochTrainS += timeS;
      p.epochLossSum += loss;
      const record: IterationRecord = { iter: p.iter, epoch: p.epoch, loss, timeS, elapsedS: p.elapsedS };
      p.iterations.push(record);
      o.onEvent?.({ type: 'iteration', kind: model.kind, record, itersPerEpoch, totalIters: epochs * itersPerEpoch });
      const epochEnd = p.batchInEpoch === itersPerEpoch;
      if (p.iter % config.evalEvery === 0 && !epochEnd) recordEval(o, probe, p.iter, p.epoch);
      if (o.checkpointEvery && p.iter % o.checkpointEvery === 0) await o.onCheckpoint?.(p);
      if (o.now() - lastYield > 100) {
        await yieldToEventLoop();
        lastYield = o.now();
      }
    }
    const ev = recordEval(o, o.test, p.iter, p.epoch);
    const record: EpochRecord = {
      epoch: p.epoch,
      trainTimeS: p.epochTrainS,
      evalTimeS: p.epochEvalS,
      trainLoss: p.epochLossSum / Math.max(1, p.batchInEpoch),
      testAccuracy: ev.testAccuracy,
    };
    p.epochs.push(record);
    o.onEvent?.({ type: 'epoch', kind: model.kind, record });
    p.epoch++;
    p.batchInEpoch = 0;
    p.epochTrainS = 0;
    p.epochEvalS = 0;
    p.epochLossSum = 0;
    await o.onCheckpoint?.(p);
  }
  return { status: 'complete' };
}

/** Evaluates on every batch of `data`, records it and keeps the confusion matrix of the latest evaluation. */
function recordEval(o: TrainModelOptions, data: DataLoader, iter: number, epoch: number): EvalRecord {
  const t0 = o.now();
  const { accuracy, loss, confusion } = evaluateModel(o.model, data);
  const evalS = (o.now() - t0) / 1000;
  o.progress.epochEvalS += evalS;
  o.progress.confusion = confusion;
  const record: EvalRecord = {
    iter,
    epoch,
    elapsedS: o.progress.elapsedS,
    testAccuracy: accuracy,
    testLoss: loss,
    samples: data.numExamples,
  };
  o.progress.evals.push(record);
  o.onEvent?.({ type: 'eval', kind: o.model.kind, record });
  return record;
}

/** Accuracy, mean loss and confusion matrix (rows: true class) over every batch of `loader` (epoch 0 order). */
export function evaluateModel(
  model: ComparisonModel,
  loader: DataLoader,
): { accuracy: number; loss: number; confusion: number[][] } {
  const confusion = emptyConfusion();
  let correct = 0;
  let total = 0;
  let lossSum = 0;
  for (const batch of loader.batches(0)) {
    const { predictions, loss } = model.evaluate(batch.x, batch.y);
    const y = batch.y.ints;
    for (let i = 0; i < y.length; i++) {
      confusion[y[i]!]![predictions[i]!]!++;
      if (predictions[i] === y[i]) correct++;
    }
    lossSum += loss * y.length;
    total += y.length;
  }
  return { accuracy: total ? correct / total : 0, loss: total ? lossSum / total : 0, confusion };
}
