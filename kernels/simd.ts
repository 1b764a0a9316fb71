// SIMD helpers shared by every kernel. One source builds two modules: `ASC_FEATURE_RELAXED_SIMD` is a compile-time
// constant, so the untaken branch disappears and the SIMD128 build never contains a relaxed opcode.

/** `a*b + c` per lane: one fused f32x4.relaxed_madd where the engine has it, else a separate multiply and add. */
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Rounds `n` up to a multiple of `m`. */
// @ts-ignore: decorator
@inline
export function roundUp(n: i32, m: i32): i32 {
  return ((n + m - 1) / m) * m;
}

/**
 * The next unit of work of a job whose threads share the int32 counter at `counter` (zeroed before the job): an
 * atomic fetch-and-add, so a thread that starts late or runs slow on a shared machine simply takes fewer units.
 * Only for kernels whose units write disjoint outputs (the result then does not depend on who ran what).
 */
// @ts-ignore: decorator
@inline
export function claim(counter: usize): i32 {
  return atomic.add<i32>(counter, 1);
}

/** `[lo, hi)` of `total` items for thread `tid` of `nth`, in units of `unit` items (the last share takes the rest). */
// @ts-ignore: decorator
@inline
export function shareStart(total: i32, unit: i32, tid: i32, nth: i32): i32 {
  const units = (total + unit - 1) / unit;
  const per = units / nth;
  const extra = units % nth;
  const u = tid * per + min(tid, extra);
  return min(total, u * unit);
}
