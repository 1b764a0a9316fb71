/**
 * The results file of the SNN-vs-CNN comparison (`results.json`), version 1.
 *
 * One schema, written by the runner (CLI or browser) and read by the analysis and the report. Conventions:
 * - `iter` counts optimizer steps, 1-based and cumulative over epochs; an eval at `iter: 0` is "before training".
 * - `epoch` is 1-based (the epoch during which the iteration ran); 0 only for an eval before training.
 * - Times are seconds. `timeS` is one iteration's wall time; `elapsedS` is cumulative *training* time (eval time
 *   excluded), so curves against `elapsedS` compare the models' training cost only.
 * - Accuracies are fractions in [0, 1]. `confusion[trueClass][predictedClass]` counts test samples.
 * - Non-finite numbers are invalid: a runner whose loss becomes NaN stops recording, sets `status: 'failed'`
 *   and says so in `message` (JSON cannot carry NaN anyway).
 */
import { z } from 'zod';

export const RESULTS_SCHEMA_VERSION = 1;
export const NUM_CLASSES = 10;

const num = z.number(); // zod 4 rejects NaN and +-Infinity
const nonNeg = z.number().min(0);
const count = z.number().int().min(0);
const positiveInt = z.number().int().min(1);
const fraction = z.number().min(0).max(1);

export const ModelKindSchema = z.enum(['snn', 'cnn']);
export type ModelKind = z.infer<typeof ModelKindSchema>;

export const RunConfigSchema = z.looseObject({
  dataset: z.string().min(1),
  batchSize: positiveInt,
  numSteps: positiveInt,
  lr: z.number().positive(),
  betas: z.tuple([fraction, fraction]),
  /** Membrane decay of the Leaky neurons. */
  beta: fraction,
  surrogate: z.looseObject({ kind: z.string().min(1), slope: z.number().positive() }),
  /** Epochs planned per model (0 = model not trained). */
  epochs: z.object({ snn: count, cnn: count }),
  /** Test accuracy is measured every `evalEvery` iterations and at each epoch end. */
  evalEvery: positiveInt,
  seed: z.number().int(),
  /** Number of training / test samples actually used (60000 / 10000 for full MNIST). */
  subset: z.object({ train: positiveInt, test: positiveInt }),
  backend: z.string().min(1),
  threads: positiveInt,
});
export type RunConfig = z.infer<typeof RunConfigSchema>;

export const EnvironmentSchema = z.looseObject({
  backend: z.string().min(1),
  threads: positiveInt,
  cpu: z.string(),
  cores: positiveInt,
  /** `Node.js v20.x (linux x64)` in Node, `navigator.userAgent` in a browser. */
  userAgent: z.string(),
  platform: z.string(),
  spiketsVersion: z.string(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

export const IterationRecordSchema = z.object({
  iter: positiveInt,
  epoch: positiveInt,
  loss: num,
  timeS: nonNeg,
  elapsedS: nonNeg,
});
export type IterationRecord = z.infer<typeof IterationRecordSchema>;

export const EvalRecordSchema = z.object({
  iter: count,
  epoch: count,
  elapsedS: nonNeg,
  testAccuracy: fraction,
  testLoss: num,
  /** Test samples evaluated (a periodic evaluation may use a subset; absent: the whole test set). */
  samples: positiveInt.optional(),
});
export type EvalRecord = z.infer<typeof EvalRecordSchema>;

/**
 * The evaluations on the whole test set of `testSize` samples (periodic ones may use a subset), or all of them when
 * none is (a run stopped before its first epoch end): what final and best accuracy are taken from.
 */
export function wholeTestEvals(evals: readonly EvalRecord[], testSize: number): readonly EvalRecord[] {
  const whole = evals.filter((e) => e.samples === undefined || e.samples === testSize);
  return whole.length > 0 ? whole : evals;
}

export const EpochRecordSchema = z.object({
  epoch: positiveInt,
  trainTimeS: nonNeg,
  evalTimeS: nonNeg,
  /** Mean training loss over the epoch's iterations. */
  trainLoss: num,
  testAccuracy: fraction,
});
export type EpochRecord = z.infer<typeof EpochRecordSchema>;

const confusionRow = z.array(count).length(NUM_CLASSES);
export const ConfusionSchema = z.array(confusionRow).length(NUM_CLASSES);

export const RasterSchema = z
  .object({
    layer: z.string().min(1),
    neurons: positiveInt,
    steps: positiveInt,
    /** `spikes[t]` lists the indices of the neurons that fired at step t. */
    spikes: z.array(z.array(count)),
  })
  .superRefine((r, ctx) => {
    if (r.spikes.length !== r.steps) {
      ctx.addIssue({ code: 'custom', path: ['spikes'], message: `expected ${r.steps} steps, got ${r.spikes.length}` });
    }
    r.spikes.forEach((step, t) => {
      const bad = step.findIndex((n) => n >= r.neurons);
      if (bad >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['spikes', t, bad],
          message: `expected a neuron index < ${r.neurons}, got ${step[bad]}`,
        });
      }
    });
  });
export type Raster = z.infer<typeof RasterSchema>;

export const MembraneTraceSchema = z.object({
  /** Layer of the neuron; the output layer when omitted. */
  layer: z.string().optional(),
  neuron: count,
  threshold: num,
  /** Membrane potential after each step (before reset is applied to the next step). */
  values: z.array(num),
});
export type MembraneTrace = z.infer<typeof MembraneTraceSchema>;

export const SnnSampleSchema = z.object({
  label: count.max(NUM_CLASSES - 1),
  prediction: count.max(NUM_CLASSES - 1),
  raster: z.array(RasterSchema),
  membrane: z.array(MembraneTraceSchema),
  /** Output spikes per class over the T steps. */
  outputCounts: z.array(count).length(NUM_CLASSES),
});
export type SnnSample = z.infer<typeof SnnSampleSchema>;

export const ModelRecordSchema = z.object({
  kind: ModelKindSchema,
  /**
   * Optimizer steps per epoch (for fractional epochs = iter / itersPerEpoch). When omitted, the analysis uses
   * ceil(config.subset.train / config.batchSize).
   */
  itersPerEpoch: positiveInt.optional(),
  /**
   * Lowest value the training loss can reach, for the normalised loss scale. When omitted: 1.4612 for the SNN
   * (ceRateLoss with 0/1 spikes over 10 classes) and 0 for the CNN (cross-entropy).
   */
  lossFloor: num.optional(),
  iterations: z.array(IterationRecordSchema),
  evals: z.array(EvalRecordSchema),
  epochs: z.array(EpochRecordSchema),
  confusion: ConfusionSchema,
  /** Null when no evaluation ran (a run that failed early). */
  bestAccuracy: fraction.nullable(),
  finalAccuracy: fraction.nullable(),
  /** Null where the platform cannot measure it. */
  peakMemoryBytes: count.nullable(),
  spikeRates: z.array(z.object({ layer: z.string().min(1), rate: fraction })).optional(),
  spikesPerInference: nonNeg.optional(),
  /** SNN: synaptic operations, sum over layers of spikes * fan-out. CNN: multiply-accumulates. Per test sample. */
  operationsPerInference: nonNeg,
  sample: SnnSampleSchema.optional(),
  status: z.enum(['complete', 'interrupted', 'failed']),
  message: z.string().optional(),
});
export type ModelRecord = z.infer<typeof ModelRecordSchema>;
export type RunStatus = ModelRecord['status'];

export const ResultsSchema = z.object({
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  createdAt: z.iso.datetime({ offset: true }),
  config: RunConfigSchema,
  environment: EnvironmentSchema,
  models: z.object({ snn: ModelRecordSchema.optional(), cnn: ModelRecordSchema.optional() }).superRefine((m, ctx) => {
    for (const kind of ['snn', 'cnn'] as const) {
      const rec = m[kind];
      if (rec !== undefined && rec.kind !== kind) {
        ctx.addIssue({ code: 'custom', path: [kind, 'kind'], message: `expected '${kind}', got '${rec.kind}'` });
      }
    }
  }),
});
export type Results = z.infer<typeof ResultsSchema>;

/** Thrown by `validateResults`; `path` is the dotted field path of the first problem (e.g. `models.snn.evals[3].iter`). */
export class ResultsValidationError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly issueCount: number,
  ) {
    const more = issueCount > 1 ? ` (and ${issueCount - 1} more issue${issueCount > 2 ? 's' : ''})` : '';
    super(`invalid results: ${path}: ${expected}${more}`);
    this.name = 'ResultsValidationError';
  }
}

/** `['models', 'snn', 'evals', 3, 'iter']` -> `models.snn.evals[3].iter`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Parse and check a results object (e.g. `JSON.parse` of results.json). Unknown keys in `config` and
 * `environment` are kept; elsewhere they are dropped. Throws `ResultsValidationError` with a one-line message.
 */
export function validateResults(json: unknown): Results {
  if (typeof json === 'object' && json !== null && 'schemaVersion' in json) {
    const v = json.schemaVersion;
    if (v !== RESULTS_SCHEMA_VERSION) {
      throw new ResultsValidationError(
        'schemaVersion',
        `unsupported schema version ${JSON.stringify(v)}, expected ${RESULTS_SCHEMA_VERSION}`,
        1,
      );
    }
  }
  const parsed = ResultsSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const first = issues[0]!;
  const message = first.message.replace(/^Invalid input: /, '');
  throw new ResultsValidationError(formatPath(first.path), message, issues.length);
}
