// ReLU forward and backward over n floats, the tape's semantics (NaN -> 0, gradient 0 at 0):
//   relu:          out[i] = x[i] > 0 ? x[i] : 0
//   reluBackward:  dx[i]  = y[i] > 0 ? dy[i] : 0     (y: the ReLU's output or input, same sign test)
// Lane masks instead of branches: on real activations the sign is a coin flip, which made a JS loop over the same
// arrays 30x slower than this. Outputs may alias inputs. Threads split the range.
import { at } from './gemm';
import { shareStart } from './simd';

export function relu(tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, n: i32, x: usize, out: usize): void {
  const i0 = shareStart(n, 64, tid, nth);
  const i1 = shareStart(n, 64, tid + 1, nth);
  const zero = f32x4.splat(0);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v = v128.load(at(x, i));
    v128.store(at(out, i), v128.and(v, f32x4.gt(v, zero)));
  }
  for (; i < i1; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(out, i), v > 0 ? v : 0);
  }
}

export function reluBackward(
  tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, n: i32, y: usize, dy: usize, dx: usize,
): void {
  const i0 = shareStart(n, 64, tid, nth);
  const i1 = shareStart(n, 64, tid + 1, nth);
  const zero = f32x4.splat(0);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    v128.store(at(dx, i), v128.and(v128.load(at(dy, i)), f32x4.gt(v128.load(at(y, i)), zero)));
  }
  for (; i < i1; i++) store<f32>(at(dx, i), load<f32>(at(y, i)) > 0 ? load<f32>(at(dy, i)) : 0);
}

/** Entries of the int32 array a[0, n) outside [lo, hi] (a cheap guard before kernels index with them). */
export function countOutsideI32(a: usize, n: i32, lo: i32, hi: i32): i32 {
  const vlo = i32x4.splat(lo);
  const vhi = i32x4.splat(hi);
  let bad = i32x4.splat(0);
  let i = 0;
  // i32x4.lt/gt give -1 per offending lane: subtracting the masks counts them.
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(a, i));
    bad = i32x4.sub(i32x4.sub(bad, i32x4.lt_s(v, vlo)), i32x4.gt_s(v, vhi));
  }
  let cnt = i32x4.extract_lane(bad, 0) + i32x4.extract_lane(bad, 1);
  cnt += i32x4.extract_lane(bad, 2) + i32x4.extract_lane(bad, 3);
  for (; i < n; i++) {
    const v = load<i32>(at(a, i));
    if (v < lo || v > hi) cnt++;
  }
  return cnt;
}
