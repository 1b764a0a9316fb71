// One in-place Adam step with PyTorch 1.13's CPU numerics (torch.optim.Adam, single-tensor path), mirroring
// src/backend/reference/adam.ts operation for operation so both agree bit for bit:
//   g = fma(p, wd, grad) (if weightDecay != 0);  m = fma(g, 1-b1, m*b1);  v = v*b2 + ((1-b2)*g)*g
//   amsgrad: vMax = max(vMax, v), used in place of v
//   denom = sqrt(v)/bc2Sqrt + eps;  p = p + (negStep*m)/denom,  negStep = -lr/(1 - beta1^step)
// All scalars arrive already rounded to float32 (PyTorch casts Python floats to the tensor dtype). A fused
// multiply-add is modelled as the float64 sum of an exact float32 product, rounded once to float32.
import { at } from './gemm';
import { shareStart } from './simd';

export function adamStep(
  tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, n: i32, param: usize, grad: usize, m: usize, v: usize,
  vMax: usize, b1: f32, b2: f32, oneMinusB1: f32, oneMinusB2: f32, eps: f32, wd: f32, useWd: bool,
  negStep: f32, bc2Sqrt: f32, amsgrad: bool,
): void {
  const i0 = shareStart(n, 16, tid, nth);
  const i1 = shareStart(n, 16, tid + 1, nth);
  for (let i = i0; i < i1; i++) {
    const p = load<f32>(at(param, i));
    let g = load<f32>(at(grad, i));
    if (useWd) g = <f32>(<f64>p * <f64>wd + <f64>g);
    const mi = <f32>(<f64>g * <f64>oneMinusB1 + <f64>(load<f32>(at(m, i)) * b1));
    let vi: f32 = load<f32>(at(v, i)) * b2 + (oneMinusB2 * g) * g;
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    if (amsgrad) {
      vi = max(load<f32>(at(vMax, i)), vi);
      store<f32>(at(vMax, i), vi);
    }
    const denom: f32 = Mathf.sqrt(vi) / bc2Sqrt + eps;
    store<f32>(at(param, i), p + (negStep * mi) / denom);
  }
}
