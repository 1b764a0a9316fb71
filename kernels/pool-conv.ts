// Backward-input of a convolution followed by a max-pool, from the pool's gradient: only the argmax position of
// each pooling window has a nonzero conv-output gradient, so instead of a dense transposed convolution over every
// output pixel (of which 3/4 are zero for a 2x2 pool) each pooled gradient g at (o, argmax p = (oh, ow)) adds
//   dX[:, oh*sH - pH + kh, ow*sW - pW + kw] += g * W[o, :, kh, kw]     for every tap (kh, kw)
// (the equation of conv2dBackwardInput restricted to the nonzero rows). Per image:
//  1. the nonzero pooled gradients are bucketed by conv-output position p (counting sort), each entry holding a
//     pointer to its weight row and g;
//  2. dX is accumulated channel-last and zero-padded, [(inH + 2pH) * (inW + 2pW), inC4], so every entry's
//     footprint is whole: kernel row (kh) is one run of kW*inC4 floats, and with the weights transposed once to
//     Wt[o, kh, kw, inC4] the footprint of p is the nv = kH*kW*inC4/4 vectors of Wt[o] at fixed offsets from p;
//  3. each footprint is summed over its position's entries in registers, 7 vectors at a time (./entry-sums.ts),
//     and added to dX once per pass (instead of a load and a store per multiply-add); the passes run stripe by
//     stripe (vectors [0, 7) of every position, then [7, 14), ...), so a stripe reads 7 KB of the 77 KB of Wt
//     (measured 1.08x faster than all of one position's passes in a row, whose rows spill out of L1);
//  4. the interior of the accumulator is written back NCHW, 4x4 blocks transposed in registers.
// Threads claim images one at a time (the counter at `next`). One dX element gets its positions' contributions
// stripe by stripe, within a stripe in increasing p, each summed over its entries in (o, pooled position) order.
import { at, transpose4Store } from './gemm';
import { sumStripesScattered } from './entry-sums';
import { claim, roundUp } from './simd';

// Scratch of one thread, in bytes from ws, each region 64-byte aligned:
// [wt: outC*nv f32x4 | acc: padded plane * inC4 floats | offs: nv u32 | starts, cursor, corners: P+1 i32 each |
//  entries: outC*pooled (u32 pointer, f32 g)]
// @ts-ignore: decorator
@inline
function r64(bytes: i32): i32 {
  return roundUp(max(bytes, 4), 64);
}

export function poolConvBackwardInputWorkspace(
  inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32, pH: i32, pW: i32, outH: i32, outW: i32, pooled: i32,
): i32 {
  const c4 = roundUp(inC, 4);
  const nv = (kH * kW * c4) >> 2;
  const plane = (inH + 2 * pH) * (inW + 2 * pW);
  const positions = outH * outW;
  return r64(outC * nv * 16) + r64(plane * c4 * 4) + r64(nv * 4) + 3 * r64((positions + 1) * 4) + r64(outC * pooled * 8);
}

/**
 * Counting sort of image b's nonzero pooled gradients by conv-output position: entries [starts[p], starts[p+1])
 * of p, each (u32 pointer to Wt[o], f32 g), in (o, pooled position) order. Zero gradients are skipped, and so
 * are argmax values outside [0, P) (-1: an all-padding window; others are refused by the JS wrapper).
 */
function bucket(
  dPool: usize, argmax: usize, wt: usize, rowBytes: i32, starts: usize, cursor: usize, entries: usize,
  b: i32, outC: i32, pooled: i32, positions: i32,
): void {
  for (let p = 0; p <= positions; p++) store<i32>(at(starts, p), 0); // (a memory.fill is a call out of wasm)
  const first = b * outC * pooled;
  const count = outC * pooled;
  for (let i = 0; i < count; i++) {
    const a = load<i32>(at(argmax, first + i));
    if (<u32>a < <u32>positions && load<f32>(at(dPool, first + i)) != 0) {
      store<i32>(at(starts, a + 1), load<i32>(at(starts, a + 1)) + 1);
    }
  }
  for (let p = 0; p < positions; p++) {
    const s = load<i32>(at(starts, p));
    store<i32>(at(starts, p + 1), load<i32>(at(starts, p + 1)) + s);
    store<i32>(at(cursor, p), s);
  }
  for (let o = 0; o < outC; o++) {
    const base = first + o * pooled;
    const row = <u32>(wt + <usize>(o * rowBytes));
    for (let q = 0; q < pooled; q++) {
      const a = load<i32>(at(argmax, base + q));
      const g = load<f32>(at(dPool, base + q));
      if (<u32>a >= <u32>positions || g == 0) continue;
      const k = load<i32>(at(cursor, a));
      store<i32>(at(cursor, a), k + 1);
      const e = entries + (<usize>k << 3);
      store<u32>(e, row);
      store<f32>(e, g, 4);
    }
  }
}

/** dX[b] (NCHW) = the interior of the padded channel-last accumulator. */
function writeBack(acc: usize, dx: usize, b: i32, inC: i32, inH: i32, inW: i32, c4: i32, pH: i32, pW: i32): void {
  const plane = inH * inW;
  const out = at(dx, b * inC * plane);
  const rowStride = <usize>c4 << 2;
  const planeBytes = <usize>plane << 2;
  const c4full = inC & ~3;
  const wp = inW + 2 * pW;
  for (let ih = 0; ih < inH; ih++) {
    const src = at(acc, ((ih + pH) * wp + pW) * c4);
    const dst = at(out, ih * inW);
    let iw = 0;
    for (; iw + 4 <= inW; iw += 4) {
      const s = src + <usize>iw * rowStride;
      for (let c = 0; c < c4full; c += 4) {
        const sc = s + (<usize>c << 2);
        const x0 = v128.load(sc);
        const x1 = v128.load(sc + rowStride);
        const x2 = v128.load(sc + 2 * rowStride);
        const x3 = v128.load(sc + 3 * rowStride);
        transpose4Store(x0, x1, x2, x3, at(dst, c * plane + iw), planeBytes);
      }
      for (let c = c4full; c < inC; c++) {
        for (let i = 0; i < 4; i++) store<f32>(at(dst, c * plane + iw + i), load<f32>(at(src, (iw + i) * c4 + c)));
      }
    }
    for (; iw < inW; iw++) {
      for (let c = 0; c < inC; c++) store<f32>(at(dst, c * plane + iw), load<f32>(at(src, iw * c4 + c)));
    }
  }
}

export function poolConvBackwardInput(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, next: usize, dPool: usize, argmax: usize, w: usize, dx: usize,
  batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  outH: i32, outW: i32, pooled: i32,
): void {
  const c4 = roundUp(inC, 4);
  const taps = kH * kW;
  const nv = (taps * c4) >> 2;
  const wp = inW + 2 * pW;
  const plane = (inH + 2 * pH) * wp;
  const positions = outH * outW;
  const wt = wsBase + <usize>tid * wsStride;
  const acc = wt + <usize>r64(outC * nv * 16);
  const offs = acc + <usize>r64(plane * c4 * 4);
  const starts = offs + <usize>r64(nv * 4);
  const cursor = starts + <usize>r64((positions + 1) * 4);
  const corners = cursor + <usize>r64((positions + 1) * 4);
  const entries = corners + <usize>r64((positions + 1) * 4);
  // Wt[o, kh, kw, c] = W[o, c, kh, kw], channels padded with zeros to c4
  for (let o = 0; o < outC; o++) {
    for (let k = 0; k < taps; k++) {
      const row = at(wt, (o * taps + k) * c4);
      for (let c = 0; c < c4; c++) store<f32>(at(row, c), c < inC ? load<f32>(at(w, (o * inC + c) * taps + k)) : 0);
    }
  }
  // vector v of a footprint is (kh, r) = (v / perRow, v % perRow): byte offset (kh*wp*c4 + 4r)*4 from its corner
  const perRow = (kW * c4) >> 2;
  for (let v = 0; v < nv; v++) {
    const kh = v / perRow;
    store<u32>(at(offs, v), <u32>((kh * wp * c4 + (v - kh * perRow) * 4) << 2));
  }
  // corner of position p = (oh, ow): byte offset of its footprint's first vector in acc
  for (let p = 0; p < positions; p++) {
    const oh = p / outW;
    store<u32>(at(corners, p), <u32>(((oh * sH * wp + (p - oh * outW) * sW) * c4) << 2));
  }
  for (let b = claim(next); b < batch; b = claim(next)) {
    memory.fill(acc, 0, (<usize>(plane * c4)) << 2);
    bucket(dPool, argmax, wt, nv << 4, starts, cursor, entries, b, outC, pooled, positions);
    sumStripesScattered(entries, starts, corners, positions, nv, acc, offs);
    writeBack(acc, dx, b, inC, inH, inW, c4, pH, pW);
  }
}
