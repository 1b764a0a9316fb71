import { noGrad } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';
import { classTargets, counts, populationClasses, recordDims, type PopulationOptions } from './common.js';
import { firstSpikeTime } from './temporal.js';

/** Fraction of rows whose pick (first best index of `score` under `better`) equals the target. */
function agreement(
  score: Float32Array,
  rows: number,
  cols: number,
  y: Int32Array,
  better: (a: number, b: number) => boolean,
): number {
  let hits = 0;
  for (let b = 0; b < rows; b++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (better(score[b * cols + c]!, score[b * cols + best]!)) best = c;
    if (best === y[b]) hits++;
  }
  return hits / rows;
}

/**
 * Rate-code accuracy (snnTorch `accuracy_rate`): the prediction of each sample is the class with the most spikes
 * over time (population code: the group with the most), ties going to the lowest index; returns the fraction of
 * `[B]` int32 targets predicted, a plain number.
 */
export function accuracyRate(spk: Tensor, targets: Tensor, options: PopulationOptions = {}): number {
  const [, B, C] = recordDims('accuracyRate', spk, 'spk');
  const k = populationClasses('accuracyRate', options, C);
  const classes = k ?? C;
  const y = classTargets('accuracyRate', targets, B, classes);
  const n = noGrad(() => counts(spk, k));
  return agreement(n.values, B, classes, y, (a, b) => a > b);
}

/**
 * Temporal accuracy (snnTorch `accuracy_temporal`): the prediction is the neuron that spikes first (a silent
 * neuron counts as firing at T-1), ties to the lowest index; returns the fraction predicted correctly.
 */
export function accuracyTemporal(spk: Tensor, targets: Tensor): number {
  const [, B, N] = recordDims('accuracyTemporal', spk, 'spk');
  const y = classTargets('accuracyTemporal', targets, B, N);
  const times = noGrad(() => firstSpikeTime(spk));
  return agreement(times.values, B, N, y, (a, b) => a < b);
}
