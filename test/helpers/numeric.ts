import { expect } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/random.js';

/** Tolerances used across the suite (from ../shared/golden/README.md). */
export const tol = {
  membrane: 1e-4,
  leakyInputGrad: 1e-4,
  loss: 1e-5,
  networkMem: 2e-4,
  networkGradRelL2: 1e-3,
  cnnGradRelL2: 1e-4,
  gradcheckRel: 2e-2,
} as const;

export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function randomTensor(
  shape: number[],
  rng: Rng,
  options: { requiresGrad?: boolean; low?: number; high?: number } = {},
): Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniformRange(options.low ?? -1, options.high ?? 1);
  return new Tensor(data, shape, { requiresGrad: options.requiresGrad ?? false });
}

/**
 * Finite-difference gradient check: compares the tape gradient of `sum(f(inputs) * R)` (R random) with central
 * differences on every input element (float32 forward, so eps and tolerance are loose but meaningful).
 */
export function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: { eps?: number; rtol?: number; atol?: number; seed?: number } = {},
): void {
  const eps = options.eps ?? 1e-2;
  const rtol = options.rtol ?? tol.gradcheckRel;
  const atol = options.atol ?? 2e-3;
  const rng = new Rng(options.seed ?? 123);
  for (const x of inputs) x.grad = null;
  const out0 = f(...inputs);
  const r = new Float32Array(out0.size).map(() => rng.uniformRange(-1, 1));
  const objective = (): number => {
    const o = f(...inputs).values;
    let s = 0;
    for (let i = 0; i < o.length; i++) s += o[i]! * r[i]!;
    return s;
  };
  out0.backward(new Tensor(r, out0.shape));
  for (const x of inputs) {
    if (!x.requiresGrad) continue;
    const analytic = x.grad!.values;
    const v = x.values;
    for (let i = 0; i < v.length; i++) {
      const orig = v[i]!;
      v[i] = orig + eps;
      const up = objective();
      v[i] = orig - eps;
      const down = objective();
      v[i] = orig;
      const numeric = (up - down) / (2 * eps);
      const diff = Math.abs(numeric - analytic[i]!);
      if (diff > atol + rtol * Math.abs(numeric)) {
        throw new Error(`gradcheck: element ${i}: analytic ${analytic[i]} vs numeric ${numeric}`);
      }
    }
  }
}
