import { getBackend } from '../../backend/registry.js';
import { Tensor, result, shapeToString } from '../tensor.js';

/** Log-softmax over the last axis: `x_i - log sum_j exp(x_j)`. Backward: `g - softmax * sum(g)`. */
export function logSoftmax(x: Tensor): Tensor {
  const cols = x.shape[x.ndim - 1]!;
  const rows = x.size / cols;
  const out = new Float32Array(x.size);
  getBackend().logSoftmax(rows, cols, x.values, out);
  return result(out, x.shape, [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += g[r * cols + c]!;
      for (let c = 0; c < cols; c++) gx[r * cols + c] = g[r * cols + c]! - Math.exp(out[r * cols + c]!) * s;
    }
    return [gx];
  });
}

export type Reduction = 'mean' | 'sum' | 'none';

export interface NllOptions {
  /** Per-class weights `[C]` (PyTorch: the mean divides by the sum of the picked weights). */
  weight?: Tensor | null;
  reduction?: Reduction;
}

/** Negative log-likelihood of int32 class ids under log-probabilities `[N, C]`: `-w[y_n] * logp[n, y_n]`. */
export function nllLoss(logProbs: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  const reduction = options.reduction ?? 'mean';
  if (logProbs.ndim !== 2)
    throw new RangeError(`nllLoss: expected log-probabilities [N, C], got ${shapeToString(logProbs.shape)}`);
  const [n, c] = logProbs.shape as [number, number];
  const y = target.ints;
  if (y.length !== n) throw new RangeError(`nllLoss: ${y.length} targets for ${n} rows`);
  const w = options.weight ? options.weight.values : null;
  if (w && w.length !== c) throw new RangeError(`nllLoss: weight has ${w.length} entries, expected ${c} classes`);
  const lp = logProbs.values;
  const per = new Float32Array(n);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const k = y[i]!;
    if (k < 0 || k >= c) throw new RangeError(`nllLoss: target ${k} at row ${i} is not a class id in [0, ${c})`);
    const wi = w ? w[k]! : 1;
    per[i] = -wi * lp[i * c + k]!;
    wsum += wi;
  }
  const scaleOf = reduction === 'mean' ? 1 / wsum : 1;
  const backward = (g: Float32Array): Float32Array[] => {
    const gl = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      const k = y[i]!;
      gl[i * c + k] = -(w ? w[k]! : 1) * (reduction === 'none' ? g[i]! : g[0]! * scaleOf);
    }
    return [gl];
  };
  if (reduction === 'none') return result(per, [n], [logProbs], backward);
  let total = 0;
  for (let i = 0; i < n; i++) total += per[i]!;
  return result(new Float32Array([total * scaleOf]), [], [logProbs], backward);
}

/** Cross-entropy of logits `[N, C]` against int32 class ids: `nllLoss(logSoftmax(x), y)`. */
export function crossEntropy(logits: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  return nllLoss(logSoftmax(logits), target, options);
}
