// Blocked single-precision GEMM (Goto/BLIS scheme) on raw pointers into the shared memory:
//   C[m,n] = (accumulate ? C : 0) + alpha * sum_k A[m,k] * B[k,n]
// A and B are read through a "mode": ROW (stored row-major as written), COL (stored transposed: A as [K,M], B as
// [N,K]). Operands are packed into panels so the 6x8 micro-kernel reads both with unit stride:
//   packed A block: strips of MR rows, each strip k-major (MR values per k); the last strip zero-padded
//   packed B block: strips of NR columns, each strip k-major (NR values per k); the last strip zero-padded
// 4x8 tile = 8 f32x4 accumulators + 2 B vectors + 1 broadcast A value (6x8 made TurboFan spill accumulators).
import { gemmSkinny, skinnyScratchBytes } from './gemm-skinny';
import { madd, roundUp, shareStart } from './simd';

export const MR: i32 = 4;
export const NR: i32 = 8;
export const MC: i32 = 120;
export const KC_MAX: i32 = 384;
export const KC_SPLIT: i32 = 256;
export const NC: i32 = 512;

export const MODE_ROW: i32 = 0;
export const MODE_COL: i32 = 1;
/** A already packed whole by packAFull: block (pc, ic) sits at a + (pc*roundUp(M,MR) + ic*kc) floats. */
export const MODE_PACKED: i32 = 2;

// @ts-ignore: decorator
@inline
export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** K is taken whole up to KC_MAX (one pass over C), else in blocks of KC_SPLIT. */
// @ts-ignore: decorator
@inline
export function kcFor(k: i32): i32 {
  return k <= KC_MAX ? k : KC_SPLIT;
}

/** Bytes of per-thread scratch gemmSerial needs: the 6x8 tile, one packed A block and one packed B block. */
export function gemmScratchBytes(n: i32, k: i32): i32 {
  const kc = kcFor(k);
  const nc = min(NC, roundUp(max(n, 1), NR));
  return (64 + MC * kc + kc * nc) << 2;
}

// -- packing ---------------------------------------------------------------------------------------------------

/** Packs rows [i0, i0+mc) x cols [k0, k0+kc) of a row-major A (leading dimension lda) into MR-row strips. */
export function packARow(a: usize, lda: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const d = at(dst, ir * kc);
    const r0 = at(a, (i0 + ir) * lda + k0);
    if (mr == MR) {
      const ld = <usize>lda << 2;
      let k = 0;
      // 4 k at a time: a 4x4 transpose.
      for (; k + 4 <= kc; k += 4) {
        const p = r0 + (<usize>k << 2);
        transpose4Store(v128.load(p), v128.load(p + ld), v128.load(p + 2 * ld), v128.load(p + 3 * ld), at(d, k * MR), 16);
      }
      for (; k < kc; k++) {
        const o = at(d, k * MR);
        for (let r = 0; r < MR; r++) store<f32>(at(o, r), load<f32>(at(r0, r * lda + k)));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const o = at(d, k * MR);
        for (let r = 0; r < MR; r++) store<f32>(at(o, r), r < mr ? load<f32>(at(r0, r * lda + k)) : 0);
      }
    }
  }
}

/** Packs op(A) rows [i0, i0+mc) x k [k0, k0+kc) where A is stored [K, M] (lda >= M): MR contiguous values per k. */
export function packACol(a: usize, lda: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const d = at(dst, ir * kc);
    const s0 = at(a, k0 * lda + i0 + ir);
    const ld = <usize>lda << 2;
    if (mr == MR) {
      for (let k = 0; k < kc; k++) {
        const s = s0 + <usize>k * ld;
        const o = at(d, k * MR);
        v128.store(o, v128.load(s));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const s = s0 + <usize>k * ld;
        const o = at(d, k * MR);
        for (let r = 0; r < MR; r++) store<f32>(at(o, r), r < mr ? load<f32>(at(s, r)) : 0);
      }
    }
  }
}

/** Packs B rows k [k0, k0+kc) x cols [j0, j0+nc) of a row-major B [K, N] (ldb >= N) into NR-column strips. */
export function packBRow(b: usize, ldb: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const ld = <usize>ldb << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const d = at(dst, jr * kc);
    const s0 = at(b, k0 * ldb + j0 + jr);
    if (nr == NR) {
      for (let k = 0; k < kc; k++) {
        const s = s0 + <usize>k * ld;
        const o = at(d, k * NR);
        v128.store(o, v128.load(s));
        v128.store(o, v128.load(s, 16), 16);
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const s = s0 + <usize>k * ld;
        const o = at(d, k * NR);
        for (let j = 0; j < NR; j++) store<f32>(at(o, j), j < nr ? load<f32>(at(s, j)) : 0);
      }
    }
  }
}

/** Packs op(B) = B^T where B is stored [N, K] (ldb >= K): for each k, NR values from NR stored rows (a transpose). */
export function packBCol(b: usize, ldb: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const ld = <usize>ldb << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const d = at(dst, jr * kc);
    const s0 = at(b, (j0 + jr) * ldb + k0);
    if (nr == NR) {
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const p = s0 + (<usize>k << 2);
        const o = at(d, k * NR);
        transpose4Store(v128.load(p), v128.load(p + ld), v128.load(p + 2 * ld), v128.load(p + 3 * ld), o, 32);
        const p4 = p + 4 * ld;
        transpose4Store(v128.load(p4), v128.load(p4 + ld), v128.load(p4 + 2 * ld), v128.load(p4 + 3 * ld), o + 16, 32);
      }
      for (; k < kc; k++) {
        const o = at(d, k * NR);
        for (let j = 0; j < NR; j++) store<f32>(at(o, j), load<f32>(at(s0, j * ldb + k)));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const o = at(d, k * NR);
        for (let j = 0; j < NR; j++) store<f32>(at(o, j), j < nr ? load<f32>(at(s0, j * ldb + k)) : 0);
      }
    }
  }
}

/** Transposes 4 rows of 4 and stores column i at `o + i*stride` bytes. */
// @ts-ignore: decorator
@inline
export function transpose4Store(x0: v128, x1: v128, x2: v128, x3: v128, o: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  v128.store(o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(o + stride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(o + 2 * stride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(o + 3 * stride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

// -- micro-kernel ----------------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline
function storeRow(p: usize, lo: v128, hi: v128, va: v128, acc: bool): void {
  if (acc) {
    v128.store(p, madd(lo, va, v128.load(p)));
    v128.store(p, madd(hi, va, v128.load(p, 16)), 16);
  } else {
    v128.store(p, f32x4.mul(lo, va));
    v128.store(p, f32x4.mul(hi, va), 16);
  }
}

/** C[mr x nr] (+)= alpha * Apanel[MR x kc] . Bpanel[kc x NR]; a partial tile goes through `tile` (32 floats). */
export function micro(
  kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, mr: i32, nr: i32, alpha: f32, acc: bool, tile: usize,
): void {
  // 8 accumulators + 2 B vectors + 1 broadcast: V8 keeps all of them in XMM registers (a 6x8 tile spilled).
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  const va = f32x4.splat(alpha);
  if (mr == MR && nr == NR) {
    const ld = <usize>ldc << 2;
    storeRow(c, c00, c01, va, acc);
    storeRow(c + ld, c10, c11, va, acc);
    storeRow(c + 2 * ld, c20, c21, va, acc);
    storeRow(c + 3 * ld, c30, c31, va, acc);
    return;
  }
  storeRow(tile, c00, c01, va, false);
  storeRow(tile + 32, c10, c11, va, false);
  storeRow(tile + 64, c20, c21, va, false);
  storeRow(tile + 96, c30, c31, va, false);
  for (let i = 0; i < mr; i++) {
    const row = at(c, i * ldc);
    const t = at(tile, i * NR);
    for (let j = 0; j < nr; j++) {
      const v = load<f32>(at(t, j));
      store<f32>(at(row, j), acc ? load<f32>(at(row, j)) + v : v);
    }
  }
}

/** Runs the micro-kernel over a packed mc x kc A block and kc x nc B block. */
export function macro(
  mc: i32, nc: i32, kc: i32, pA: usize, pB: usize, c: usize, ldc: i32, alpha: f32, acc: bool, tile: usize,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const pb = at(pB, jr * kc);
    for (let ir = 0; ir < mc; ir += MR) {
      micro(kc, at(pA, ir * kc), pb, at(c, ir * ldc + jr), ldc, min(MR, mc - ir), nr, alpha, acc, tile);
    }
  }
}

/** C = (accumulate ? C : 0) (+) nothing, for K = 0 (the product is empty). */
export function scaleOrZero(m: i32, n: i32, c: usize, ldc: i32, accumulate: bool): void {
  if (accumulate) return;
  for (let i = 0; i < m; i++) memory.fill(at(c, i * ldc), 0, <usize>n << 2);
}

/** Single-thread blocked GEMM; `ws` holds gemmScratchBytes(n, k) bytes. */
export function gemmSerial(
  aMode: i32, a: usize, lda: i32, bMode: i32, b: usize, ldb: i32,
  m: i32, n: i32, k: i32, alpha: f32, c: usize, ldc: i32, accumulate: bool, ws: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    scaleOrZero(m, n, c, ldc, accumulate);
    return;
  }
  const kcb = kcFor(k);
  const tile = ws;
  const pA = ws + 256;
  const pB = at(pA, MC * kcb);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kcb) {
      const kc = min(kcb, k - pc);
      if (bMode == MODE_ROW) packBRow(b, ldb, pc, kc, jc, nc, pB);
      else packBCol(b, ldb, pc, kc, jc, nc, pB);
      const acc = pc > 0 || accumulate;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        let pa = pA;
        if (aMode == MODE_ROW) packARow(a, lda, ic, mc, pc, kc, pA);
        else if (aMode == MODE_COL) packACol(a, lda, ic, mc, pc, kc, pA);
        else pa = at(a, pc * roundUp(m, MR) + ic * kc);
        macro(mc, nc, kc, pa, pB, at(c, ic * ldc + jc), ldc, alpha, acc, tile);
      }
    }
  }
}

/** Floats of a whole packed A (m x k) in the MODE_PACKED layout. */
export function packedAFloats(m: i32, k: i32): i32 {
  return roundUp(max(m, 1), MR) * k;
}

/** Packs all of op(A) (m x k; aMode ROW or COL) once, for reuse across many products with the same A. */
export function packAFull(aMode: i32, a: usize, lda: i32, m: i32, k: i32, dst: usize): void {
  const kcb = kcFor(k);
  const mPad = roundUp(m, MR);
  for (let pc = 0; pc < k; pc += kcb) {
    const kc = min(kcb, k - pc);
    if (aMode == MODE_ROW) packARow(a, lda, 0, m, pc, kc, at(dst, pc * mPad));
    else packACol(a, lda, 0, m, pc, kc, at(dst, pc * mPad));
  }
}

/** Bytes of scratch each thread needs for `gemm` (the blocked path's or a skinny kernel's). */
export function gemmWorkspace(m: i32, n: i32, k: i32): i32 {
  return max(gemmScratchBytes(n, k), skinnyScratchBytes(m, n, k));
}

/** Thread `tid` of `nth` computes its share of C: shapes with one small dimension by ./gemm-skinny.ts, else gemmBlocked. */
export function gemm(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize,
  transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool,
): void {
  const ws = wsBase + <usize>tid * wsStride;
  if (gemmSkinny(tid, nth, ws, transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc, accumulate)) return;
  gemmBlocked(tid, nth, wsBase, wsStride, transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc, accumulate);
}

/**
 * The blocked GEMM for any shape (`gemm` without the skinny kernels). Rows are split when M is at least N (each
 * thread then packs all of B, the smaller operand) and there are enough MR strips; otherwise columns, in NR units.
 * No two threads write the same element of C.
 */
export function gemmBlocked(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize,
  transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool,
): void {
  const ws = wsBase + <usize>tid * wsStride;
  const aMode = transA ? MODE_COL : MODE_ROW;
  const bMode = transB ? MODE_COL : MODE_ROW;
  const unitsM = (m + MR - 1) / MR;
  const unitsN = (n + NR - 1) / NR;
  if ((m >= n && unitsM >= nth) || unitsN < nth) {
    const i0 = shareStart(m, MR, tid, nth);
    const i1 = shareStart(m, MR, tid + 1, nth);
    if (i1 <= i0) return;
    const aOff = transA ? at(a, i0) : at(a, i0 * lda);
    gemmSerial(aMode, aOff, lda, bMode, b, ldb, i1 - i0, n, k, alpha, at(c, i0 * ldc), ldc, accumulate, ws);
  } else {
    const j0 = shareStart(n, NR, tid, nth);
    const j1 = shareStart(n, NR, tid + 1, nth);
    if (j1 <= j0) return;
    const bOff = transB ? at(b, j0 * ldb) : at(b, j0);
    gemmSerial(aMode, a, lda, bMode, bOff, ldb, m, j1 - j0, k, alpha, at(c, j0), ldc, accumulate, ws);
  }
}
