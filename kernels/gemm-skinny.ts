// GEMMs with one small dimension, the shapes of a narrow Linear layer such as the SNN's readout Linear(1024, 10):
//   C[m,n] = (accumulate ? C : 0) + alpha * sum_k op(A)[i,k] * op(B)[k,j]
//   smallN  n <= SMALL_N  (forward,      C = A B^T, m=6400 n=10 k=1024): rows of A against the whole of op(B)
//   smallM  m <= SMALL_M  (weight grad,  C = A^T B, m=10 n=1024 k=6400): every row of C against columns of B
//   smallK  k <= SMALL_K  (input grad,   C = A B,   m=6400 n=1024 k=10): short sums, C written once
// The blocked GEMM (./gemm.ts) would pack all of A for these, pad the small dimension to its tile and run short k
// loops per tile. Here one register tile does all three: R <= 5 rows of C by NV <= 3 vectors (4 columns each),
//   acc[r][v] += splat(op(A)[i+r, kk]) * op(B)[kk, j+4v .. j+4v+3]
// with op(B) read with unit stride along the columns (packed, or B itself when it is row-major), so a step of kk
// is NV vector loads, R broadcast loads and R*NV multiply-adds. Tiles used: 3x3 (n of 9-12), 5x2, 5x1 and single
// rows: at most 10 accumulators + NV B vectors + the broadcast. V8 allocates 15 xmm registers (xmm15 is its
// scratch): 4x3 needs 16 and spilled. Sums run in increasing k, as in the blocked GEMM.
// Threads: smallN and smallK split rows, smallM splits columns (in whole vectors), so no two threads write one
// element and no partial sums need a reduction; smallM's bits do not depend on the thread count.
import { at } from './gemm';
import { madd, roundUp, shareStart } from './simd';

export const SMALL_N: i32 = 12;
export const SMALL_M: i32 = 12;
export const SMALL_K: i32 = 16;
/** k rows of op(B) packed at a time by smallN (KN*12 floats = 48 KB at most). */
const KN: i32 = 1024;
/**
 * k rows of B a pass of smallM reads in place. At a row stride of 4 KB all of a column block's lines share one L1
 * set, so a short pass keeps them for the second row block and the next column block: 16 took the Linear(1024,10)
 * weight gradient from 1.05x to 1.8x (1 thread) / 1.5x (2 threads) the blocked GEMM's speed; 128 and 8 were slower.
 */
const KM: i32 = 16;
/** Columns of op(B) packed at a time by smallK (SMALL_K*NK floats = 64 KB at most). */
const NK: i32 = 1024;
/** Bytes before the packed operand: a 4-float temporary for partial vectors. */
const TMP: usize = 64;

/** Bytes of per-thread scratch the skinny kernels need (any shape; 0 when none applies). */
export function skinnyScratchBytes(m: i32, n: i32, k: i32): i32 {
  let floats = 0;
  if (n <= SMALL_N) floats = max(floats, min(k, KN) * roundUp(n, 4));
  if (m <= SMALL_M) floats = max(floats, min(k, KM) * 4);
  if (k <= SMALL_K) floats = max(floats, k * roundUp(min(n, NK), 4));
  return <i32>TMP + (floats << 2);
}

// -- the register tile -----------------------------------------------------------------------------------------

/** C (+)= alpha*x for the first `lanes` (<= 4: a whole vector; <= 0: none) floats at p; partial ones via tmp. */
// @ts-ignore: decorator
@inline
function put(p: usize, x: v128, va: v128, acc: bool, lanes: i32, tmp: usize): void {
  if (lanes >= 4) v128.store(p, acc ? madd(x, va, v128.load(p)) : f32x4.mul(x, va));
  else if (lanes > 0) putPartial(p, x, va, acc, lanes, tmp);
}

/** The last vector of a row, out of line: the tiles stay small. */
function putPartial(p: usize, x: v128, va: v128, acc: bool, lanes: i32, tmp: usize): void {
  v128.store(tmp, f32x4.mul(x, va));
  for (let j = 0; j < lanes; j++) {
    const t = load<f32>(at(tmp, j));
    store<f32>(at(p, j), acc ? load<f32>(at(p, j)) + t : t);
  }
}

// @ts-ignore: decorator
@inline
function putRow(NV: i32, p: usize, x0: v128, x1: v128, x2: v128, va: v128, acc: bool, cols: i32, tmp: usize): void {
  put(p, x0, va, acc, cols, tmp);
  if (NV > 1) put(p + 16, x1, va, acc, cols - 4, tmp);
  if (NV > 2) put(p + 32, x2, va, acc, cols - 8, tmp);
}

/**
 * The R x 4NV tile at c (row stride ldc bytes; R and NV constants where inlined): kc steps, each adding
 * splat(f32 at pa + r*ar) * (v128 at pb + 16v), then pa += ak, pb += bk. Stores the first `cols` columns.
 */
// @ts-ignore: decorator
@inline
function tile(
  R: i32, NV: i32, kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize,
  c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0), c32 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0), c42 = f32x4.splat(0);
  const ar2 = 2 * ar;
  const ar3 = 3 * ar;
  const ar4 = 4 * ar;
  for (let kk = 0; kk < kc; kk++) {
    const b0 = v128.load(pb);
    const b1 = NV > 1 ? v128.load(pb, 16) : f32x4.splat(0);
    const b2 = NV > 2 ? v128.load(pb, 32) : f32x4.splat(0);
    let s = v128.load32_splat(pa);
    c00 = madd(s, b0, c00);
    if (NV > 1) c01 = madd(s, b1, c01);
    if (NV > 2) c02 = madd(s, b2, c02);
    if (R > 1) {
      s = v128.load32_splat(pa + ar);
      c10 = madd(s, b0, c10);
      if (NV > 1) c11 = madd(s, b1, c11);
      if (NV > 2) c12 = madd(s, b2, c12);
    }
    if (R > 2) {
      s = v128.load32_splat(pa + ar2);
      c20 = madd(s, b0, c20);
      if (NV > 1) c21 = madd(s, b1, c21);
      if (NV > 2) c22 = madd(s, b2, c22);
    }
    if (R > 3) {
      s = v128.load32_splat(pa + ar3);
      c30 = madd(s, b0, c30);
      if (NV > 1) c31 = madd(s, b1, c31);
      if (NV > 2) c32 = madd(s, b2, c32);
    }
    if (R > 4) {
      s = v128.load32_splat(pa + ar4);
      c40 = madd(s, b0, c40);
      if (NV > 1) c41 = madd(s, b1, c41);
      if (NV > 2) c42 = madd(s, b2, c42);
    }
    pa += ak;
    pb += bk;
  }
  putRow(NV, c, c00, c01, c02, va, acc, cols, tmp);
  if (R > 1) putRow(NV, c + ldc, c10, c11, c12, va, acc, cols, tmp);
  if (R > 2) putRow(NV, c + 2 * ldc, c20, c21, c22, va, acc, cols, tmp);
  if (R > 3) putRow(NV, c + 3 * ldc, c30, c31, c32, va, acc, cols, tmp);
  if (R > 4) putRow(NV, c + 4 * ldc, c40, c41, c42, va, acc, cols, tmp);
}

// The drivers call these instances of `tile`, each with literal R and NV: a constant passed on through another
// inlined function reached `tile` as a variable (binaryen merged the copies; every `if (NV > 1)` became a branch in
// the loop). Instances with several callers stay functions of their own (binaryen inlines single callers): a wasm
// function with many tiles inlined is compiled by V8's mid-tier register allocator, which spilled the accumulators.

function tile3x3(
  kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize, c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  tile(3, 3, kc, pa, ar, ak, pb, bk, c, ldc, cols, va, acc, tmp);
}
function tile1x3(
  kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize, c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  tile(1, 3, kc, pa, ar, ak, pb, bk, c, ldc, cols, va, acc, tmp);
}
function tile5x2(
  kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize, c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  tile(5, 2, kc, pa, ar, ak, pb, bk, c, ldc, cols, va, acc, tmp);
}
function tile1x2(
  kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize, c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  tile(1, 2, kc, pa, ar, ak, pb, bk, c, ldc, cols, va, acc, tmp);
}
function tile5x1(
  kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize, c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  tile(5, 1, kc, pa, ar, ak, pb, bk, c, ldc, cols, va, acc, tmp);
}
function tile1x1(
  kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize, c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  tile(1, 1, kc, pa, ar, ak, pb, bk, c, ldc, cols, va, acc, tmp);
}

/**
 * Rows [0, m) of C against the 3, 2 or 1 vectors at pb: tiles of 3 (resp. 5) rows, then 1 row at a time. Three
 * near copies on purpose: each calls its tiles with literal sizes, which is what keeps a tile's accumulators in
 * registers (a size passed on through an inlined helper was not folded and the loop branched on it).
 */
function rowsOf3(
  m: i32, kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize,
  c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  let i = 0;
  for (; i + 3 <= m; i += 3) {
    tile3x3(kc, pa + <usize>i * ar, ar, ak, pb, bk, c + <usize>i * ldc, ldc, cols, va, acc, tmp);
  }
  for (; i < m; i++) tile1x3(kc, pa + <usize>i * ar, ar, ak, pb, bk, c + <usize>i * ldc, ldc, cols, va, acc, tmp);
}
function rowsOf2(
  m: i32, kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize,
  c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  let i = 0;
  for (; i + 5 <= m; i += 5) {
    tile5x2(kc, pa + <usize>i * ar, ar, ak, pb, bk, c + <usize>i * ldc, ldc, cols, va, acc, tmp);
  }
  for (; i < m; i++) tile1x2(kc, pa + <usize>i * ar, ar, ak, pb, bk, c + <usize>i * ldc, ldc, cols, va, acc, tmp);
}
function rowsOf1(
  m: i32, kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize,
  c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  let i = 0;
  for (; i + 5 <= m; i += 5) {
    tile5x1(kc, pa + <usize>i * ar, ar, ak, pb, bk, c + <usize>i * ldc, ldc, cols, va, acc, tmp);
  }
  for (; i < m; i++) tile1x1(kc, pa + <usize>i * ar, ar, ak, pb, bk, c + <usize>i * ldc, ldc, cols, va, acc, tmp);
}

/** Columns [0, cols) of rows [0, m) of C: blocks of 2 vectors, each against all rows, then the 1 left. */
function colsThenRows(
  m: i32, kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize,
  c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  let j = 0;
  for (; j + 4 < cols; j += 8) {
    const o = <usize>j << 2;
    rowsOf2(m, kc, pa, ar, ak, pb + o, bk, c + o, ldc, cols - j, va, acc, tmp);
  }
  const o = <usize>j << 2;
  if (j < cols) rowsOf1(m, kc, pa, ar, ak, pb + o, bk, c + o, ldc, cols - j, va, acc, tmp);
}

/**
 * Rows [0, m) of C, each block of 5 rows (then each row) across all columns [0, cols): C is written in order. Its
 * tiles are called directly: written as colsThenRows per block of 5 rows it measured 1.2x slower (smallK).
 */
function rowsThenCols(
  m: i32, kc: i32, pa: usize, ar: usize, ak: usize, pb: usize, bk: usize,
  c: usize, ldc: usize, cols: i32, va: v128, acc: bool, tmp: usize,
): void {
  let i = 0;
  for (; i + 5 <= m; i += 5) {
    const a = pa + <usize>i * ar;
    const d = c + <usize>i * ldc;
    let j = 0;
    for (; j + 4 < cols; j += 8) {
      const o = <usize>j << 2;
      tile5x2(kc, a, ar, ak, pb + o, bk, d + o, ldc, cols - j, va, acc, tmp);
    }
    const o = <usize>j << 2;
    if (j < cols) tile5x1(kc, a, ar, ak, pb + o, bk, d + o, ldc, cols - j, va, acc, tmp);
  }
  for (; i < m; i++) {
    const a = pa + <usize>i * ar;
    const d = c + <usize>i * ldc;
    let j = 0;
    for (; j + 4 < cols; j += 8) {
      const o = <usize>j << 2;
      tile1x2(kc, a, ar, ak, pb + o, bk, d + o, ldc, cols - j, va, acc, tmp);
    }
    const o = <usize>j << 2;
    if (j < cols) tile1x1(kc, a, ar, ak, pb + o, bk, d + o, ldc, cols - j, va, acc, tmp);
  }
}

// -- packing ---------------------------------------------------------------------------------------------------

/** dst[kk, j] (row stride w floats) = op(B)[k0 + kk, j0 + j] for kk < kc, j < nc; zero for nc <= j < w. */
function packB(transB: bool, b: usize, ldb: i32, k0: i32, kc: i32, j0: i32, nc: i32, w: i32, dst: usize): void {
  if (transB) {
    // B stored [N, K]: read each stored row once, write it as a column.
    for (let j = 0; j < nc; j++) {
      const s = at(b, (j0 + j) * ldb + k0);
      for (let kk = 0; kk < kc; kk++) store<f32>(at(dst, kk * w + j), load<f32>(at(s, kk)));
    }
  } else {
    for (let kk = 0; kk < kc; kk++) memory.copy(at(dst, kk * w), at(b, (k0 + kk) * ldb + j0), <usize>nc << 2);
  }
  if (nc < w) {
    for (let kk = 0; kk < kc; kk++) memory.fill(at(dst, kk * w + nc), 0, <usize>(w - nc) << 2);
  }
}

// -- the three kernels (one thread's share; m, n, k >= 1) ------------------------------------------------------

/** Byte strides of op(A): between rows i (ar) and between steps of k (ak). */
// @ts-ignore: decorator
@inline
function strideRows(transA: bool, lda: i32): usize {
  return transA ? 4 : <usize>lda << 2;
}
// @ts-ignore: decorator
@inline
function strideK(transA: bool, lda: i32): usize {
  return transA ? <usize>lda << 2 : 4;
}

/** n <= SMALL_N: op(B) packed KN rows of k at a time as [kc, roundUp(n, 4)]; all rows of A stream past it. */
function smallN(
  transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool, ws: usize,
): void {
  const w = roundUp(n, 4);
  const pb = ws + TMP;
  const ar = strideRows(transA, lda);
  const ak = strideK(transA, lda);
  const bk = <usize>w << 2;
  const ld = <usize>ldc << 2;
  const va = f32x4.splat(alpha);
  for (let k0 = 0; k0 < k; k0 += KN) {
    const kc = min(KN, k - k0);
    packB(transB, b, ldb, k0, kc, 0, n, w, pb);
    const pa = a + <usize>k0 * ak;
    const acc = k0 > 0 || accumulate;
    if (w == 12) rowsOf3(m, kc, pa, ar, ak, pb, bk, c, ld, n, va, acc, ws);
    else if (w == 8) rowsOf2(m, kc, pa, ar, ak, pb, bk, c, ld, n, va, acc, ws);
    else rowsOf1(m, kc, pa, ar, ak, pb, bk, c, ld, n, va, acc, ws);
  }
}

/** k <= SMALL_K: op(B) packed NK columns at a time as [k, roundUp(nc, 4)]; each C element is stored once. */
function smallK(
  transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool, ws: usize,
): void {
  const pb = ws + TMP;
  const ar = strideRows(transA, lda);
  const ak = strideK(transA, lda);
  const ld = <usize>ldc << 2;
  const va = f32x4.splat(alpha);
  for (let j0 = 0; j0 < n; j0 += NK) {
    const nc = min(NK, n - j0);
    const w = roundUp(nc, 4);
    packB(transB, b, ldb, 0, k, j0, nc, w, pb);
    rowsThenCols(m, k, a, ar, ak, pb, <usize>w << 2, at(c, j0), ld, nc, va, accumulate, ws);
  }
}

/**
 * m <= SMALL_M, B row-major: columns [j0, j1) of C (j0 a multiple of 4), KM rows of k at a time, B read in place.
 * A vector that reaches past n (only the last one of C) reads a zero-padded copy of its columns instead.
 */
function smallM(
  transA: bool, m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
  c: usize, ldc: i32, accumulate: bool, j0: i32, j1: i32, ws: usize,
): void {
  const ar = strideRows(transA, lda);
  const ak = strideK(transA, lda);
  const bk = <usize>ldb << 2;
  const ld = <usize>ldc << 2;
  const va = f32x4.splat(alpha);
  const jFull = min(j1, n & ~3);
  const tail = ws + TMP;
  for (let k0 = 0; k0 < k; k0 += KM) {
    const kc = min(KM, k - k0);
    const pa = a + <usize>k0 * ak;
    const acc = k0 > 0 || accumulate;
    if (jFull > j0) {
      colsThenRows(m, kc, pa, ar, ak, at(b, k0 * ldb + j0), bk, at(c, j0), ld, jFull - j0, va, acc, ws);
    }
    if (j1 > jFull) {
      packB(false, b, ldb, k0, kc, jFull, j1 - jFull, 4, tail);
      rowsOf1(m, kc, pa, ar, ak, tail, 16, at(c, jFull), ld, j1 - jFull, va, acc, ws);
    }
  }
}

/**
 * Thread `tid` of `nth` computes its share of C with a skinny kernel and returns true, or returns false (having
 * done nothing) when the shape is not skinny. Dispatch, first match:
 *   n <= 12                         smallN, rows split in blocks of 4
 *   m <= 12 and B not transposed    smallM, columns split in vectors of 4
 *   k <= 16                         smallK, rows split in blocks of 4
 * Measured (`node build/bench/gemm.js 0 0 skinny`, 2-core VM under load, medians, alternating with gemmBlocked), on
 * Linear(1024, 10) over 6400 rows, 1 / 2 threads: forward (smallN) 1.95x / 1.92x faster, input gradient (smallK)
 * 2.0x / 1.95x, weight gradient (smallM) 1.8x / 1.5x.
 */
export function gemmSkinny(
  tid: i32, nth: i32, ws: usize, transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool,
): bool {
  if (m <= 0 || n <= 0 || k <= 0) return false;
  const byRows = n <= SMALL_N || (k <= SMALL_K && !(m <= SMALL_M && !transB));
  if (byRows) {
    const i0 = shareStart(m, 4, tid, nth);
    const i1 = shareStart(m, 4, tid + 1, nth);
    if (i1 <= i0) return true;
    const aOff = transA ? at(a, i0) : at(a, i0 * lda);
    const cOff = at(c, i0 * ldc);
    if (n <= SMALL_N) smallN(transA, transB, i1 - i0, n, k, alpha, aOff, lda, b, ldb, cOff, ldc, accumulate, ws);
    else smallK(transA, transB, i1 - i0, n, k, alpha, aOff, lda, b, ldb, cOff, ldc, accumulate, ws);
    return true;
  }
  if (m <= SMALL_M && !transB) {
    const j0 = shareStart(n, 4, tid, nth);
    const j1 = shareStart(n, 4, tid + 1, nth);
    if (j1 > j0) smallM(transA, m, n, k, alpha, a, lda, b, ldb, c, ldc, accumulate, j0, j1, ws);
    return true;
  }
  return false;
}
