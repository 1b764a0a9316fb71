// Row-wise log-softmax of x[rows, cols]: out[r,j] = (x[r,j] - max_r) - log(sum_j exp(x[r,j] - max_r)).
// Sums in float64 (rows are short: class scores), so the result matches the reference to float32 rounding.
// A NaN in a row wins the max (as torch.max) and poisons the row; out may alias x. Rows are split across threads.
import { at } from './gemm';
import { shareStart } from './simd';

export function logSoftmax(
  tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, rows: i32, cols: i32, x: usize, out: usize,
): void {
  const r0 = shareStart(rows, 1, tid, nth);
  const r1 = shareStart(rows, 1, tid + 1, nth);
  for (let r = r0; r < r1; r++) {
    const xr = at(x, r * cols);
    const or = at(out, r * cols);
    let mx: f64 = -Infinity;
    for (let j = 0; j < cols; j++) {
      const v = <f64>load<f32>(at(xr, j));
      if (v > mx || v != v) mx = v;
    }
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(<f64>load<f32>(at(xr, j)) - mx);
    const logSum = Math.log(sum);
    for (let j = 0; j < cols; j++) store<f32>(at(or, j), <f32>(<f64>load<f32>(at(xr, j)) - mx - logSum));
  }
}
