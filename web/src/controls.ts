/**
 * The hyperparameter form <-> an experiment config. The form holds the study's knobs; the browser defaults are the
 * library's `quick` preset with a 500-image test subset, and the study's values are the library's `study` preset,
 * so neither is restated here.
 */
import { experiment } from 'spikets';

type Config = experiment.ExperimentConfig;

/** Defaults suited to a browser tab: 2048 training / 500 test images, T = 10, one epoch each. */
export const BROWSER_PRESET: experiment.ExperimentConfigInput = { ...experiment.presets.quick, testLimit: 500 };
export const STUDY_PRESET: experiment.ExperimentConfigInput = experiment.presets.study;

export type ModelChoice = 'both' | 'snn' | 'cnn';

export interface FormValues {
  config: Record<string, unknown>;
  /** Wasm threads asked for (0 = one per core). */
  threads: number;
}

function input(form: HTMLFormElement, name: string): HTMLInputElement | HTMLSelectElement {
  const el = form.elements.namedItem(name);
  if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) {
    throw new Error(`web/src/controls.ts: the form has no field named '${name}'`);
  }
  return el;
}

function num(form: HTMLFormElement, name: string): number {
  return Number(input(form, name).value);
}

/** A subset field: blank means the whole split (null). */
function limit(form: HTMLFormElement, name: string): number | null {
  const v = input(form, name).value.trim();
  return v === '' ? null : Number(v);
}

/** The config input the form describes (validated later by experiment.parseConfig). */
export function readForm(form: HTMLFormElement): FormValues {
  const choice = input(form, 'models').value as ModelChoice;
  return {
    config: {
      models: choice === 'both' ? ['snn', 'cnn'] : [choice],
      numSteps: num(form, 'numSteps'),
      beta: num(form, 'beta'),
      surrogate: { kind: input(form, 'surrogate').value, slope: num(form, 'slope') },
      lr: num(form, 'lr'),
      batchSize: num(form, 'batchSize'),
      epochs: { snn: num(form, 'epochsSnn'), cnn: num(form, 'epochsCnn') },
      trainLimit: limit(form, 'trainLimit'),
      testLimit: limit(form, 'testLimit'),
      evalEvery: num(form, 'evalEvery'),
      seed: num(form, 'seed'),
    },
    threads: num(form, 'threads'),
  };
}

/** Fills the form with a preset on top of the library's defaults (models and threads are left as they are). */
export function writeForm(form: HTMLFormElement, preset: experiment.ExperimentConfigInput): Config {
  const c = experiment.parseConfig(preset, 'preset');
  const set = (name: string, v: string | number | null): void => {
    input(form, name).value = v === null ? '' : String(v);
  };
  set('numSteps', c.numSteps);
  set('beta', c.beta);
  set('surrogate', c.surrogate.kind);
  set('slope', c.surrogate.slope);
  set('lr', c.lr);
  set('batchSize', c.batchSize);
  set('epochsSnn', c.epochs.snn);
  set('epochsCnn', c.epochs.cnn);
  set('trainLimit', c.trainLimit);
  set('testLimit', c.testLimit);
  set('evalEvery', c.evalEvery);
  set('seed', c.seed);
  return c;
}

/** "N iterations per epoch" for the form's batch size and training subset, given the training split's size. */
export function iterationsPerEpoch(values: FormValues, trainCount: number | null): number | null {
  const c = values.config;
  const batch = c.batchSize as number;
  const wanted = (c.trainLimit as number | null) ?? trainCount;
  if (wanted === null || !(batch >= 1)) return null;
  return Math.ceil(Math.min(wanted, trainCount ?? wanted) / batch);
}
