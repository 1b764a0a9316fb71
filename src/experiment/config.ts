import { z } from 'zod';

/**
 * The comparison's protocol. Defaults are the study's (snnTorch tutorial 6): batch 128, T = 50, Adam lr 1e-2
 * betas 0.9/0.999, beta 0.5, fastSigmoid slope 25, ceRateLoss, direct encoding, seed 0, full MNIST 60k/10k,
 * test accuracy every 50 iterations and at each epoch end.
 * Periodic evaluations use a fixed subset of the test set, stratified by class (`evalSamples`, 1000 by default: a
 * standard error of about 0.5 accuracy points at 97%), epoch ends the whole test set; `evalSamples: null` (and
 * `--preset study`) evaluates the whole test set every time, as the study did.
 */
export const ExperimentConfigSchema = z.strictObject({
  /** 'mnist' (embedded), 'fashion-mnist' (Debian package) or a folder with the four IDX files. */
  dataset: z.string().min(1).default('mnist'),
  batchSize: z.number().int().min(1).max(4096).default(128),
  /** Simulation time steps of the SNN per sample. */
  numSteps: z.number().int().min(1).max(1000).default(50),
  lr: z.number().positive().max(10).default(1e-2),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
  /** Membrane decay of the Leaky neurons. */
  beta: z.number().min(0).max(1).default(0.5),
  surrogate: z
    .strictObject({
      kind: z.enum(['fastSigmoid', 'atan']).default('fastSigmoid'),
      slope: z.number().positive().default(25),
    })
    .default({ kind: 'fastSigmoid', slope: 25 }),
  epochs: z
    .strictObject({ snn: z.number().int().min(0).default(3), cnn: z.number().int().min(0).default(3) })
    .default({ snn: 3, cnn: 3 }),
  evalEvery: z.number().int().min(1).default(50),
  /**
   * Test samples of the periodic evaluations (before training and every `evalEvery` iterations): a subset drawn once
   * with `seed`, stratified by class, the same for both models. Epoch-end evaluations always use the whole test set.
   * null: the whole test set every time.
   */
  evalSamples: z.number().int().min(1).nullable().default(1000),
  seed: z.number().int().min(0).default(0),
  /** Training / test samples used (the first N of each split; null = all). */
  trainLimit: z.number().int().min(1).nullable().default(null),
  testLimit: z.number().int().min(1).nullable().default(null),
  /** Which models to train. */
  models: z
    .array(z.enum(['snn', 'cnn']))
    .min(1)
    .default(['snn', 'cnn']),
  backend: z.enum(['wasm', 'reference']).default('wasm'),
  /** Worker threads of the wasm backend (0 = available cores). */
  threads: z.number().int().min(0).max(64).default(0),
  /** Test accuracies (fractions) for the time-to-accuracy analysis. */
  accuracyTargets: z.array(z.number().gt(0).max(1)).default([0.9, 0.95, 0.97, 0.98]),
});

export type ExperimentConfig = z.infer<typeof ExperimentConfigSchema>;
export type ExperimentConfigInput = z.input<typeof ExperimentConfigSchema>;

/** Named starting points; flags and config files override their fields. */
export const presets = {
  /** `spikets compare`: 3 epochs of each model. */
  default: {},
  /** The study's length: SNN 5 epochs, CNN 30 epochs. */
  study: { epochs: { snn: 5, cnn: 30 }, evalSamples: null },
  /** Half a minute here (64 iterations of each at T = 25): a subset and fewer steps, for a first look. */
  quick: { trainLimit: 8192, testLimit: 1000, numSteps: 25, epochs: { snn: 1, cnn: 1 }, evalEvery: 16 },
} satisfies Record<string, ExperimentConfigInput>;
export type PresetName = keyof typeof presets;

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly source: string,
  ) {
    super(`invalid config (${source}): ${field}: ${expected}`);
    this.name = 'ConfigError';
  }
}

/** Validates a config object, reporting the first bad field by its path and what was expected. */
export function parseConfig(input: unknown, source = 'config'): ExperimentConfig {
  const parsed = ExperimentConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : String(k))).join('.') || '(root)';
  throw new ConfigError(path, issue.message.replace(/^Invalid input: /, ''), source);
}

/** Merges layers of partial configs (later wins; nested objects merge one level deep). */
export function mergeConfig(...layers: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const prev = out[k];
      const isObj = (o: unknown): o is Record<string, unknown> =>
        typeof o === 'object' && o !== null && !Array.isArray(o);
      out[k] = isObj(prev) && isObj(v) ? { ...prev, ...v } : v;
    }
  }
  return out;
}
