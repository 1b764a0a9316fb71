import type { AdamArgs } from '../backend.js';
import { KernelArgumentError, requireLength } from './check.js';

/**
 * One in-place Adam step, PyTorch 1.13 `torch.optim.Adam` (single-tensor path), per element:
 *   g = grad + weightDecay*param                    (only when weightDecay != 0; `grad` itself is not modified)
 *   m = beta1*m + (1 - beta1)*g,   v = beta2*v + (1 - beta2)*g*g
 *   amsgrad: vMax = max(vMax, v), and vMax replaces v below
 *   param = param + (-lr/(1 - beta1^step)) * m / (sqrt(v)/sqrt(1 - beta2^step) + eps)
 *
 * The bias corrections and step size are Python floats (float64), as in PyTorch. The per-element work follows
 * PyTorch's CPU kernels in float32, one rounding per tensor op in the same order: scalars cast to float32,
 * `add(alpha=)` as a fused multiply-add (ATen's vectorised `fmadd`; the product of two float32 is exact in a
 * double, so rounding the double sum to float32 models it), `addcmul` as `v + (c*g)*g`, `addcdiv` as
 * `p + (c*m)/denom`. This reproduces PyTorch's parameters after one step bit for bit on the golden network.
 */
export function adamStep(
  a: AdamArgs,
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vMax: Float32Array | null,
): void {
  const { lr, beta1, beta2, eps, weightDecay, step, amsgrad } = a;
  if (!Number.isInteger(step) || step < 1) {
    throw new KernelArgumentError(
      `reference.adamStep (src/backend/reference): step must be an integer >= 1 (1-based, after increment), got ${step}`,
    );
  }
  const n = param.length;
  requireLength('adamStep', 'grad', grad, n);
  requireLength('adamStep', 'm', m, n);
  requireLength('adamStep', 'v', v, n);
  if (amsgrad) {
    if (!vMax) {
      throw new KernelArgumentError(
        'reference.adamStep (src/backend/reference): amsgrad needs a vMax buffer, got null',
      );
    }
    requireLength('adamStep', 'vMax', vMax, n);
  }

  const fr = Math.fround;
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = fr(Math.sqrt(1 - beta2 ** step));
  const wd = fr(weightDecay);
  const b1 = fr(beta1);
  const b2 = fr(beta2);
  const oneMinusB1 = fr(1 - beta1);
  const oneMinusB2 = fr(1 - beta2);
  const eps32 = fr(eps);
  const negStep = fr(-stepSize);
  for (let i = 0; i < n; i++) {
    const p = param[i]!;
    const g = weightDecay !== 0 ? fr(p * wd + grad[i]!) : grad[i]!;
    const mi = fr(g * oneMinusB1 + fr(m[i]! * b1));
    let vi = fr(fr(v[i]! * b2) + fr(fr(oneMinusB2 * g) * g));
    m[i] = mi;
    v[i] = vi;
    if (amsgrad) {
      vi = Math.max(vMax![i]!, vi);
      vMax![i] = vi;
    }
    const denom = fr(fr(fr(Math.sqrt(vi)) / bc2Sqrt) + eps32);
    param[i] = p + fr(fr(negStep * mi) / denom);
  }
}
