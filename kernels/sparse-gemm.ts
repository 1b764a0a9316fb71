// Spike-sparse products for a left operand S of 0/1 spikes (any value works: each nonzero s contributes s*row):
//   spikeGemm:           C[m,n]  = (accumulate ? C : 0) + alpha * sum_k S[m,k] * W[k,n]
//   spikeGemmWeightGrad: dW[k,n] = (accumulate ? dW : 0) + alpha * sum_m S[m,k] * G[m,n]
// Instead of multiplying by zeros, each row of S is scanned once (4 lanes at a time) into a list of its nonzero
// entries, and whole rows of W (or G) are accumulated for those entries only: the work is proportional to the
// spike count. Skipping zeros differs from a dense product only where W holds Inf/NaN (0*Inf is NaN densely).
// Sums run in increasing k (resp. m), the order of the dense kernels.
import { at } from './gemm';
import { madd, roundUp, shareStart } from './simd';

// For each 4-bit mask of nonzero lanes, the byte shuffle that packs those lanes to the front (in lane order).
const COMPACT: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0,
  8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0,
  12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0,
  8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
]);

/**
 * Lists the nonzero entries of row[q0, q1): byte pointers `base + q*stride` into idx and the values into val;
 * returns the count. Branch-free, 4 entries at a time: a shuffle from COMPACT packs the nonzero lanes of the
 * pointer and value vectors to the front, both are stored whole and the count advances by the mask's popcount
 * (at spike densities of 5-30% a branch per element mispredicts constantly). idx and val need q1 - q0 + 4 slots.
 */
// @ts-ignore: decorator
@inline
export function gatherNonzero(row: usize, q0: i32, q1: i32, base: usize, stride: usize, idx: usize, val: usize): i32 {
  let cnt = 0;
  let q = q0;
  const zero = f32x4.splat(0);
  const st = <i32>stride;
  let ptrs = i32x4.add(i32x4.splat(<i32>(base + <usize>q0 * stride)), i32x4(0, st, 2 * st, 3 * st));
  const step = i32x4.splat(4 * st);
  for (; q + 4 <= q1; q += 4) {
    const v = v128.load(at(row, q));
    const m = i32x4.bitmask(f32x4.ne(v, zero));
    const sh = v128.load(COMPACT + (<usize>m << 4));
    v128.store(at(idx, cnt), i8x16.swizzle(ptrs, sh));
    v128.store(at(val, cnt), i8x16.swizzle(v, sh));
    cnt += popcnt(m);
    ptrs = i32x4.add(ptrs, step);
  }
  for (; q < q1; q++) {
    const s = load<f32>(at(row, q));
    store<u32>(at(idx, cnt), <u32>(base + <usize>q * stride));
    store<f32>(at(val, cnt), s);
    cnt += i32(s != 0);
  }
  return cnt;
}

/** dst[0..4*nv) = (acc ? dst : 0) + alpha * v for one block of vectors. */
// @ts-ignore: decorator
@inline
function put(dst: usize, v: v128, va: v128, acc: bool): void {
  v128.store(dst, acc ? madd(v, va, v128.load(dst)) : f32x4.mul(v, va));
}

/**
 * out[j0, j0+4*width) (+)= alpha * sum_t val[t] * row_t[j0 ...] for the cnt listed rows; width = 6, 4 or 1 vectors
 * held in registers across the whole list. (Wider blocks make TurboFan hoist all loads and spill accumulators.)
 */
// @ts-ignore: decorator
@inline
export function accumulateRows(cnt: i32, idx: usize, val: usize, j0: i32, width: i32, out: usize, va: v128, acc: bool): void {
  const off = <usize>j0 << 2;
  if (width == 6) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0);
    for (let t = 0; t < cnt; t++) {
      const p = <usize>load<u32>(at(idx, t)) + off;
      const s = v128.load32_splat(at(val, t));
      a0 = madd(s, v128.load(p), a0);
      a1 = madd(s, v128.load(p, 16), a1);
      a2 = madd(s, v128.load(p, 32), a2);
      a3 = madd(s, v128.load(p, 48), a3);
      a4 = madd(s, v128.load(p, 64), a4);
      a5 = madd(s, v128.load(p, 80), a5);
    }
    const o = out + off;
    put(o, a0, va, acc);
    put(o + 16, a1, va, acc);
    put(o + 32, a2, va, acc);
    put(o + 48, a3, va, acc);
    put(o + 64, a4, va, acc);
    put(o + 80, a5, va, acc);
  } else if (width == 4) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let t = 0; t < cnt; t++) {
      const p = <usize>load<u32>(at(idx, t)) + off;
      const s = v128.load32_splat(at(val, t));
      a0 = madd(s, v128.load(p), a0);
      a1 = madd(s, v128.load(p, 16), a1);
      a2 = madd(s, v128.load(p, 32), a2);
      a3 = madd(s, v128.load(p, 48), a3);
    }
    const o = out + off;
    put(o, a0, va, acc);
    put(o + 16, a1, va, acc);
    put(o + 32, a2, va, acc);
    put(o + 48, a3, va, acc);
  } else {
    let a0 = f32x4.splat(0);
    for (let t = 0; t < cnt; t++) {
      const p = <usize>load<u32>(at(idx, t)) + off;
      a0 = madd(v128.load32_splat(at(val, t)), v128.load(p), a0);
    }
    put(out + off, a0, va, acc);
  }
}

/** All whole vectors of out[0, n4) (n4 a multiple of 4) in register blocks of 6, 4 and 1 vectors. */
// @ts-ignore: decorator
@inline
export function accumulateVectors(cnt: i32, idx: usize, val: usize, n4: i32, out: usize, va: v128, acc: bool): void {
  let j = 0;
  for (; j + 24 <= n4; j += 24) accumulateRows(cnt, idx, val, j, 6, out, va, acc);
  for (; j + 16 <= n4; j += 16) accumulateRows(cnt, idx, val, j, 4, out, va, acc);
  for (; j + 4 <= n4; j += 4) accumulateRows(cnt, idx, val, j, 1, out, va, acc);
}

/**
 * Columns [j0, n), the n % 4 tail: with n >= 4, one vector over the last 4 columns [n-4, n) of which only the lanes
 * >= j0 are stored (through `tmp`, 4 floats); else one scalar column at a time.
 */
// @ts-ignore: decorator
@inline
export function accumulateTail(
  cnt: i32, idx: usize, val: usize, j0: i32, n: i32, out: usize, alpha: f32, acc: bool, tmp: usize,
): void {
  if (j0 >= n) return;
  if (n >= 4) {
    const off = <usize>(n - 4) << 2;
    let a0 = f32x4.splat(0);
    for (let t = 0; t < cnt; t++) {
      a0 = madd(v128.load32_splat(at(val, t)), v128.load(<usize>load<u32>(at(idx, t)) + off), a0);
    }
    v128.store(tmp, a0);
    for (let j = j0; j < n; j++) {
      const o = at(out, j);
      const v = alpha * load<f32>(at(tmp, j - (n - 4)));
      store<f32>(o, acc ? load<f32>(o) + v : v);
    }
    return;
  }
  for (let j = j0; j < n; j++) {
    let s: f32 = 0;
    for (let t = 0; t < cnt; t++) s += load<f32>(at(val, t)) * load<f32>(at(<usize>load<u32>(at(idx, t)), j));
    const o = at(out, j);
    store<f32>(o, acc ? load<f32>(o) + alpha * s : alpha * s);
  }
}

/** row_t[j0 .. j0+4*width) += alpha*val[t] * g[j0 ..] for each listed row, g held in width (6, 4, 1) registers. */
// @ts-ignore: decorator
@inline
function scatterRows(cnt: i32, idx: usize, val: usize, j0: i32, width: i32, g: usize, alpha: f32): void {
  const o = <usize>j0 << 2;
  const p = g + o;
  if (width == 6) {
    const g0 = v128.load(p), g1 = v128.load(p, 16), g2 = v128.load(p, 32);
    const g3 = v128.load(p, 48), g4 = v128.load(p, 64), g5 = v128.load(p, 80);
    for (let t = 0; t < cnt; t++) {
      const d = <usize>load<u32>(at(idx, t)) + o;
      const sv = f32x4.splat(load<f32>(at(val, t)) * alpha);
      v128.store(d, madd(sv, g0, v128.load(d)));
      v128.store(d, madd(sv, g1, v128.load(d, 16)), 16);
      v128.store(d, madd(sv, g2, v128.load(d, 32)), 32);
      v128.store(d, madd(sv, g3, v128.load(d, 48)), 48);
      v128.store(d, madd(sv, g4, v128.load(d, 64)), 64);
      v128.store(d, madd(sv, g5, v128.load(d, 80)), 80);
    }
  } else if (width == 4) {
    const g0 = v128.load(p), g1 = v128.load(p, 16), g2 = v128.load(p, 32), g3 = v128.load(p, 48);
    for (let t = 0; t < cnt; t++) {
      const d = <usize>load<u32>(at(idx, t)) + o;
      const sv = f32x4.splat(load<f32>(at(val, t)) * alpha);
      v128.store(d, madd(sv, g0, v128.load(d)));
      v128.store(d, madd(sv, g1, v128.load(d, 16)), 16);
      v128.store(d, madd(sv, g2, v128.load(d, 32)), 32);
      v128.store(d, madd(sv, g3, v128.load(d, 48)), 48);
    }
  } else {
    const g0 = v128.load(p);
    for (let t = 0; t < cnt; t++) {
      const d = <usize>load<u32>(at(idx, t)) + o;
      v128.store(d, madd(f32x4.splat(load<f32>(at(val, t)) * alpha), g0, v128.load(d)));
    }
  }
}

/** Bytes of scratch per thread: the nonzero list of one row (pointer + value per entry). */
export function spikeGemmWorkspace(k: i32): i32 {
  return (listSlots(k) << 3) + 64 + 16;
}

// @ts-ignore: decorator
@inline
function listSlots(k: i32): i32 {
  return roundUp(k + 4, 16);
}

export function spikeGemm(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, m: i32, n: i32, k: i32, alpha: f32,
  s: usize, lds: i32, w: usize, ldw: i32, c: usize, ldc: i32, accumulate: bool,
): void {
  const i0 = shareStart(m, 1, tid, nth);
  const i1 = shareStart(m, 1, tid + 1, nth);
  const ws = wsBase + <usize>tid * wsStride;
  const idx = ws;
  const val = at(ws, listSlots(k));
  const va = f32x4.splat(alpha);
  const stride = <usize>ldw << 2;
  for (let i = i0; i < i1; i++) {
    const cnt = gatherNonzero(at(s, i * lds), 0, k, w, stride, idx, val);
    const crow = at(c, i * ldc);
    const n4 = n & ~3;
    accumulateVectors(cnt, idx, val, n4, crow, va, accumulate);
    accumulateTail(cnt, idx, val, n4, n, crow, alpha, accumulate, at(val, listSlots(k)));
  }
}

/**
 * dW rows [k0, k1) belong to thread tid (no reduction needed); every thread scans its column slice of all rows
 * of S, and each nonzero S[m,q] adds s*alpha*G[m,:] to dW[q,:], a block of up to 8 vectors of G held in registers.
 */
export function spikeGemmWeightGrad(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, m: i32, n: i32, k: i32, alpha: f32,
  s: usize, lds: i32, g: usize, ldg: i32, dw: usize, lddw: i32, accumulate: bool,
): void {
  const k0 = shareStart(k, 4, tid, nth);
  const k1 = shareStart(k, 4, tid + 1, nth);
  if (k1 <= k0) return;
  const ws = wsBase + <usize>tid * wsStride;
  const idx = ws;
  const val = at(ws, listSlots(k));
  const stride = <usize>lddw << 2;
  if (!accumulate) {
    for (let q = k0; q < k1; q++) memory.fill(at(dw, q * lddw), 0, <usize>n << 2);
  }
  for (let i = 0; i < m; i++) {
    const cnt = gatherNonzero(at(s, i * lds), k0, k1, dw, stride, idx, val);
    if (cnt == 0) continue;
    const grow = at(g, i * ldg);
    let j = 0;
    for (; j + 24 <= n; j += 24) scatterRows(cnt, idx, val, j, 6, grow, alpha);
    for (; j + 16 <= n; j += 16) scatterRows(cnt, idx, val, j, 4, grow, alpha);
    for (; j + 4 <= n; j += 4) scatterRows(cnt, idx, val, j, 1, grow, alpha);
    for (; j < n; j++) {
      const gv = load<f32>(at(grow, j));
      for (let t = 0; t < cnt; t++) {
        const d = at(<usize>load<u32>(at(idx, t)), j);
        store<f32>(d, load<f32>(d) + load<f32>(at(val, t)) * alpha * gv);
      }
    }
  }
}

/** Thread tid counts the nonzeros of its share of x[0, n) into counts[tid] (int32). */
export function countNonzero(tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, x: usize, n: i32, counts: usize): void {
  const i0 = shareStart(n, 64, tid, nth);
  const i1 = shareStart(n, 64, tid + 1, nth);
  const zero = f32x4.splat(0);
  let total = i32x4.splat(0);
  let i = i0;
  // f32x4.ne gives -1 per nonzero lane: subtracting the mask counts.
  for (; i + 4 <= i1; i += 4) total = i32x4.sub(total, f32x4.ne(v128.load(at(x, i)), zero));
  let cnt = i32x4.extract_lane(total, 0) + i32x4.extract_lane(total, 1) + i32x4.extract_lane(total, 2) + i32x4.extract_lane(total, 3);
  for (; i < i1; i++) if (load<f32>(at(x, i)) != 0) cnt++;
  store<i32>(at(counts, tid), cnt);
}
