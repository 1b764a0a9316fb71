/**
 * Float32 arithmetic helpers. snnTorch computes spike times in float32 and then rounds them to steps, so a time
 * that lands near `k + 0.5` must be computed with float32 rounding after every operation (as PyTorch does) to
 * pick the same step. Python scalars in a tensor expression are cast to float32 first, hence `f32(scalar)`.
 */
export const f32 = Math.fround;

/** `torch.round`: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds halves up; step back when that produced an odd integer from an exact half
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Smallest and largest value of a typed array (NaN-free input assumed). */
export function minMax(v: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const e = v[i]!;
    if (e < lo) lo = e;
    if (e > hi) hi = e;
  }
  return [lo, hi];
}
