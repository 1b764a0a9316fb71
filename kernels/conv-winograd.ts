// 5x5 convolution forward (stride 1, no padding) by Winograd's minimal filtering F(2x2, 5x5): each 2x2 output tile
// of channel o comes from the 6x6 input tile d_c at (2*th, 2*tw) of every channel c as
//   Y = A^T [ sum_c (G w_oc G^T) .* (B^T d_c B) ] A
// with the interpolation points 0, 1, -1, 2, -2, inf:
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G   = [1/4 0 0 0 0; -1/6 -1/6 -1/6 -1/6 -1/6; -1/6 1/6 -1/6 1/6 -1/6;
//          1/24 1/12 1/6 1/3 2/3; 1/24 -1/12 1/6 -1/3 2/3; 0 0 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1]
// The sum over c is 36 GEMMs (one per tile element xi): M_xi[outC, tiles] = U_xi[outC, inC] . V_xi[inC, tiles], so
// a tile costs 36 multiply-adds per (o, c) instead of 100: the GEMMs are 2.8x smaller than the direct
// convolution's, and the transforms are adds and small multiples. Float32 error: about 1e-6 relative (10x the
// direct sum's; measured against float64 on the seed conv2). U is built in float64 and rounded once.
// Vectorised over 4 neighbouring tiles of a tile row (lanes), so outW must be a multiple of 8. Threads split the
// batch; each thread transforms a chunk of images, runs the 36 GEMMs on it (a 4x8 register tile, V's columns
// packed as its B panels) and transforms the products back into the output.
import { MR, NR, at } from './gemm';
import { madd, roundUp, shareStart } from './simd';

/** Tiles per chunk (GEMM columns): V and M of a chunk stay in L2. */
const CHUNK_TILES: i32 = 32;
/**
 * Floats between xi planes of M beyond the plane itself: a whole number of 4 KiB would put the 36 values of one
 * output transform in one L1 set (12 ways), evicting each other on every tile group.
 */
const PLANE_SKEW: i32 = 16;

/** Row i of G applied to five values (the matrix above, written out: the modules carry no data segments). */
// @ts-ignore: decorator
@inline
function gRow(i: i32, z0: f64, z1: f64, z2: f64, z3: f64, z4: f64): f64 {
  if (i == 0) return z0 * 0.25;
  if (i == 1) return -(z0 + z1 + z2 + z3 + z4) / 6;
  if (i == 2) return -(z0 - z1 + z2 - z3 + z4) / 6;
  if (i == 3) return z0 / 24 + z1 / 12 + z2 / 6 + z3 / 3 + (2 * z4) / 3;
  if (i == 4) return z0 / 24 - z1 / 12 + z2 / 6 - z3 / 3 + (2 * z4) / 3;
  return z4;
}

// @ts-ignore: decorator
@inline
function chunkImages(tilesPerImage: i32): i32 {
  return max(1, CHUNK_TILES / tilesPerImage);
}

/** Per-thread scratch: [U | V chunk | M chunk | 36-vector transform scratch (also G and T of the weights)]. */
export function conv2dWinogradWorkspace(inC: i32, outC: i32, outH: i32, outW: i32): i32 {
  const tiles = (outH >> 1) * (outW >> 1);
  const n = roundUp(chunkImages(tiles) * tiles, NR);
  return (36 * roundUp(outC, MR) * inC + 36 * inC * n + 36 * (outC * n + PLANE_SKEW) + 36 * 4) << 2;
}

/**
 * U[xi][o/4][c][o%4] = (G w_oc G^T)[xi] for the channels o in [o0, o1): per xi, the GEMM's A operand packed in
 * strips of 4 output channels (zero past outC). In float64 through T = w G^T (5x6, 30 doubles of scratch at t),
 * rounded once.
 */
function transformWeights(w: usize, outC: i32, inC: i32, o0: i32, o1: i32, u: usize, t: usize): void {
  const quads = roundUp(outC, MR) >> 2;
  for (let o = o0; o < o1; o++) {
    for (let c = 0; c < inC; c++) {
      const wp = at(w, (o * inC + c) * 25);
      for (let k = 0; k < 5; k++) {
        const r = at(wp, k * 5);
        const z0 = o < outC ? <f64>load<f32>(r) : 0;
        const z1 = o < outC ? <f64>load<f32>(r, 4) : 0;
        const z2 = o < outC ? <f64>load<f32>(r, 8) : 0;
        const z3 = o < outC ? <f64>load<f32>(r, 12) : 0;
        const z4 = o < outC ? <f64>load<f32>(r, 16) : 0;
        const tk = t + <usize>(k * 6) * 8;
        store<f64>(tk, gRow(0, z0, z1, z2, z3, z4));
        store<f64>(tk, gRow(1, z0, z1, z2, z3, z4), 8);
        store<f64>(tk, gRow(2, z0, z1, z2, z3, z4), 16);
        store<f64>(tk, gRow(3, z0, z1, z2, z3, z4), 24);
        store<f64>(tk, gRow(4, z0, z1, z2, z3, z4), 32);
        store<f64>(tk, gRow(5, z0, z1, z2, z3, z4), 40);
      }
      const dst = at(u, ((o >> 2) * inC + c) * MR + (o & 3));
      const xiStride = <usize>(quads * inC * MR) << 2;
      for (let j = 0; j < 6; j++) {
        const tj = t + <usize>j * 8;
        const z0 = load<f64>(tj);
        const z1 = load<f64>(tj, 48);
        const z2 = load<f64>(tj, 96);
        const z3 = load<f64>(tj, 144);
        const z4 = load<f64>(tj, 192);
        store<f32>(dst + <usize>j * xiStride, <f32>gRow(0, z0, z1, z2, z3, z4));
        store<f32>(dst + <usize>(6 + j) * xiStride, <f32>gRow(1, z0, z1, z2, z3, z4));
        store<f32>(dst + <usize>(12 + j) * xiStride, <f32>gRow(2, z0, z1, z2, z3, z4));
        store<f32>(dst + <usize>(18 + j) * xiStride, <f32>gRow(3, z0, z1, z2, z3, z4));
        store<f32>(dst + <usize>(24 + j) * xiStride, <f32>gRow(4, z0, z1, z2, z3, z4));
        store<f32>(dst + <usize>(30 + j) * xiStride, <f32>gRow(5, z0, z1, z2, z3, z4));
      }
    }
  }
}

// B^T applied to six vectors z0..z5 (rows of B^T above); `k` selects the output row.
// @ts-ignore: decorator
@inline
function bt(k: i32, z0: v128, z1: v128, z2: v128, z3: v128, z4: v128, z5: v128): v128 {
  const four = f32x4.splat(4);
  const two = f32x4.splat(2);
  const minus5 = f32x4.splat(-5);
  if (k == 0) return madd(four, z0, madd(minus5, z2, z4));
  if (k == 1) return f32x4.sub(f32x4.add(z3, z4), f32x4.mul(four, f32x4.add(z1, z2)));
  if (k == 2) return madd(four, f32x4.sub(z1, z2), f32x4.sub(z4, z3));
  if (k == 3) return madd(two, f32x4.sub(z3, z1), f32x4.sub(z4, z2));
  if (k == 4) return f32x4.sub(f32x4.sub(z4, z2), f32x4.mul(two, f32x4.sub(z3, z1)));
  return madd(four, z1, madd(minus5, z3, z5));
}

/**
 * V[xi][n/8][c][n%8 ..] = (B^T d B)[xi] for the 4 tiles n0..n0+3 (lanes) whose 6x6 inputs start at row r0 and
 * columns col0 + 2*lane of plane xc (row stride inW). `tmp` holds 36 vectors.
 */
function transformInput(xc: usize, inW: i32, r0: i32, col0: i32, v: usize, stripStride: usize, tmp: usize): void {
  // rows: e[i][j] = (d_i B)[j] = sum_k B^T[j][k] d[i][k]; even/odd columns of 8 loaded floats give lanes 2*l + j
  for (let i = 0; i < 6; i++) {
    const p = at(xc, (r0 + i) * inW + col0);
    const a0 = v128.load(p);
    const a1 = v128.load(p, 16);
    const b0 = v128.load(p, 8);
    const b1 = v128.load(p, 24);
    const c0 = v128.load(p, 16);
    const c1 = v128.load(p, 32);
    const z0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
    const z1 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
    const z2 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
    const z3 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
    const z4 = v128.shuffle<f32>(c0, c1, 0, 2, 4, 6);
    const z5 = v128.shuffle<f32>(c0, c1, 1, 3, 5, 7);
    const row = tmp + <usize>(i * 6) * 16;
    v128.store(row, bt(0, z0, z1, z2, z3, z4, z5));
    v128.store(row, bt(1, z0, z1, z2, z3, z4, z5), 16);
    v128.store(row, bt(2, z0, z1, z2, z3, z4, z5), 32);
    v128.store(row, bt(3, z0, z1, z2, z3, z4, z5), 48);
    v128.store(row, bt(4, z0, z1, z2, z3, z4, z5), 64);
    v128.store(row, bt(5, z0, z1, z2, z3, z4, z5), 80);
  }
  // columns: V[i][j] = sum_k B^T[i][k] e[k][j]
  for (let j = 0; j < 6; j++) {
    const col = tmp + <usize>j * 16;
    const z0 = v128.load(col);
    const z1 = v128.load(col, 96);
    const z2 = v128.load(col, 192);
    const z3 = v128.load(col, 288);
    const z4 = v128.load(col, 384);
    const z5 = v128.load(col, 480);
    v128.store(v + <usize>j * stripStride, bt(0, z0, z1, z2, z3, z4, z5));
    v128.store(v + <usize>(6 + j) * stripStride, bt(1, z0, z1, z2, z3, z4, z5));
    v128.store(v + <usize>(12 + j) * stripStride, bt(2, z0, z1, z2, z3, z4, z5));
    v128.store(v + <usize>(18 + j) * stripStride, bt(3, z0, z1, z2, z3, z4, z5));
    v128.store(v + <usize>(24 + j) * stripStride, bt(4, z0, z1, z2, z3, z4, z5));
    v128.store(v + <usize>(30 + j) * stripStride, bt(5, z0, z1, z2, z3, z4, z5));
  }
}

// A^T rows applied to six vectors: row 0 sums m0..m4, row 1 is m1 - m2 + 2(m3 - m4) + m5.
// @ts-ignore: decorator
@inline
function at0(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.add(m0, m1), f32x4.add(m2, m3)), m4);
}

// @ts-ignore: decorator
@inline
function at1(m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): v128 {
  return f32x4.add(madd(f32x4.splat(2), f32x4.sub(m3, m4), f32x4.sub(m1, m2)), m5);
}

/** Row 0 of A^T over column j of M (xi = i*6 + j at p + i*6*xiStride bytes): M[0][j] + ... + M[4][j]. */
// @ts-ignore: decorator
@inline
function col0(p: usize, s: usize): v128 {
  return at0(v128.load(p), v128.load(p + 6 * s), v128.load(p + 12 * s), v128.load(p + 18 * s), v128.load(p + 24 * s));
}

/** Row 1 of A^T over column j of M. */
// @ts-ignore: decorator
@inline
function col1(p: usize, s: usize): v128 {
  const m1 = v128.load(p + 6 * s);
  const m2 = v128.load(p + 12 * s);
  return at1(m1, m2, v128.load(p + 18 * s), v128.load(p + 24 * s), v128.load(p + 30 * s));
}

/**
 * The 2x2 outputs of 4 tiles (lanes) of channel o: Y = A^T M A + bias, M[xi] at m + xi*s bytes; written to out
 * rows `dst` and `dst + ld` bytes, 8 floats each (the tiles' two columns interleaved). Straight-line code.
 */
function transformOutput(m: usize, s: usize, bias: f32, dst: usize, ld: usize): void {
  // r_a[j] = sum_i A^T[a][i] M[i][j], then y_ab = sum_j A^T[b][j] r_a[j]
  const r00 = col0(m, s), r01 = col0(m + s, s), r02 = col0(m + 2 * s, s);
  const r03 = col0(m + 3 * s, s), r04 = col0(m + 4 * s, s), r05 = col0(m + 5 * s, s);
  const bv = f32x4.splat(bias);
  const y00 = f32x4.add(at0(r00, r01, r02, r03, r04), bv);
  const y01 = f32x4.add(at1(r01, r02, r03, r04, r05), bv);
  v128.store(dst, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5));
  v128.store(dst, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), 16);
  const r10 = col1(m, s), r11 = col1(m + s, s), r12 = col1(m + 2 * s, s);
  const r13 = col1(m + 3 * s, s), r14 = col1(m + 4 * s, s), r15 = col1(m + 5 * s, s);
  const y10 = f32x4.add(at0(r10, r11, r12, r13, r14), bv);
  const y11 = f32x4.add(at1(r11, r12, r13, r14, r15), bv);
  v128.store(dst + ld, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5));
  v128.store(dst + ld, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), 16);
}

/**
 * M[o0 .. o0+4)[n] = sum_c U_xi[o][c] V_xi[c][n] for the `strips` strips of 8 tiles (rows past outC are computed
 * from U's zero padding and dropped: `mr` rows are stored). The 4x8 register tile of gemm.ts's micro-kernel,
 * looped over the strips here: with K = inC (12 for the seed conv2) a call per tile cost as much as its FMAs.
 */
function gemmStrips(k: i32, pa: usize, pb: usize, strips: i32, mrow: usize, ld: usize, mr: i32): void {
  for (let st = 0; st < strips; st++) {
    let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    let a = pa;
    let b = pb + <usize>(st * k * NR) * 4;
    let kk = 0;
    for (; kk + 2 <= k; kk += 2) {
      let b0 = v128.load(b);
      let b1 = v128.load(b, 16);
      let x = v128.load32_splat(a);
      c00 = madd(x, b0, c00);
      c01 = madd(x, b1, c01);
      x = v128.load32_splat(a, 4);
      c10 = madd(x, b0, c10);
      c11 = madd(x, b1, c11);
      x = v128.load32_splat(a, 8);
      c20 = madd(x, b0, c20);
      c21 = madd(x, b1, c21);
      x = v128.load32_splat(a, 12);
      c30 = madd(x, b0, c30);
      c31 = madd(x, b1, c31);
      b0 = v128.load(b, 32);
      b1 = v128.load(b, 48);
      x = v128.load32_splat(a, 16);
      c00 = madd(x, b0, c00);
      c01 = madd(x, b1, c01);
      x = v128.load32_splat(a, 20);
      c10 = madd(x, b0, c10);
      c11 = madd(x, b1, c11);
      x = v128.load32_splat(a, 24);
      c20 = madd(x, b0, c20);
      c21 = madd(x, b1, c21);
      x = v128.load32_splat(a, 28);
      c30 = madd(x, b0, c30);
      c31 = madd(x, b1, c31);
      a += 32;
      b += 64;
    }
    if (kk < k) {
      const b0 = v128.load(b);
      const b1 = v128.load(b, 16);
      let x = v128.load32_splat(a);
      c00 = madd(x, b0, c00);
      c01 = madd(x, b1, c01);
      x = v128.load32_splat(a, 4);
      c10 = madd(x, b0, c10);
      c11 = madd(x, b1, c11);
      x = v128.load32_splat(a, 8);
      c20 = madd(x, b0, c20);
      c21 = madd(x, b1, c21);
      x = v128.load32_splat(a, 12);
      c30 = madd(x, b0, c30);
      c31 = madd(x, b1, c31);
    }
    const o = mrow + <usize>(st * NR) * 4;
    v128.store(o, c00);
    v128.store(o, c01, 16);
    if (mr > 1) {
      v128.store(o + ld, c10);
      v128.store(o + ld, c11, 16);
    }
    if (mr > 2) {
      v128.store(o + 2 * ld, c20);
      v128.store(o + 2 * ld, c21, 16);
    }
    if (mr > 3) {
      v128.store(o + 3 * ld, c30);
      v128.store(o + 3 * ld, c31, 16);
    }
  }
}

export function conv2dForwardWinograd(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, x: usize, w: usize, bias: usize, out: usize,
  batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, outH: i32, outW: i32,
): void {
  const b0 = shareStart(batch, 1, tid, nth);
  const b1 = shareStart(batch, 1, tid + 1, nth);
  if (b1 <= b0) return;
  const tilesH = outH >> 1;
  const tilesW = outW >> 1;
  const tiles = tilesH * tilesW;
  const imgs = chunkImages(tiles);
  const nPad = roundUp(imgs * tiles, NR);
  const strips = nPad / NR;
  const oPad = roundUp(outC, MR);
  const u = wsBase + <usize>tid * wsStride;
  const v = at(u, 36 * oPad * inC);
  const mm = at(v, 36 * inC * nPad);
  const tmp = at(mm, 36 * (outC * nPad + PLANE_SKEW));
  transformWeights(w, outC, inC, 0, roundUp(outC, MR), u, tmp);
  const plane = inH * inW;
  const stripStride = <usize>(strips * inC * NR) << 2; // bytes between xi planes of V
  const xiStride = <usize>(outC * nPad + PLANE_SKEW) << 2; // bytes between xi planes of M
  const ld = <usize>outW << 2;
  for (let c0 = b0; c0 < b1; c0 += imgs) {
    const c1 = min(b1, c0 + imgs);
    const n = (c1 - c0) * tiles;
    // V: every tile of the chunk, 4 at a time along a tile row
    for (let b = c0; b < c1; b++) {
      for (let c = 0; c < inC; c++) {
        const xc = at(x, (b * inC + c) * plane);
        for (let th = 0; th < tilesH; th++) {
          for (let tw = 0; tw < tilesW; tw += 4) {
            const t = (b - c0) * tiles + th * tilesW + tw;
            const dst = at(v, ((t / NR) * inC + c) * NR + (t & (NR - 1)));
            transformInput(xc, inW, 2 * th, 2 * tw, dst, stripStride, tmp);
          }
        }
      }
    }
    // M_xi = U_xi . V_xi
    for (let xi = 0; xi < 36; xi++) {
      const uxi = at(u, xi * oPad * inC);
      const vxi = v + <usize>xi * stripStride;
      const mxi = mm + <usize>xi * xiStride;
      const used = (n + NR - 1) / NR;
      for (let o0 = 0; o0 < outC; o0 += MR) {
        gemmStrips(inC, at(uxi, o0 * inC), vxi, used, at(mxi, o0 * nPad), <usize>nPad << 2, min(MR, outC - o0));
      }
    }
    // Y = A^T M A + bias into the output
    for (let b = c0; b < c1; b++) {
      for (let o = 0; o < outC; o++) {
        const bo: f32 = bias != 0 ? load<f32>(at(bias, o)) : 0;
        const ob = at(out, (b * outC + o) * outH * outW);
        for (let th = 0; th < tilesH; th++) {
          for (let tw = 0; tw < tilesW; tw += 4) {
            const t = (b - c0) * tiles + th * tilesW + tw;
            transformOutput(at(mm, o * nPad + t), xiStride, bo, at(ob, 2 * th * outW + 2 * tw), ld);
          }
        }
      }
    }
  }
}
