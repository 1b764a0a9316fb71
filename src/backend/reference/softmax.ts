import { requireCount, requireLength } from './check.js';

/**
 * Row-wise log-softmax of `x[rows, cols]`: `out[r,j] = (x[r,j] - max_r) - log(sum_j exp(x[r,j] - max_r))`.
 * Subtracting the row maximum keeps every exponent <= 0, so nothing overflows and the largest term is exactly 1.
 * A row of all -Infinity gives NaN (as PyTorch does); `out` may alias `x`.
 */
export function logSoftmax(rows: number, cols: number, x: Float32Array, out: Float32Array): void {
  requireCount('logSoftmax', 'rows', rows);
  requireCount('logSoftmax', 'cols', cols);
  requireLength('logSoftmax', 'x', x, rows * cols);
  requireLength('logSoftmax', 'out', out, rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) {
      const v = x[base + j]!;
      // NaN wins, like torch.max, so a NaN input row yields NaN outputs instead of a silent finite answer.
      if (v > max || Number.isNaN(v)) max = v;
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[base + j]! - max);
    const logSum = Math.log(sum);
    for (let j = 0; j < cols; j++) out[base + j] = x[base + j]! - max - logSum;
  }
}
