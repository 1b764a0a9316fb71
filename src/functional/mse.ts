import { targetsRate } from '../snn/spikegen/targets.js';
import { mul, scale, square, sub } from '../tensor/ops/elementwise.js';
import { sum } from '../tensor/ops/reduce.js';
import { Tensor, shapeToString } from '../tensor/tensor.js';
import {
  checkReduction,
  classTargets,
  classWeights,
  counts,
  populationClasses,
  recordDims,
  rowWeights,
  type PopulationOptions,
  type Reduction,
  type ReductionOptions,
  type SpikeLoss,
} from './common.js';
import { FunctionalError } from './errors.js';

/**
 * Reduces squared errors `sq` (weighted rows already applied) whose mean runs over `count` elements, then
 * divides by T: 'none' -> `keep / T`, 'mean' -> `sum(sq) / (count * T)`, 'sum' -> `sum(sq) / T`.
 */
function reduceSquares(sq: Tensor, keep: Tensor, count: number, T: number, reduction: Reduction): Tensor {
  if (reduction === 'none') return scale(keep, 1 / T);
  return scale(sum(sq), reduction === 'mean' ? 1 / (count * T) : 1 / T);
}

export interface MseCountLossOptions extends ReductionOptions, PopulationOptions {
  /** Target firing rate of the correct class. Default 1. */
  correctRate?: number;
  /** Target firing rate of the other classes. Default 0. */
  incorrectRate?: number;
}

/**
 * MSE spike count loss (snnTorch `mse_count_loss`), spikes `[T, B, C]`:
 * counts `n = sum_t spk` (population code: group counts `[B, K]`), target counts
 * `on = trunc(T * correctRate)`, `off = trunc(T * incorrectRate)` (population code: times C/K), target
 * `tgt = max(onehot(y) * on, off)` (`targetsRate`), and
 * `L = mean_{b,c} w_{y_b} (n - tgt)^2 / T`. 'none' gives `[B, C]`, else a scalar `[]`.
 */
export function mseCountLoss(options: MseCountLossOptions = {}): SpikeLoss {
  const fn = 'mseCountLoss';
  const reduction = checkReduction(fn, options.reduction);
  const { correctRate = 1, incorrectRate = 0 } = options;
  return (spk, targets) => {
    const [T, B, C] = recordDims(fn, spk, 'spk');
    const k = populationClasses(fn, options, C);
    const classes = k ?? C;
    const y = classTargets(fn, targets, B, classes);
    const w = classWeights(fn, options.weight, classes);
    // Python's int() of snnTorch's expression, evaluated in the same order
    const perClass = k === null ? 1 : C / k;
    const on = Math.trunc(T * correctRate * perClass);
    const off = Math.trunc(T * incorrectRate * perClass);
    const target = targetsRate(targets, classes, { onTarget: on, offTarget: off });
    let sq = square(sub(counts(spk, k), target));
    if (w) sq = mul(sq, rowWeights(w, y));
    return reduceSquares(sq, sq, B * classes, T, reduction);
  };
}

export interface MseMembraneLossOptions extends ReductionOptions {
  /** Target membrane of the correct class. Default 1. */
  onTarget?: number;
  /** Lower bound of every target (`max(onehot * onTarget, offTarget)`, see docs). Default 0. */
  offTarget?: number;
}

/**
 * MSE membrane loss (snnTorch `mse_membrane_loss`), membrane `[T, B, C]`, targets int32 `[B]` or time-varying
 * `[T, B]`: `tgt = max(onehot(y) * onTarget, offTarget)` (per step for `[T, B]`) and
 * `L = (1/T) sum_t mean_{b,c} w_{y_b} (mem[t] - tgt)^2`. 'none' gives `[B, C]` (summed over t, / T), else a
 * scalar `[]` (snnTorch returns shape [1]).
 */
export function mseMembraneLoss(options: MseMembraneLossOptions = {}): SpikeLoss {
  const fn = 'mseMembraneLoss';
  const reduction = checkReduction(fn, options.reduction);
  const { onTarget = 1, offTarget = 0 } = options;
  return (mem, targets) => {
    const [T, B, C] = recordDims(fn, mem, 'mem');
    const w = classWeights(fn, options.weight, C);
    let target: Tensor;
    let weights: Tensor | null = null;
    if (targets.ndim === 2) {
      if (targets.shape[0] !== T) {
        throw new FunctionalError(fn, 'targets', `time-varying class ids [${T}, ${B}]`, shapeToString(targets.shape));
      }
      const steps: Float32Array[] = [];
      const all = new Int32Array(T * B);
      for (let t = 0; t < T; t++) {
        const yt = new Tensor(targets.ints.slice(t * B, (t + 1) * B), [B]);
        classTargets(fn, yt, B, C);
        steps.push(targetsRate(yt, C, { onTarget, offTarget }).values);
        all.set(yt.ints, t * B);
      }
      const data = new Float32Array(T * B * C);
      steps.forEach((s, t) => data.set(s, t * B * C));
      target = new Tensor(data, [T, B, C]);
      if (w) weights = new Tensor(rowWeights(w, all).values, [T, B, 1]);
    } else {
      const y = classTargets(fn, targets, B, C);
      target = targetsRate(targets, C, { onTarget, offTarget });
      if (w) weights = rowWeights(w, y);
    }
    let sq = square(sub(mem, target));
    if (weights) sq = mul(sq, weights);
    return reduceSquares(sq, reduction === 'none' ? sum(sq, 0) : sq, B * C, T, reduction);
  };
}
