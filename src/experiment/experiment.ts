import type { SplitDatasets } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { stratifiedSample } from '../data/sample.js';
import { loadState, saveState } from '../train/checkpoint.js';
import type { ExperimentConfig } from './config.js';
import { macsPerSample, recordSample, spikeActivity } from './metrics.js';
import { createCnnModel, createSnnModel, type ComparisonModel } from './models.js';
import { SnnRunner } from '../train/snn-runner.js';
import {
  RESULTS_SCHEMA_VERSION,
  wholeTestEvals,
  type Environment,
  type ModelKind,
  type ModelRecord,
  type Results,
} from './results.js';
import { freshProgress, trainModel, type Progress, type RunEvent } from './runner.js';
import { noGrad } from '../tensor/autograd.js';
import { gather0 } from '../tensor/ops/shape.js';

/** What a run can be resumed from: per model, its progress and a checkpoint of weights and optimizer state. */
export interface RunState {
  config: ExperimentConfig;
  createdAt: string;
  models: Partial<
    Record<
      ModelKind,
      { progress: Progress; status: ModelRecord['status']; message?: string; checkpoint: Uint8Array | null }
    >
  >;
}

export interface ComparisonOptions {
  config: ExperimentConfig;
  data: SplitDatasets;
  environment: Environment;
  now: () => number;
  /** Peak memory so far in bytes (null where the platform cannot tell). */
  peakMemory?: () => number | null;
  onEvent?: (e: RunEvent) => void;
  shouldStop?: () => boolean;
  /** Persists the run state (checkpoint files); called at epoch ends, every `checkpointEvery` iterations and on stop. */
  onCheckpoint?: (state: RunState) => Promise<void> | void;
  checkpointEvery?: number;
  /** Continue from a saved state instead of starting fresh. */
  resume?: RunState;
}

export interface ComparisonOutcome {
  results: Results;
  state: RunState;
  status: 'complete' | 'interrupted' | 'failed';
  message?: string;
}

/**
 * Trains the SNN and the CNN of the study one after the other under identical conditions (same initial weights from
 * `config.seed`, same batch order) and assembles `Results`. Resumable: the returned state continues where it stopped.
 */
export async function runComparison(o: ComparisonOptions): Promise<ComparisonOutcome> {
  const { config } = o;
  const state: RunState = o.resume ?? { config, createdAt: new Date().toISOString(), models: {} };
  const train = new DataLoader(o.data.train, {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
    ...(config.trainLimit ? { limit: config.trainLimit } : {}),
  });
  // evaluating at the training batch size reuses the training step's buffers (flat memory)
  const test = new DataLoader(o.data.test, {
    batchSize: config.batchSize,
    ...(config.testLimit ? { limit: config.testLimit } : {}),
  });
  const probe = periodicEvaluationData(o.data, test, config);
  const records: Partial<Record<ModelKind, ModelRecord>> = {};
  let outcome: ComparisonOutcome['status'] = 'complete';
  let message: string | undefined;

  for (const kind of config.models) {
    const model = kind === 'snn' ? createSnnModel(config) : createCnnModel(config);
    const saved = state.models[kind];
    if (saved?.checkpoint) loadState(saved.checkpoint, model.net, model.optimizer, `${kind} checkpoint`);
    const entry = saved ?? { progress: freshProgress(), status: 'interrupted' as const, checkpoint: null };
    state.models[kind] = entry;
    if (entry.status !== 'complete') {
      const persist = async (): Promise<void> => {
        entry.checkpoint = saveState(model.net, model.optimizer, { kind });
        await o.onCheckpoint?.(state);
      };
      const result = await trainModel({
        model,
        config,
        train,
        test,
        probe,
        progress: entry.progress,
        now: o.now,
        ...(o.onEvent ? { onEvent: o.onEvent } : {}),
        ...(o.shouldStop ? { shouldStop: o.shouldStop } : {}),
        onCheckpoint: persist,
        ...(o.checkpointEvery ? { checkpointEvery: o.checkpointEvery } : {}),
      });
      entry.status = result.status;
      if (result.status === 'failed') entry.message = result.message;
      if (result.status === 'complete') await persist();
    }
    const facts = { itersPerEpoch: train.numBatches, peakMemoryBytes: o.peakMemory?.() ?? null };
    model.dispose();
    records[kind] = modelRecord(model, entry.progress, entry.status, entry.message, config, test, facts);
    o.onEvent?.({ type: 'model-end', kind, record: records[kind] });
    if (entry.status !== 'complete') {
      outcome = entry.status;
      message = entry.message;
      break;
    }
  }
  const results: Results = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    createdAt: state.createdAt,
    config: {
      ...config,
      dataset: config.dataset,
      epochs: config.epochs,
      subset: { train: train.numExamples, test: test.numExamples },
      backend: o.environment.backend,
      threads: o.environment.threads,
    },
    environment: o.environment,
    models: records,
  };
  return { results, state, status: outcome, ...(message ? { message } : {}) };
}

/**
 * The periodic evaluations' data: `config.evalSamples` test samples drawn once with the run's seed, stratified by
 * class (see stratifiedSample), or the whole test set when that is not smaller.
 */
function periodicEvaluationData(data: SplitDatasets, test: DataLoader, config: ExperimentConfig): DataLoader {
  const n = config.evalSamples;
  if (n === null || n >= test.numExamples) return test;
  const chosen = stratifiedSample(data.test.labels, test.numExamples, n, config.seed);
  return new DataLoader(data.test, { batchSize: config.batchSize, indices: chosen });
}

/** Summarises a model's progress into the results record, with the SNN's activity measured on test data. */
function modelRecord(
  model: ComparisonModel,
  p: Progress,
  status: ModelRecord['status'],
  message: string | undefined,
  config: ExperimentConfig,
  test: DataLoader,
  facts: { itersPerEpoch: number; peakMemoryBytes: number | null },
): ModelRecord {
  const accuracies = wholeTestEvals(p.evals, test.numExamples).map((e) => e.testAccuracy);
  const inputShape = [1, test.dataset.height, test.dataset.width];
  const record: ModelRecord = {
    kind: model.kind,
    itersPerEpoch: facts.itersPerEpoch,
    iterations: p.iterations,
    evals: p.evals,
    epochs: p.epochs,
    confusion: p.confusion,
    bestAccuracy: accuracies.length ? Math.max(...accuracies) : null,
    finalAccuracy: accuracies.length ? accuracies[accuracies.length - 1]! : null,
    peakMemoryBytes: facts.peakMemoryBytes === null ? null : Math.round(facts.peakMemoryBytes),
    operationsPerInference: 0,
    status,
    ...(message ? { message } : {}),
  };
  if (model.kind === 'cnn') {
    record.operationsPerInference = macsPerSample(model.net.layers, inputShape);
    return record;
  }
  // SNN activity on (up to) the first 256 test samples, and a raster of the first test digit
  const n = Math.min(256, test.numExamples);
  const batch = test.makeBatch(Int32Array.from({ length: n }, (_, i) => i));
  const runner = new SnnRunner(model.net, inputShape);
  const counts = noGrad(() => runner.activity(batch.x, config.numSteps));
  runner.dispose();
  const activity = spikeActivity(model.net, counts.spikeCounts, counts.neurons, n, config.numSteps, inputShape);
  record.spikeRates = activity.rates;
  record.spikesPerInference = activity.spikesPerInference;
  record.operationsPerInference = activity.synapticOps;
  record.sample = recordSample(model.net, gather0(batch.x, Int32Array.of(0)), batch.y.ints[0]!, config.numSteps);
  return record;
}
