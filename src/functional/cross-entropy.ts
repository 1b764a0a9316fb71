import { getBackend } from '../backend/registry.js';
import { max } from '../tensor/ops/reduce.js';
import { reshape } from '../tensor/ops/shape.js';
import { Tensor, result } from '../tensor/tensor.js';
import {
  checkReduction,
  classTargets,
  classWeights,
  counts,
  groupSum,
  populationClasses,
  recordDims,
  type PopulationOptions,
  type Reduction,
  type ReductionOptions,
  type SpikeLoss,
} from './common.js';

/**
 * The fused primitive behind the cross-entropy losses: logits `[T, B, C]`, per-sample loss
 * `l_b = (1/T) * sum_t w_{y_b} * -log_softmax(x[t, b])[y_b]` (w = 1 without weights), reduced over the batch:
 * 'none' -> `[B]`, 'mean' -> `sum_b l_b / B` (shape []), 'sum' -> `sum_b l_b` (shape []).
 *
 * One log-softmax over the T*B rows and one tape node. Backward:
 * `dx[t, b, c] = g_b * w_{y_b} / T * (softmax(x[t, b])[c] - [c == y_b])` with g_b the upstream gradient of l_b.
 */
export function stepCrossEntropy(logits: Tensor, y: Int32Array, w: Float32Array | null, reduction: Reduction): Tensor {
  const [T, B, C] = logits.shape as [number, number, number];
  const logp = new Float32Array(T * B * C);
  getBackend().logSoftmax(T * B, C, logits.values, logp);
  const per = new Float32Array(B);
  let total = 0;
  for (let b = 0; b < B; b++) {
    const k = y[b]!;
    let acc = 0;
    for (let t = 0; t < T; t++) acc -= logp[(t * B + b) * C + k]!;
    per[b] = ((w ? w[k]! : 1) * acc) / T;
    total += per[b]!;
  }
  const backward = (g: Float32Array): Float32Array[] => {
    const dx = new Float32Array(T * B * C);
    for (let b = 0; b < B; b++) {
      const k = y[b]!;
      const gb = reduction === 'none' ? g[b]! : reduction === 'mean' ? g[0]! / B : g[0]!;
      const coef = (gb * (w ? w[k]! : 1)) / T;
      for (let t = 0; t < T; t++) {
        const row = (t * B + b) * C;
        for (let c = 0; c < C; c++) dx[row + c] = coef * Math.exp(logp[row + c]!);
        dx[row + k]! -= coef;
      }
    }
    return [dx];
  };
  if (reduction === 'none') return result(per, [B], [logits], backward);
  const value = reduction === 'mean' ? total / B : total;
  return result(new Float32Array([value]), [], [logits], backward);
}

export type CrossEntropyLossOptions = ReductionOptions & PopulationOptions;

/**
 * Cross-entropy spike rate loss (snnTorch `ce_rate_loss`), spikes `[T, B, C]`, targets int32 `[B]`:
 * `L = mean_b (1/T) sum_t w_{y_b} * CE(spk[t, b], y_b)`, i.e. the softmax cross-entropy at every step, averaged
 * over steps. A weighted mean divides by B (snnTorch's weighted reduction), not by the sum of the weights as
 * PyTorch's NLLLoss does. 'none' gives `[B]`, 'mean'/'sum' a scalar `[]` (snnTorch returns shape [1]).
 *
 * With `populationCode`, the logits at step t are the group sums `[T, B, numClasses]`. (snnTorch 0.9.4 raises a
 * TypeError there without a weight; this is the intended behaviour.)
 */
export function ceRateLoss(options: CrossEntropyLossOptions = {}): SpikeLoss {
  const fn = 'ceRateLoss';
  const reduction = checkReduction(fn, options.reduction);
  return (spk, targets) => {
    const [, B, C] = recordDims(fn, spk, 'spk');
    const k = populationClasses(fn, options, C);
    const classes = k ?? C;
    const y = classTargets(fn, targets, B, classes);
    const w = classWeights(fn, options.weight, classes);
    return stepCrossEntropy(k === null ? spk : groupSum(spk, k), y, w, reduction);
  };
}

/**
 * Cross-entropy spike count loss (snnTorch `ce_count_loss`): `L = mean_b w_{y_b} * CE(sum_t spk[t, b], y_b)`
 * (population code: group counts). Weighted mean divides by B; 'none' gives `[B]`, else a scalar `[]`.
 */
export function ceCountLoss(options: CrossEntropyLossOptions = {}): SpikeLoss {
  const fn = 'ceCountLoss';
  const reduction = checkReduction(fn, options.reduction);
  return (spk, targets) => {
    const [, B, C] = recordDims(fn, spk, 'spk');
    const k = populationClasses(fn, options, C);
    const classes = k ?? C;
    const y = classTargets(fn, targets, B, classes);
    const w = classWeights(fn, options.weight, classes);
    return stepCrossEntropy(reshape(counts(spk, k), [1, B, classes]), y, w, reduction);
  };
}

/**
 * Cross-entropy max-membrane loss (snnTorch `ce_max_membrane_loss`), membrane `[T, B, C]`:
 * `L = mean_b w_{y_b} * CE(max_t mem[t, b], y_b)`; the gradient reaches the first maximum over time.
 * Weighted mean divides by B; 'none' gives `[B]`, else a scalar `[]`.
 */
export function ceMaxMembraneLoss(options: ReductionOptions = {}): SpikeLoss {
  const fn = 'ceMaxMembraneLoss';
  const reduction = checkReduction(fn, options.reduction);
  return (mem, targets) => {
    const [, B, C] = recordDims(fn, mem, 'mem');
    const y = classTargets(fn, targets, B, C);
    const w = classWeights(fn, options.weight, C);
    return stepCrossEntropy(reshape(max(mem, 0).values, [1, B, C]), y, w, reduction);
  };
}
