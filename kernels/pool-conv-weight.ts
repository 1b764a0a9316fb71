// Weight gradient of a convolution of a spike map followed by a max-pool, from the pool's gradient:
//   dOut = maxPool2dBackward(dPool, argmax)        (each pooled gradient routed to its window's argmax)
//   dW[o, c, kh, kw] (+)= sum_{b, oh, ow} x[b, c, oh*sH - pH + kh, ow*sW - pW + kw] * dOut[b, o, oh, ow]
//   dBias[o]         (+)= sum_{b, oh, ow} dOut[b, o, oh, ow]
// without the dense, mostly-zero dOut in memory and without a pass over it: per image, dOut^T [P, outC4] is built
// straight from dPool and argmax (one scatter of the pooled gradients), and the work is proportional to the
// nonzero inputs (spikes) x taps x outC, as in spikeConv2dBackwardWeight (./sparse-conv.ts).
//
// The inner loop is tap-major so that the sum runs in registers: for one input channel c and one tap (kh, kw),
//   dW^T[(c, kh, kw), :] += sum over the spikes s valid for that tap of x_s * dOut^T[p(s, kh, kw), :]
// in registers, 7 vectors at a time (./entry-sums.ts), added to the per-thread partial once per pass (instead of a
// load and a store per multiply-add). Finding each tap's spikes without a division or a branch per (spike, tap):
//  - a spike of channel c at (ih, iw) is valid for tap (kh, kw) when oh = (ih + pH - kh) / sH and
//    ow = (iw + pW - kw) / sW are whole and in range; per (ih, kh) the row offset of oh comes from a table;
//  - the channel's spikes are bucketed by column and listed per kh in "column order" (columns grouped by
//    (iw + pW) mod sW, then increasing): the spikes valid for (kh, kw) are then one contiguous range of the kh
//    list, and an entry holding dOut^T[oh, (iw + pW) div sW] reaches dOut^T[oh, ow] at the fixed byte offset
//    -(kw div sW) rows. So each tap is a range [colStart[kh][lo(kw)], colStart[kh][hi(kw)]) of a list.
// GROUP images are listed together (one dOut^T each) so the sums are longer. Phase 0: the batch is cut into
// BLOCKS fixed ranges of images, each with its own partial dW^T and dBias in `parts`; threads claim blocks from the
// counter at `next`, so a slow thread takes fewer. Phase 1: rows of dW and dBias summed over the blocks in block
// order. Which thread ran a block changes nothing: the result is the same bits for any thread count and timing.
import { at } from './gemm';
import { gatherNonzero } from './sparse-gemm';
import { sumRows } from './entry-sums';
import { claim, roundUp, shareStart } from './simd';

/** Images whose spikes are listed together. */
const GROUP: i32 = 4;

/** Fixed ranges of images with a partial sum each (at most one per image). */
const BLOCKS: i32 = 16;

// @ts-ignore: decorator
@inline
function r64(bytes: i32): i32 {
  return roundUp(max(bytes, 4), 64);
}

// Scratch of one thread: a header of region offsets (written by `layout`, read by `reg`), then the regions in
// this order, each 64-byte aligned.
const DOUT = 0; // f32 [GROUP, P, oc4]: dOut^T of the group's images
const OHOFF = 1; // i32 [inH, kH]: byte offset of dOut^T row oh*outW for (ih, kh), -1 where invalid
const ORDER = 2; // i32 [inW]: the columns in column order
const SPAN = 3; // i32 [kW, 2]: column-order slots [lo, hi) valid for kw
const PIXELS = 4; // [inH*inW] x (i32 iw, u32 offset of dOut^T row (iw + pW) div sW, u32 address of OHOFF[ih])
const COLCNT = 5; // i32 [inW]
const COLS = 6; // [inW, GROUP*inH] x (u32 dOut^T pointer, f32 x, u32 address of OHOFF[ih], pad): by column
const COLSTART = 7; // i32 [kH, inW + 1]: where each column-order slot starts in each kh list
const LISTS = 8; // [kH, GROUP*inH*inW + 1] x (u32 dOut^T pointer, f32 x): the kh lists
const SCAN = 9; // gatherNonzero's idx and val, inH*inW + 4 each
const REGIONS = 10;
const HEADER = 64;

function regionBytes(r: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32, outH: i32, outW: i32): i32 {
  const oc4 = roundUp(outC, 4);
  switch (r) {
    case DOUT: return GROUP * outH * outW * oc4 * 4;
    case OHOFF: return inH * kH * 4;
    case ORDER: return inW * 4;
    case SPAN: return kW * 8;
    case COLCNT: return inW * 4;
    case COLS: return inW * GROUP * inH * 16;
    case PIXELS: return inH * inW * 12;
    case COLSTART: return kH * (inW + 1) * 4;
    case LISTS: return kH * (GROUP * inH * inW + 1) * 8;
    default: return 2 * (inH * inW + 4) * 4;
  }
}

/** Writes the header of region offsets at ws; returns the scratch bytes of one thread. */
function layout(ws: usize, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32, outH: i32, outW: i32): i32 {
  let o = HEADER;
  for (let r = 0; r < REGIONS; r++) {
    if (ws != 0) store<i32>(at(ws, r), o);
    o += r64(regionBytes(r, inC, inH, inW, outC, kH, kW, outH, outW));
  }
  return o;
}

/** Start of region r of the scratch at ws. */
// @ts-ignore: decorator
@inline
function reg(ws: usize, r: i32): usize {
  return ws + <usize>load<i32>(at(ws, r));
}

/** Bytes of one block's partial: dW^T [ckk, oc4] then dBias [oc4]. */
function partBytes(ckk: i32, oc4: i32): i32 {
  return (ckk + 1) * oc4 * 4;
}

/** Bytes of the partials every thread shares (`parts`): one per block. */
export function spikePoolConv2dPartials(inC: i32, kH: i32, kW: i32, outC: i32): i32 {
  return BLOCKS * partBytes(inC * kH * kW, roundUp(outC, 4));
}

export function spikePoolConv2dWorkspace(
  inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32, outH: i32, outW: i32,
): i32 {
  return layout(0, inC, inH, inW, outC, kH, kW, outH, outW);
}

/** The per-call tables: row offsets per (ih, kh), the column order, each kw's slot range, per-pixel facts. */
function tables(
  ws: usize, inH: i32, inW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  outH: i32, outW: i32, rowBytes: i32,
): void {
  const ohOff = reg(ws, OHOFF);
  for (let ih = 0; ih < inH; ih++) {
    for (let kh = 0; kh < kH; kh++) {
      const t = ih + pH - kh;
      const oh = t >= 0 ? t / sH : -1;
      const ok = t >= 0 && oh * sH == t && oh < outH;
      store<i32>(at(ohOff, ih * kH + kh), ok ? oh * outW * rowBytes : -1);
    }
  }
  const order = reg(ws, ORDER);
  let slot = 0;
  for (let r = 0; r < sW; r++) {
    for (let iw = 0; iw < inW; iw++) {
      if ((iw + pW) % sW != r) continue;
      store<i32>(at(order, slot++), iw);
    }
  }
  const pixels = reg(ws, PIXELS);
  for (let ih = 0; ih < inH; ih++) {
    for (let iw = 0; iw < inW; iw++) {
      const px = pixels + <usize>(ih * inW + iw) * 12;
      store<i32>(px, iw);
      store<u32>(px, <u32>(((iw + pW) / sW) * rowBytes), 4);
      store<u32>(px, <u32>at(ohOff, ih * kH), 8);
    }
  }
  // kw reaches the columns iw + pW = kw + sW*ow, ow in [0, outW): contiguous slots of its residue class
  const span = reg(ws, SPAN);
  for (let kw = 0; kw < kW; kw++) {
    let lo = inW;
    let hi = 0;
    for (let s = 0; s < inW; s++) {
      const u = load<i32>(at(order, s)) + pW - kw;
      if (u >= 0 && u % sW == 0 && u / sW < outW) {
        lo = min(lo, s);
        hi = s + 1;
      }
    }
    store<i32>(at(span, 2 * kw), lo < hi ? lo : 0);
    store<i32>(at(span, 2 * kw + 1), lo < hi ? hi : 0);
  }
}

/**
 * dOut^T of images [b0, b1) (slot b - b0 of the group) from the pooled gradients; adds their sums to the bias
 * partial. Overlapping windows that share an argmax add up, as in maxPool2dBackward.
 */
function scatterGradients(
  dPool: usize, argmax: usize, dOutT: usize, partBias: usize, b0: i32, b1: i32, outC: i32, oc4: i32,
  positions: i32, pooled: i32,
): void {
  memory.fill(dOutT, 0, <usize>((b1 - b0) * positions * oc4) << 2);
  for (let b = b0; b < b1; b++) {
    const img = at(dOutT, (b - b0) * positions * oc4);
    for (let o = 0; o < outC; o++) {
      const base = (b * outC + o) * pooled;
      let sum: f32 = 0;
      for (let q = 0; q < pooled; q++) {
        const a = load<i32>(at(argmax, base + q));
        if (<u32>a >= <u32>positions) continue; // -1: an all-padding window (others: refused by the JS wrapper)
        const g = load<f32>(at(dPool, base + q));
        const d = at(img, a * oc4 + o);
        store<f32>(d, load<f32>(d) + g);
        sum += g;
      }
      store<f32>(at(partBias, o), load<f32>(at(partBias, o)) + sum);
    }
  }
}

/** Lists channel c's spikes of images [b0, b1) per kh in column order, with each kh list's column starts. */
function listSpikes(
  ws: usize, x: usize, dOutT: usize, c: i32, b0: i32, b1: i32, inC: i32, inH: i32, inW: i32, kH: i32,
  imageBytes: i32,
): void {
  const colCnt = reg(ws, COLCNT);
  const cols = reg(ws, COLS);
  const pixels = reg(ws, PIXELS);
  const scanIdx = reg(ws, SCAN);
  const plane = inH * inW;
  const scanVal = at(scanIdx, plane + 4);
  const colCap = GROUP * inH;
  // spikes bucketed by column: (dOut^T pointer of its column, x, its row of OHOFF)
  for (let iw = 0; iw < inW; iw++) store<i32>(at(colCnt, iw), 0); // (a memory.fill is a call out of wasm)
  for (let b = b0; b < b1; b++) {
    const img = <u32>(dOutT + <usize>((b - b0) * imageBytes));
    const n = gatherNonzero(at(x, (b * inC + c) * plane), 0, plane, 0, 12, scanIdx, scanVal);
    for (let e = 0; e < n; e++) {
      const px = pixels + <usize>load<u32>(at(scanIdx, e));
      const iw = load<i32>(px);
      const k = load<i32>(at(colCnt, iw));
      store<i32>(at(colCnt, iw), k + 1);
      const d = cols + (<usize>(iw * colCap + k) << 4);
      store<u32>(d, img + load<u32>(px, 4));
      store<f32>(d, load<f32>(at(scanVal, e)), 4);
      store<u32>(d, load<u32>(px, 8), 8);
    }
  }
  const colStart = reg(ws, COLSTART);
  const lists = reg(ws, LISTS);
  const order = reg(ws, ORDER);
  const listCap = GROUP * plane;
  for (let kh = 0; kh < kH; kh++) {
    const list = lists + (<usize>(kh * (listCap + 1)) << 3);
    const starts = at(colStart, kh * (inW + 1));
    const khOff = <usize>kh << 2;
    let j = 0;
    for (let s = 0; s < inW; s++) {
      store<i32>(at(starts, s), j);
      const iw = load<i32>(at(order, s));
      const col = cols + (<usize>(iw * colCap) << 4);
      const end = col + (<usize>load<i32>(at(colCnt, iw)) << 4);
      for (let src = col; src < end; src += 16) {
        // every entry is written; only a valid (row, kh) advances the list (no unpredictable branch)
        const off = load<i32>(<usize>load<u32>(src, 8) + khOff);
        const d = list + (<usize>j << 3);
        store<u32>(d, load<u32>(src) + <u32>off);
        store<u32>(d, load<u32>(src, 4), 4);
        j += i32(off >= 0);
      }
    }
    store<i32>(at(starts, inW), j);
  }
}

/** Phase 1 (rows of dW split across threads): dW[o, k] (+)= sum over blocks of partial[k, o], same for dBias. */
function reduce(
  tid: i32, nth: i32, parts: usize, blocks: i32, dw: usize, dBias: usize, accumulate: bool, outC: i32,
  ckk: i32, oc4: i32,
): void {
  const r0 = shareStart(outC, 1, tid, nth);
  const r1 = shareStart(outC, 1, tid + 1, nth);
  const stride = <usize>partBytes(ckk, oc4);
  for (let o = r0; o < r1; o++) {
    const dst = at(dw, o * ckk);
    const rows = dBias != 0 ? ckk + 1 : ckk; // row ckk of a partial: the bias
    for (let k = 0; k < rows; k++) {
      const d = k < ckk ? at(dst, k) : at(dBias, o);
      let s: f32 = accumulate ? load<f32>(d) : 0;
      for (let q = 0; q < blocks; q++) s += load<f32>(at(parts + <usize>q * stride, k * oc4 + o));
      store<f32>(d, s);
    }
  }
}

export function spikePoolConv2dBackwardWeight(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, phase: i32, next: usize, parts: usize, x: usize, dPool: usize,
  argmax: usize, dw: usize, dBias: usize, accumulate: bool, batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32, pooled: i32,
): void {
  const ckk = inC * kH * kW;
  const oc4 = roundUp(outC, 4);
  const blocks = min(BLOCKS, batch);
  if (phase == 1) {
    reduce(tid, nth, parts, blocks, dw, dBias, accumulate, outC, ckk, oc4);
    return;
  }
  const ws = wsBase + <usize>tid * wsStride;
  layout(ws, inC, inH, inW, outC, kH, kW, outH, outW);
  const rowBytes = oc4 << 2;
  const positions = outH * outW;
  const imageBytes = positions * rowBytes;
  tables(ws, inH, inW, kH, kW, sH, sW, pH, pW, outH, outW, rowBytes);
  const dOutT = reg(ws, DOUT);
  const span = reg(ws, SPAN);
  const colStart = reg(ws, COLSTART);
  const lists = reg(ws, LISTS);
  const listCap = GROUP * inH * inW;
  const vecs = oc4 >> 2;
  for (let q = claim(next); q < blocks; q = claim(next)) {
    const part = parts + <usize>q * <usize>partBytes(ckk, oc4);
    const partBias = at(part, ckk * oc4);
    memory.fill(part, 0, <usize>partBytes(ckk, oc4));
    const b1 = shareStart(batch, 1, q + 1, blocks);
    for (let g0 = shareStart(batch, 1, q, blocks); g0 < b1; g0 += GROUP) {
      const g1 = min(b1, g0 + GROUP);
      scatterGradients(dPool, argmax, dOutT, partBias, g0, g1, outC, oc4, positions, pooled);
      for (let c = 0; c < inC; c++) {
        listSpikes(ws, x, dOutT, c, g0, g1, inC, inH, inW, kH, imageBytes);
        for (let kh = 0; kh < kH; kh++) {
          const list = lists + (<usize>(kh * (listCap + 1)) << 3);
          const starts = at(colStart, kh * (inW + 1));
          for (let kw = 0; kw < kW; kw++) {
            const lo = load<i32>(at(starts, load<i32>(at(span, 2 * kw))));
            const hi = load<i32>(at(starts, load<i32>(at(span, 2 * kw + 1))));
            if (lo >= hi) continue;
            // entries point at dOut^T[oh, (iw + pW) div sW]; this tap reads kw div sW rows before it
            const shift = <usize>(-((kw / sW) * rowBytes));
            const dst = at(part, ((c * kH + kh) * kW + kw) * oc4);
            sumRows(list + (<usize>lo << 3), list + (<usize>hi << 3), shift, vecs, dst);
          }
        }
      }
    }
  }
}
