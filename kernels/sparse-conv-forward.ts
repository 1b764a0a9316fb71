// Forward convolution of a spike map (0/1 input; any value works) by implicit im2col over its nonzero inputs:
//   out[b,oc,p] = bias[oc] + sum over the taps k of position p with x != 0 of x * W^T[k,oc]
// Each nonzero input x[b,c,ih,iw] reaches the output positions p = oh*outW + ow with oh*sH - pH + kh = ih and
// ow*sW - pW + kw = iw through tap k = (c*kH + kh)*kW + kw. One image at a time, each position gets a list of its
// (W^T row, x) pairs; the rows of a list are summed in registers into the image's output, kept position-major
// [P, oc4] in the thread's scratch. Lists are filled in scan order (c, ih, iw), so every position sums its taps in
// increasing k, the order of the dense kernel; the bias is added last, as there: the same bits as conv2dForward for
// finite weights (a skipped 0 * w adds nothing) where its GEMM sums K = inC*kH*kW in one pass (K <= 384).
// Listing: the (position, tap) pairs of every input pixel (ih, iw) are tabulated once per call, so a spike is one
// loop over its pairs (no division, no bounds test, one branch miss) whatever the stride and padding. A binary image
// (every value 0 or 1, the normal case) lists no values and sums with plain adds.
// spikeConv2dForward writes the image out NCHW; spikeConv2dPoolForward (./sparse-conv-pool.ts) pools it first.
import { at, transpose4Store } from './gemm';
import { accumulateVectors, gatherNonzero } from './sparse-gemm';
import { roundUp, shareStart } from './simd';

// @ts-ignore: decorator
@inline
export function r16(n: i32): i32 {
  return roundUp(max(n, 1), 16);
}

// Per-thread scratch, in floats from ws, each region rounded up to 16 floats (64 bytes), HW = inH*inW:
// [wt: ckk*oc4 | bias4: oc4 | convT: np*oc4 | cur: np | lists: np*ckk | vals: np*ckk | scanIdx, scanVal: HW+4 |
//  pixN: HW | pix: HW*kH*kW*2 | pooled values, argmax: pooled*oc4]
// (the scratch is per thread; the module's static data is shared by all threads, so nothing per call lives there)
// @ts-ignore: decorator
@inline
function offBias4(ckk: i32, oc4: i32): i32 { return r16(ckk * oc4); }
// @ts-ignore: decorator
@inline
function offConvT(ckk: i32, oc4: i32): i32 { return offBias4(ckk, oc4) + r16(oc4); }
// @ts-ignore: decorator
@inline
function offCur(ckk: i32, oc4: i32, np: i32): i32 { return offConvT(ckk, oc4) + r16(np * oc4); }
// @ts-ignore: decorator
@inline
function offLists(ckk: i32, oc4: i32, np: i32): i32 { return offCur(ckk, oc4, np) + r16(np); }
// @ts-ignore: decorator
@inline
function offScan(ckk: i32, oc4: i32, np: i32): i32 { return offLists(ckk, oc4, np) + 2 * r16(np * ckk); }
// @ts-ignore: decorator
@inline
function offPix(ckk: i32, oc4: i32, np: i32, hw: i32): i32 { return offScan(ckk, oc4, np) + 2 * r16(hw + 4); }
// @ts-ignore: decorator
@inline
export function offPooled(ckk: i32, oc4: i32, np: i32, hw: i32, kk: i32): i32 {
  return offPix(ckk, oc4, np, hw) + r16(hw) + r16(2 * hw * kk);
}
// @ts-ignore: decorator
@inline
export function offConvTOf(inC: i32, outC: i32, kH: i32, kW: i32): i32 {
  return offConvT(inC * kH * kW, roundUp(outC, 4));
}

/**
 * The per-call preparation of one thread's scratch: W^T [ckk, oc4] (rows padded with zeros), the bias padded to
 * oc4 (zeros without one), and the pixel table: input pixel i = ih*inW + iw reaches pixN[i] pairs, each stored as
 * (byte offset of cur[p], byte offset of W^T row (kh*kW + kw) within its channel's block) for every (kh, kw) with
 * oh*sH - pH + kh = ih, ow*sW - pW + kw = iw inside the output. (W^T is 77 KB for the seed conv2: rebuilding it per
 * call costs about 1/1000 of convolving a chunk of 2048 images, so it is not cached across calls.)
 */
export function prepareSpikeConv(
  ws: usize, w: usize, bias: usize, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const ckk = inC * kH * kW;
  const oc4 = roundUp(outC, 4);
  const np = outH * outW;
  const hw = inH * inW;
  const rowBytes = oc4 << 2;
  for (let k = 0; k < ckk; k++) {
    const row = at(ws, k * oc4);
    for (let oc = 0; oc < oc4; oc++) store<f32>(at(row, oc), oc < outC ? load<f32>(at(w, oc * ckk + k)) : 0);
  }
  const b4 = at(ws, offBias4(ckk, oc4));
  for (let oc = 0; oc < oc4; oc++) store<f32>(at(b4, oc), oc < outC && bias != 0 ? load<f32>(at(bias, oc)) : 0);
  const pixN = at(ws, offPix(ckk, oc4, np, hw));
  const pix = at(pixN, r16(hw));
  for (let ih = 0; ih < inH; ih++) {
    for (let iw = 0; iw < inW; iw++) {
      const i = ih * inW + iw;
      const ent = at(pix, 2 * i * kH * kW);
      let n = 0;
      for (let kh = 0; kh < kH; kh++) {
        const t = ih + pH - kh;
        if (t < 0 || t % sH != 0 || t / sH >= outH) continue;
        for (let kw = 0; kw < kW; kw++) {
          const u = iw + pW - kw;
          if (u < 0 || u % sW != 0 || u / sW >= outW) continue;
          store<i32>(at(ent, 2 * n), ((t / sH) * outW + u / sW) << 2);
          store<i32>(at(ent, 2 * n + 1), (kh * kW + kw) * rowBytes);
          n++;
        }
      }
      store<i32>(at(pixN, i), n);
    }
  }
}

/** True when every x[0, n) is 0 or 1 (-0 counts as 0, as for gatherNonzero): lists then need no values. */
function isBinary(x: usize, n: i32): bool {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    bad = v128.or(bad, v128.and(f32x4.ne(v, zero), f32x4.ne(v, one)));
  }
  let ok = !v128.any_true(bad);
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    if (v != 0 && v != 1) ok = false;
  }
  return ok;
}

/**
 * Appends every nonzero input of image xb to the lists of the positions it reaches, in scan order (c, ih, iw): the
 * W^T row pointer and, unless `binary` (every value 1), the value. cur[p] is the byte address of p's next slot.
 */
// @ts-ignore: decorator
@inline
function listSpikes(
  ws: usize, xb: usize, inC: i32, hw: i32, kk: i32, np: i32, ckk: i32, oc4: i32, binary: bool,
): void {
  const cur = at(ws, offCur(ckk, oc4, np));
  const valsOff = <usize>r16(np * ckk) << 2;
  const scanIdx = at(ws, offScan(ckk, oc4, np));
  const scanVal = at(scanIdx, r16(hw + 4));
  const pixN = at(ws, offPix(ckk, oc4, np, hw));
  const pix = at(pixN, r16(hw));
  const tapBytes = <usize>kk * (<usize>oc4 << 2);
  for (let c = 0; c < inC; c++) {
    const wc = ws + <usize>c * tapBytes;
    const n = gatherNonzero(at(xb, c * hw), 0, hw, 0, 1, scanIdx, scanVal);
    for (let e = 0; e < n; e++) {
      const i = <i32>load<u32>(at(scanIdx, e));
      const v = load<f32>(at(scanVal, e));
      const cnt = load<i32>(at(pixN, i));
      const ent = pix + (<usize>(i * kk) << 3);
      for (let t = 0; t < cnt; t++) {
        const slotAt = cur + <usize>load<u32>(ent + (<usize>t << 3));
        const slot = <usize>load<u32>(slotAt);
        store<u32>(slot, <u32>(wc + <usize>load<u32>(ent + (<usize>t << 3), 4)));
        if (!binary) store<f32>(slot + valsOff, v);
        store<u32>(slotAt, <u32>(slot + 4));
      }
    }
  }
}

/**
 * out[j0, j0+4*width) = sum_t row_t[j0 ...] (+ init[j0 ...] where `acc`) for the cnt listed rows of a binary image,
 * width = 6, 4 or 1 vectors in registers: a plain add, the same rounding as madd(1, row, acc) in both SIMD builds.
 * (init is read in place rather than first copied to out: a memory.copy per position is a call out of wasm.)
 */
// @ts-ignore: decorator
@inline
function addRows(cnt: i32, idx: usize, j0: i32, width: i32, out: usize, acc: bool, init: usize): void {
  const off = <usize>j0 << 2;
  const o = out + off;
  const i0 = init + off;
  if (width == 6) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0);
    for (let t = 0; t < cnt; t++) {
      const p = <usize>load<u32>(at(idx, t)) + off;
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32));
      a3 = f32x4.add(a3, v128.load(p, 48));
      a4 = f32x4.add(a4, v128.load(p, 64));
      a5 = f32x4.add(a5, v128.load(p, 80));
    }
    if (acc) {
      a0 = f32x4.add(a0, v128.load(i0));
      a1 = f32x4.add(a1, v128.load(i0, 16));
      a2 = f32x4.add(a2, v128.load(i0, 32));
      a3 = f32x4.add(a3, v128.load(i0, 48));
      a4 = f32x4.add(a4, v128.load(i0, 64));
      a5 = f32x4.add(a5, v128.load(i0, 80));
    }
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
    v128.store(o, a4, 64);
    v128.store(o, a5, 80);
  } else if (width == 4) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let t = 0; t < cnt; t++) {
      const p = <usize>load<u32>(at(idx, t)) + off;
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32));
      a3 = f32x4.add(a3, v128.load(p, 48));
    }
    if (acc) {
      a0 = f32x4.add(a0, v128.load(i0));
      a1 = f32x4.add(a1, v128.load(i0, 16));
      a2 = f32x4.add(a2, v128.load(i0, 32));
      a3 = f32x4.add(a3, v128.load(i0, 48));
    }
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
  } else {
    let a0 = f32x4.splat(0);
    for (let t = 0; t < cnt; t++) a0 = f32x4.add(a0, v128.load(<usize>load<u32>(at(idx, t)) + off));
    v128.store(o, acc ? f32x4.add(a0, v128.load(i0)) : a0);
  }
}

/** Bias + the sum of every position's list into convT [np, oc4]. */
// @ts-ignore: decorator
@inline
function sumLists(ws: usize, hasBias: bool, np: i32, ckk: i32, oc4: i32, binary: bool): void {
  const rowBytes = <usize>oc4 << 2;
  const listBytes = <usize>ckk << 2;
  const cur = at(ws, offCur(ckk, oc4, np));
  const lists = at(ws, offLists(ckk, oc4, np));
  const valsOff = <usize>r16(np * ckk) << 2;
  const one = f32x4.splat(1);
  const b4 = at(ws, offBias4(ckk, oc4));
  const convT = at(ws, offConvT(ckk, oc4));
  for (let p = 0; p < np; p++) {
    const li = lists + <usize>p * listBytes;
    const cnt = <i32>((<usize>load<u32>(at(cur, p)) - li) >> 2);
    const row = convT + <usize>p * rowBytes;
    // the sum, then + bias: madd(sum, 1, bias) rounds sum + bias once, as the dense kernel's final add does
    if (binary) {
      let j = 0;
      for (; j + 24 <= oc4; j += 24) addRows(cnt, li, j, 6, row, hasBias, b4);
      for (; j + 16 <= oc4; j += 16) addRows(cnt, li, j, 4, row, hasBias, b4);
      for (; j + 4 <= oc4; j += 4) addRows(cnt, li, j, 1, row, hasBias, b4);
    } else {
      if (hasBias) memory.copy(row, b4, rowBytes);
      accumulateVectors(cnt, li, li + valsOff, oc4, row, one, hasBias);
    }
  }
}

/**
 * The conv output of image xb into convT [np, oc4] (at offConvTOf in ws): the list of every position, then bias +
 * the sum of each list (see the top). Needs prepareSpikeConv's tables in ws.
 */
export function spikeConvImage(
  ws: usize, xb: usize, hasBias: bool, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32, np: i32,
): void {
  const ckk = inC * kH * kW;
  const oc4 = roundUp(outC, 4);
  const hw = inH * inW;
  const kk = kH * kW;
  const listBytes = <usize>ckk << 2;
  const cur = at(ws, offCur(ckk, oc4, np));
  const lists = at(ws, offLists(ckk, oc4, np));
  for (let p = 0; p < np; p++) store<u32>(at(cur, p), <u32>(lists + <usize>p * listBytes));
  if (isBinary(xb, inC * hw)) {
    listSpikes(ws, xb, inC, hw, kk, np, ckk, oc4, true);
    sumLists(ws, hasBias, np, ckk, oc4, true);
  } else {
    listSpikes(ws, xb, inC, hw, kk, np, ckk, oc4, false);
    sumLists(ws, hasBias, np, ckk, oc4, false);
  }
}

/** dst[oc*n + p] = src[p*oc4 + oc] for oc < outC, p < n (bit copies: f32 or i32), by 4x4 blocks. */
export function storeChannelMajor(src: usize, n: i32, oc4: i32, outC: i32, dst: usize): void {
  const rowBytes = <usize>oc4 << 2;
  const dstRow = <usize>n << 2;
  let p = 0;
  for (; p + 4 <= n; p += 4) {
    const s = src + <usize>p * rowBytes;
    let oc = 0;
    for (; oc + 4 <= outC; oc += 4) {
      const o = s + (<usize>oc << 2);
      transpose4Store(
        v128.load(o), v128.load(o + rowBytes), v128.load(o + 2 * rowBytes), v128.load(o + 3 * rowBytes),
        at(dst, oc * n + p), dstRow,
      );
    }
    for (; oc < outC; oc++) {
      for (let r = 0; r < 4; r++) store<u32>(at(dst, oc * n + p + r), load<u32>(at(src, (p + r) * oc4 + oc)));
    }
  }
  for (; p < n; p++) {
    for (let oc = 0; oc < outC; oc++) store<u32>(at(dst, oc * n + p), load<u32>(at(src, p * oc4 + oc)));
  }
}

/** Images are split across threads; each thread convolves one image at a time in its scratch, then stores it NCHW. */
export function spikeConv2dForward(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, x: usize, w: usize, bias: usize, out: usize,
  batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const b0 = shareStart(batch, 1, tid, nth);
  const b1 = shareStart(batch, 1, tid + 1, nth);
  if (b1 <= b0) return;
  const ws = wsBase + <usize>tid * wsStride;
  const np = outH * outW;
  prepareSpikeConv(ws, w, bias, inC, inH, inW, outC, kH, kW, sH, sW, pH, pW, outH, outW);
  const oc4 = roundUp(outC, 4);
  const convT = at(ws, offConvTOf(inC, outC, kH, kW));
  for (let b = b0; b < b1; b++) {
    spikeConvImage(ws, at(x, b * inC * inH * inW), bias != 0, inC, inH, inW, outC, kH, kW, np);
    storeChannelMajor(convT, np, oc4, outC, at(out, b * outC * np));
  }
}
