import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { SplitDatasets } from '../data/dataset.js';
import { DataError } from '../data/errors.js';
import { fashionMnist, fromDir, mnist } from '../data/node.js';
import {
  ConfigError,
  mergeConfig,
  parseConfig,
  presets,
  type ExperimentConfig,
  type PresetName,
} from '../experiment/config.js';
import { UsageError } from './errors.js';

const int =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got '${v}'`);
    return n;
  };
/** An integer, or 'all' (kept as the string: commander turns a parser's null into ''; resolveConfig maps it to null). */
const intOrAll =
  (name: string) =>
  (v: string): number | 'all' =>
    v === 'all' ? 'all' : int(name)(v);
const float =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${v}'`);
    return n;
  };

/** The protocol flags shared by compare, train, eval and sweep; every config field has one. */
export function addConfigOptions(cmd: Command, options: { steps?: boolean } = {}): Command {
  cmd
    .option('--config <file>', 'JSON config file (fields as in results.json config)')
    .addOption(new Option('--preset <name>', 'starting point').choices(Object.keys(presets)))
    .option('--quick', 'a subset run of about half a minute for a first look (preset quick)')
    .option('--dataset <name|dir>', "'mnist' (embedded), 'fashion-mnist' (Debian package) or a folder of IDX files")
    .option('--batch-size <n>', 'batch size', int('--batch-size'));
  if (options.steps ?? true) cmd.option('--steps <n>', 'SNN time steps T', int('--steps'));
  return cmd
    .option('--lr <x>', 'Adam learning rate', float('--lr'))
    .option('--beta <x>', 'membrane decay of the Leaky neurons', float('--beta'))
    .addOption(new Option('--surrogate <kind>', 'surrogate gradient').choices(['fastSigmoid', 'atan']))
    .option('--slope <x>', 'surrogate slope (fastSigmoid) or alpha (atan)', float('--slope'))
    .option('--epochs <n>', 'epochs of both models', int('--epochs'))
    .option('--snn-epochs <n>', 'epochs of the SNN', int('--snn-epochs'))
    .option('--cnn-epochs <n>', 'epochs of the CNN', int('--cnn-epochs'))
    .option('--eval-every <n>', 'test accuracy every n iterations', int('--eval-every'))
    .option(
      '--eval-samples <n|all>',
      "test images of the periodic evaluations (a fixed subset stratified by class, default 1000; epoch ends use all; 'all': the study's protocol)",
      intOrAll('--eval-samples'),
    )
    .option(
      '--seed <n>',
      "seed of the initial weights and the batch order (PyTorch's: torch.manual_seed(n))",
      int('--seed'),
    )
    .option('--train-limit <n>', 'use the first n training images', int('--train-limit'))
    .option('--test-limit <n>', 'use the first n test images', int('--test-limit'))
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'reference']).env('SPIKETS_BACKEND'))
    .option('--threads <n>', 'worker threads of the wasm backend (0 = all cores)', int('--threads'));
}

export interface ConfigFlags {
  config?: string;
  preset?: PresetName;
  quick?: boolean;
  dataset?: string;
  batchSize?: number;
  steps?: number;
  lr?: number;
  beta?: number;
  surrogate?: 'fastSigmoid' | 'atan';
  slope?: number;
  epochs?: number;
  snnEpochs?: number;
  cnnEpochs?: number;
  evalEvery?: number;
  evalSamples?: number | 'all';
  seed?: number;
  trainLimit?: number;
  testLimit?: number;
  backend?: 'wasm' | 'reference';
  threads?: number;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('expected a JSON object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`config file ${path} is not a JSON object: ${(error as Error).message}`);
  }
}

/** preset < config file < flags; validated with the config schema (a bad field is named with what was expected). */
export function resolveConfig(flags: ConfigFlags, overrides: Record<string, unknown> = {}): ExperimentConfig {
  const preset = flags.quick ? 'quick' : (flags.preset ?? 'default');
  const file = flags.config ? readConfigFile(flags.config) : {};
  const epochs = {
    ...(flags.epochs !== undefined ? { snn: flags.epochs, cnn: flags.epochs } : {}),
    ...(flags.snnEpochs !== undefined ? { snn: flags.snnEpochs } : {}),
    ...(flags.cnnEpochs !== undefined ? { cnn: flags.cnnEpochs } : {}),
  };
  const fromFlags: Record<string, unknown> = {
    dataset: flags.dataset,
    batchSize: flags.batchSize,
    numSteps: flags.steps,
    lr: flags.lr,
    beta: flags.beta,
    surrogate:
      flags.surrogate || flags.slope !== undefined
        ? {
            ...(flags.surrogate ? { kind: flags.surrogate } : {}),
            ...(flags.slope !== undefined ? { slope: flags.slope } : {}),
          }
        : undefined,
    epochs: Object.keys(epochs).length ? epochs : undefined,
    evalEvery: flags.evalEvery,
    evalSamples: flags.evalSamples === 'all' ? null : flags.evalSamples,
    seed: flags.seed,
    trainLimit: flags.trainLimit,
    testLimit: flags.testLimit,
    backend: flags.backend,
    threads: flags.threads,
  };
  const merged = mergeConfig(presets[preset], file, fromFlags, overrides);
  try {
    return parseConfig(merged, flags.config ? `${flags.config} + flags` : 'flags');
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** Loads the data set the config names; a bad or missing folder is a usage error naming the file. */
export function loadDataset(name: string): SplitDatasets {
  try {
    if (name === 'mnist') return mnist();
    if (name === 'fashion-mnist') return fashionMnist();
    return fromDir(name);
  } catch (error) {
    if (error instanceof DataError) throw new UsageError(error.message);
    throw error;
  }
}
