import { targetsRate } from '../snn/spikegen/targets.js';
import { add, div, mul, neg, square, sub } from '../tensor/ops/elementwise.js';
import { crossEntropy } from '../tensor/ops/loss.js';
import { mean, sum } from '../tensor/ops/reduce.js';
import { Tensor, result, shapeToString } from '../tensor/tensor.js';
import {
  checkReduction,
  classTargets,
  classWeights,
  recordDims,
  rowWeights,
  type ReductionOptions,
  type SpikeLoss,
} from './common.js';
import { FunctionalError } from './errors.js';

/**
 * First spike time of every neuron, `[T, B, N] -> [B, N]` (float32): the first t with `spk[t] != 0`, or T-1 for
 * a neuron that never fires (snnTorch's "shadow spike" at the last step).
 *
 * Backward (snnTorch's sign estimator, `FirstSpike`): `d spk[f_bn, b, n] = -g[b, n]` at the first spike time
 * (the shadow step included), 0 elsewhere: an earlier spike means more input at that step.
 * Deviation: snnTorch multiplies the time by the spike value, so graded or negative spikes give odd times; here
 * any nonzero value is a spike at its step.
 */
export function firstSpikeTime(spk: Tensor): Tensor {
  const [T, B, N] = recordDims('firstSpikeTime', spk, 'spk');
  const v = spk.values;
  const n = B * N;
  const first = new Int32Array(n).fill(T - 1);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < T; t++) {
      if (v[t * n + i] !== 0) {
        first[i] = t;
        break;
      }
    }
  }
  return result(Float32Array.from(first), [B, N], [spk], (g) => {
    const d = new Float32Array(T * n);
    for (let i = 0; i < n; i++) d[first[i]! * n + i] = -g[i]!;
    return [d];
  });
}

/** Forward: `x` replaced by `target` where `|x - target| < tolerance`; backward: identity (snnTorch `Tolerance`). */
function snapWithin(x: Tensor, target: Float32Array, tolerance: number): Tensor {
  const v = x.values;
  const out = v.map((e, i) => (Math.abs(e - target[i]!) < tolerance ? target[i]! : e));
  return result(out, x.shape, [x], (g) => [g]);
}

export type TemporalInverse = 'negate' | 'reciprocal';

export interface CeTemporalLossOptions extends ReductionOptions {
  /** How spike times become logits: 'negate' `-t`, 'reciprocal' `1 / (t + 1)`. Default 'negate'. */
  inverse?: TemporalInverse;
}

/**
 * Cross-entropy temporal loss (snnTorch `ce_temporal_loss`), spikes `[T, B, N]`, targets int32 `[B]`:
 * `L = CE(inverse(firstSpikeTime(spk)), y)` with PyTorch's CrossEntropyLoss semantics, so a weighted mean divides
 * by `sum_b w_{y_b}` (unlike the rate/count losses, as in snnTorch). 'none' gives `[B]`, else a scalar `[]`.
 */
export function ceTemporalLoss(options: CeTemporalLossOptions = {}): SpikeLoss {
  const fn = 'ceTemporalLoss';
  const reduction = checkReduction(fn, options.reduction);
  const inverse = options.inverse ?? 'negate';
  if (inverse !== 'negate' && inverse !== 'reciprocal') {
    throw new FunctionalError(fn, 'inverse', "'negate' or 'reciprocal'", String(inverse));
  }
  return (spk, targets) => {
    const [, B, N] = recordDims(fn, spk, 'spk');
    classTargets(fn, targets, B, N);
    const w = classWeights(fn, options.weight, N);
    const times = firstSpikeTime(spk);
    const logits = inverse === 'negate' ? neg(times) : div(1, add(times, 1));
    return crossEntropy(logits, targets, { weight: w ? new Tensor(w, [N]) : null, reduction });
  };
}

export interface MseTemporalLossOptions extends ReductionOptions {
  /** Target spike time of the correct class (labels mode). Default 0. */
  onTarget?: number;
  /** Floor of every target time (labels mode; `max(onehot * onTarget, offTarget)`, see docs). Default -1. */
  offTarget?: number;
  /** Spike times within this distance of their target count as on target (no loss there). Default 0. */
  tolerance?: number;
  /** Targets are spike times `[B, N]` (negative: counted from the end) instead of class ids. Default false. */
  targetIsTime?: boolean;
}

/**
 * MSE temporal loss (snnTorch `mse_temporal_loss`, single spike), spikes `[T, B, N]`:
 * target times `tgt = max(onehot(y) * onTarget, offTarget)` (or the given times with `targetIsTime`), negative
 * targets become `T + tgt`, spike times `s = firstSpikeTime(spk)` snapped to `tgt` where `|s - tgt| < tolerance`,
 * and `L = mean_{b,n} w_{y_b} (s/T - tgt/T)^2`. 'none' gives `[B, N]`, else a scalar `[]`.
 *
 * Note (snnTorch 0.9.4 semantics, pinned by the golden vectors): the target is the floor `max(., offTarget)`, so
 * with the defaults (0, -1) every target time is 0, and a target earlier for the correct class than for the
 * others cannot be expressed by labels; pass explicit times with `targetIsTime` for that.
 */
export function mseTemporalLoss(options: MseTemporalLossOptions = {}): SpikeLoss {
  const fn = 'mseTemporalLoss';
  const reduction = checkReduction(fn, options.reduction);
  const { onTarget = 0, offTarget = -1, tolerance = 0, targetIsTime = false } = options;
  if (targetIsTime && options.weight) {
    throw new FunctionalError(fn, 'weight', 'no class weights with targetIsTime (targets are times)', 'weights');
  }
  return (spk, targets) => {
    const [T, B, N] = recordDims(fn, spk, 'spk');
    let tgt: Float32Array;
    let weights: Tensor | null = null;
    if (targetIsTime) {
      if (targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== N) {
        throw new FunctionalError(fn, 'targets', `spike times [${B}, ${N}]`, shapeToString(targets.shape));
      }
      tgt = Float32Array.from(targets.data);
    } else {
      const y = classTargets(fn, targets, B, N);
      tgt = targetsRate(targets, N, { onTarget, offTarget }).values;
      const w = classWeights(fn, options.weight, N);
      if (w) weights = rowWeights(w, y);
    }
    for (let i = 0; i < tgt.length; i++) if (tgt[i]! < 0) tgt[i] = T + tgt[i]!;
    let times = firstSpikeTime(spk);
    if (tolerance) times = snapWithin(times, tgt, tolerance);
    const diff = sub(
      div(times, T),
      new Tensor(
        tgt.map((e) => e / T),
        [B, N],
      ),
    );
    let sq = square(diff);
    if (weights) sq = mul(sq, weights);
    if (reduction === 'none') return sq;
    return reduction === 'mean' ? mean(sq) : sum(sq);
  };
}
