// 2-D convolution forward (cross-correlation, groups=1, zero padding) on NCHW, CKK = inC*kH*kW:
//   out[b, o, oh, ow] = bias[o] + sum_{c,kh,kw} W[o, c, kh, kw] * x[b, c, oh*sH - pH + kh, ow*sW - pW + kw]
// as a GEMM out_b[outC, P] = W[outC, CKK] . col_b[CKK, P] with implicit im2col: a 4x8 register tile covers 4 output
// channels x 8 consecutive positions of one output row, and with unit column stride those 8 positions read 8
// consecutive floats of x for every tap (c, kh, kw). So the micro-kernel loads B straight from the image through a
// table of tap offsets, and nothing is packed or copied per image. Strips that touch the padding, run past the end
// of a row or have a column stride go through a small gathered panel (the same micro-kernel, identity offsets).
// W is packed once per call into strips of 4 channels (CKK-major); bias initialises the accumulators.
// Threads split the output rows of the whole batch (b*outH + oh), so batch 1 uses every thread too.
import { MR, NR, at } from './gemm';
import { madd, roundUp, shareStart } from './simd';

/** Floats of gathered panels per chunk of output rows (at least one row's worth): a tile that stays in L2. */
const GATHER_FLOATS: i32 = 65536;

// Scratch layout (bytes from ws): [tile 32 floats | packed W | tap offsets | identity offsets | gathered panels].

// @ts-ignore: decorator
@inline
function packedWFloats(outC: i32, ckk: i32): i32 {
  return roundUp(roundUp(outC, MR) * ckk, 16);
}

// @ts-ignore: decorator
@inline
function gatherFloats(ckk: i32, outW: i32): i32 {
  return max(GATHER_FLOATS, roundUp(outW, NR) * ckk);
}

/** Per-thread scratch bytes of conv2dForward. */
export function conv2dForwardWorkspace(inC: i32, outC: i32, kH: i32, kW: i32, outW: i32): i32 {
  const ckk = inC * kH * kW;
  return (32 + packedWFloats(outC, ckk) + 2 * roundUp(ckk, 16) + gatherFloats(ckk, outW)) << 2;
}

/**
 * tile[i][j] = bias_i + sum_k pa[k*4 + i] * base[offs[k] + j] for i < 4, j < 8, written to out rows i < mr (row
 * stride ld bytes), columns j < nr. `bias` 0: none.
 */
function micro(
  ckk: i32, pa: usize, base: usize, offs: usize, bias: usize, mr: i32, nr: i32, out: usize, ld: usize, tile: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (bias != 0) {
    c00 = v128.load32_splat(bias);
    c01 = c00;
    if (mr > 1) c10 = v128.load32_splat(bias, 4);
    c11 = c10;
    if (mr > 2) c20 = v128.load32_splat(bias, 8);
    c21 = c20;
    if (mr > 3) c30 = v128.load32_splat(bias, 12);
    c31 = c30;
  }
  for (let k = 0; k < ckk; k++) {
    const pb = base + (<usize>load<i32>(at(offs, k)) << 2);
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
  }
  if (mr == MR && nr == NR) {
    v128.store(out, c00);
    v128.store(out, c01, 16);
    v128.store(out + ld, c10);
    v128.store(out + ld, c11, 16);
    v128.store(out + 2 * ld, c20);
    v128.store(out + 2 * ld, c21, 16);
    v128.store(out + 3 * ld, c30);
    v128.store(out + 3 * ld, c31, 16);
    return;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) store<f32>(out + <usize>i * ld + (<usize>j << 2), load<f32>(at(tile, i * NR + j)));
  }
}

/** packed[s][k][r] = W[4s + r, k] (0 past outC): strips of 4 output channels, CKK-major. */
function packW(w: usize, outC: i32, ckk: i32, dst: usize): void {
  for (let o0 = 0; o0 < outC; o0 += MR) {
    const strip = at(dst, o0 * ckk);
    for (let k = 0; k < ckk; k++) {
      for (let r = 0; r < MR; r++) {
        store<f32>(at(strip, k * MR + r), o0 + r < outC ? load<f32>(at(w, (o0 + r) * ckk + k)) : 0);
      }
    }
  }
}

/** panel[k*8 + j] = x_b at tap k of position (oh, ow0 + j), 0 in the padding and past the row's end. */
function gather(
  xb: usize, inC: i32, inH: i32, inW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  outW: i32, oh: i32, ow0: i32, panel: usize,
): void {
  let k = 0;
  for (let c = 0; c < inC; c++) {
    const plane = at(xb, c * inH * inW);
    for (let kh = 0; kh < kH; kh++) {
      const ih = oh * sH - pH + kh;
      for (let kw = 0; kw < kW; kw++) {
        const dst = at(panel, k * NR);
        for (let j = 0; j < NR; j++) {
          const ow = ow0 + j;
          const iw = ow * sW - pW + kw;
          const inside = ow < outW && ih >= 0 && ih < inH && iw >= 0 && iw < inW;
          store<f32>(at(dst, j), inside ? load<f32>(at(plane, ih * inW + iw)) : 0);
        }
        k++;
      }
    }
  }
}

export function conv2dForward(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, x: usize, w: usize, bias: usize, out: usize,
  batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const rows = batch * outH;
  const i0 = shareStart(rows, 1, tid, nth);
  const i1 = shareStart(rows, 1, tid + 1, nth);
  if (i1 <= i0) return;
  const ckk = inC * kH * kW;
  const p = outH * outW;
  const ws = wsBase + <usize>tid * wsStride;
  const tile = ws;
  const packed = at(tile, 32);
  const offX = at(packed, packedWFloats(outC, ckk));
  const offP = at(offX, roundUp(ckk, 16));
  const panels = at(offP, roundUp(ckk, 16));
  packW(w, outC, ckk, packed);
  let k = 0;
  for (let c = 0; c < inC; c++) {
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        store<i32>(at(offX, k), (c * inH + kh) * inW + kw);
        store<i32>(at(offP, k), k * NR);
        k++;
      }
    }
  }
  const strips = (outW + NR - 1) / NR;
  const chunkRows = max(1, gatherFloats(ckk, outW) / (strips * ckk * NR));
  const ld = <usize>p << 2;
  for (let i = i0; i < i1; ) {
    const b = i / outH;
    const oh0 = i - b * outH;
    const oh1 = min(outH, min(oh0 + chunkRows, oh0 + (i1 - i)));
    const xb = at(x, b * inC * inH * inW);
    for (let oh = oh0; oh < oh1; oh++) {
      for (let st = 0; st < strips; st++) {
        const ow0 = st * NR;
        if (!directStrip(sW, pW, inW, kW, outW, ow0, rowsInside(oh, sH, pH, kH, inH))) {
          const panel = at(panels, ((oh - oh0) * strips + st) * ckk * NR);
          gather(xb, inC, inH, inW, kH, kW, sH, sW, pH, pW, outW, oh, ow0, panel);
        }
      }
    }
    for (let o0 = 0; o0 < outC; o0 += MR) {
      const pa = at(packed, o0 * ckk);
      const mr = min(MR, outC - o0);
      const pBias = bias != 0 ? at(bias, o0) : 0;
      const ob = at(out, (b * outC + o0) * p);
      for (let oh = oh0; oh < oh1; oh++) {
        const direct = rowsInside(oh, sH, pH, kH, inH);
        for (let st = 0; st < strips; st++) {
          const ow0 = st * NR;
          const nr = min(NR, outW - ow0);
          const dst = at(ob, oh * outW + ow0);
          if (directStrip(sW, pW, inW, kW, outW, ow0, direct)) {
            const base = at(xb, (oh * sH - pH) * inW + ow0 - pW);
            micro(ckk, pa, base, offX, pBias, mr, nr, dst, ld, tile);
          } else {
            const panel = at(panels, ((oh - oh0) * strips + st) * ckk * NR);
            micro(ckk, pa, panel, offP, pBias, mr, nr, dst, ld, tile);
          }
        }
      }
    }
    i += oh1 - oh0;
  }
}

/** A full strip of 8 positions, unit column stride, every tap inside the image (rows checked by the caller). */
// @ts-ignore: decorator
@inline
function directStrip(sW: i32, pW: i32, inW: i32, kW: i32, outW: i32, ow0: i32, rowsInside: bool): bool {
  return rowsInside && sW == 1 && ow0 + NR <= outW && ow0 - pW >= 0 && ow0 - pW + NR - 1 + kW - 1 < inW;
}

/** Every kernel row of output row oh lies inside the image. */
// @ts-ignore: decorator
@inline
function rowsInside(oh: i32, sH: i32, pH: i32, kH: i32, inH: i32): bool {
  return oh * sH - pH >= 0 && oh * sH - pH + kH <= inH;
}
