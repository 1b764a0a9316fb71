// Forward convolution of a spike map (0/1 input; any value works) by implicit im2col over its nonzero inputs:
//   out[b,oc,p] = bias[oc] + sum over the taps k of position p with x != 0 of x * W^T[k,oc]
// Each nonzero input x[b,c,ih,iw] reaches the output positions p = oh*outW + ow with oh*sH - pH + kh = ih and
// ow*sW - pW + kw = iw through tap k = (c*kH + kh)*kW + kw. One image at a time, each position gets a list of its
// (W^T row, x) pairs; the rows of a list are summed in registers (sparse-gemm's accumulateVectors) into the image's
// output, kept position-major [P, oc4] in the thread's scratch. Lists are filled in scan order (c, ih, iw), so every
// position sums its taps in increasing k, the order of the dense kernel; the bias is added last, as there.
// The (kh, oh) and (kw, ow) pairs each input row / column reaches are tabulated once per call, so listing a spike
// costs no division and no bounds test whatever the stride and padding.
// spikeConv2dForward writes the image out NCHW; spikeConv2dPoolForward (./sparse-conv-pool.ts) pools it first.
import { at, transpose4Store } from './gemm';
import { accumulateVectors, gatherNonzero } from './sparse-gemm';
import { roundUp, shareStart } from './simd';

// @ts-ignore: decorator
@inline
export function r16(n: i32): i32 {
  return roundUp(max(n, 1), 16);
}

// Per-thread scratch, in floats from ws, each region rounded up to 16 floats (64 bytes):
// [wt: ckk*oc4 | bias4: oc4 | convT: np*oc4 | cur: np | lists: np*ckk | vals: np*ckk | scanIdx, scanVal: inW+4 |
//  tables: rowN: inH, rowP, rowW: inH*kH, colN: inW, colP, colW: inW*kW | pooled values, argmax: pooled*oc4]
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
function offVals(ckk: i32, oc4: i32, np: i32): i32 { return offLists(ckk, oc4, np) + r16(np * ckk); }
// @ts-ignore: decorator
@inline
function offScan(ckk: i32, oc4: i32, np: i32): i32 { return offVals(ckk, oc4, np) + r16(np * ckk); }
// @ts-ignore: decorator
@inline
function offTables(ckk: i32, oc4: i32, np: i32, inW: i32): i32 { return offScan(ckk, oc4, np) + 2 * r16(inW + 4); }
// @ts-ignore: decorator
@inline
function tableFloats(inH: i32, inW: i32, kH: i32, kW: i32): i32 {
  return r16(inH) + 2 * r16(inH * kH) + r16(inW) + 2 * r16(inW * kW);
}
// @ts-ignore: decorator
@inline
export function offPooled(ckk: i32, oc4: i32, np: i32, inH: i32, inW: i32, kH: i32, kW: i32): i32 {
  return offTables(ckk, oc4, np, inW) + tableFloats(inH, inW, kH, kW);
}
// @ts-ignore: decorator
@inline
export function offConvTOf(inC: i32, outC: i32, kH: i32, kW: i32): i32 {
  return offConvT(inC * kH * kW, roundUp(outC, 4));
}

/**
 * The per-call preparation of one thread's scratch: W^T [ckk, oc4] (rows padded with zeros), the bias padded to
 * oc4 (zeros without one), and the tap tables. Input row ih reaches rowN[ih] pairs (rowP = oh*outW, rowW =
 * kh*kW*rowBytes) with oh*sH - pH + kh = ih, 0 <= oh < outH; input column iw reaches colN[iw] pairs (colP = ow,
 * colW = kw*rowBytes) likewise. (W^T is 77 KB for the seed conv2: rebuilding it per call costs about 1/1000 of
 * convolving a chunk of 2048 images, so it is not cached across calls.)
 */
export function prepareSpikeConv(
  ws: usize, w: usize, bias: usize, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const ckk = inC * kH * kW;
  const oc4 = roundUp(outC, 4);
  const np = outH * outW;
  const rowBytes = oc4 << 2;
  for (let k = 0; k < ckk; k++) {
    const row = at(ws, k * oc4);
    for (let oc = 0; oc < oc4; oc++) store<f32>(at(row, oc), oc < outC ? load<f32>(at(w, oc * ckk + k)) : 0);
  }
  const b4 = at(ws, offBias4(ckk, oc4));
  for (let oc = 0; oc < oc4; oc++) store<f32>(at(b4, oc), oc < outC && bias != 0 ? load<f32>(at(bias, oc)) : 0);
  const rowN = at(ws, offTables(ckk, oc4, np, inW));
  const rowP = at(rowN, r16(inH));
  const rowW = at(rowP, r16(inH * kH));
  const colN = at(rowW, r16(inH * kH));
  const colP = at(colN, r16(inW));
  const colW = at(colP, r16(inW * kW));
  for (let ih = 0; ih < inH; ih++) {
    let n = 0;
    for (let kh = 0; kh < kH; kh++) {
      const t = ih + pH - kh;
      if (t < 0 || t % sH != 0 || t / sH >= outH) continue;
      store<i32>(at(rowP, ih * kH + n), (t / sH) * outW);
      store<i32>(at(rowW, ih * kH + n), kh * kW * rowBytes);
      n++;
    }
    store<i32>(at(rowN, ih), n);
  }
  for (let iw = 0; iw < inW; iw++) {
    let n = 0;
    for (let kw = 0; kw < kW; kw++) {
      const u = iw + pW - kw;
      if (u < 0 || u % sW != 0 || u / sW >= outW) continue;
      store<i32>(at(colP, iw * kW + n), u / sW);
      store<i32>(at(colW, iw * kW + n), kw * rowBytes);
      n++;
    }
    store<i32>(at(colN, iw), n);
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
  const rowBytes = <usize>oc4 << 2;
  const listBytes = <usize>ckk << 2;
  const cur = at(ws, offCur(ckk, oc4, np));
  const lists = at(ws, offLists(ckk, oc4, np));
  // vals[slot] sits at a fixed distance from lists[slot]
  const valsOff = <usize>r16(np * ckk) << 2;
  const scanIdx = at(ws, offScan(ckk, oc4, np));
  const scanVal = at(scanIdx, r16(inW + 4));
  const rowN = at(ws, offTables(ckk, oc4, np, inW));
  const rowP = at(rowN, r16(inH));
  const rowW = at(rowP, r16(inH * kH));
  const colN = at(rowW, r16(inH * kH));
  const colP = at(colN, r16(inW));
  const colW = at(colP, r16(inW * kW));
  // cur[p]: byte address of the next free slot of position p's list
  for (let p = 0; p < np; p++) store<u32>(at(cur, p), <u32>(lists + <usize>p * listBytes));
  const tapBytes = <usize>(kH * kW) * rowBytes;
  for (let c = 0; c < inC; c++) {
    const wc = ws + <usize>c * tapBytes;
    for (let ih = 0; ih < inH; ih++) {
      const rn = load<i32>(at(rowN, ih));
      if (rn == 0) continue;
      const n = gatherNonzero(at(xb, (c * inH + ih) * inW), 0, inW, 0, 1, scanIdx, scanVal);
      const rp = at(rowP, ih * kH);
      const rw = at(rowW, ih * kH);
      for (let e = 0; e < n; e++) {
        const iw = <i32>load<u32>(at(scanIdx, e));
        const v = load<f32>(at(scanVal, e));
        const cn = load<i32>(at(colN, iw));
        const cp = at(colP, iw * kW);
        const cw = at(colW, iw * kW);
        for (let r = 0; r < rn; r++) {
          const pr = load<i32>(at(rp, r));
          const wr = wc + <usize>load<u32>(at(rw, r));
          for (let q = 0; q < cn; q++) {
            const slotAt = at(cur, pr + load<i32>(at(cp, q)));
            const slot = <usize>load<u32>(slotAt);
            store<u32>(slot, <u32>(wr + <usize>load<u32>(at(cw, q))));
            store<f32>(slot + valsOff, v);
            store<u32>(slotAt, <u32>(slot + 4));
          }
        }
      }
    }
  }
  const one = f32x4.splat(1);
  const b4 = at(ws, offBias4(ckk, oc4));
  const convT = at(ws, offConvT(ckk, oc4));
  for (let p = 0; p < np; p++) {
    const li = lists + <usize>p * listBytes;
    const cnt = <i32>((<usize>load<u32>(at(cur, p)) - li) >> 2);
    const row = convT + <usize>p * rowBytes;
    // bias first, then accumulate: madd(sum, 1, bias) rounds sum + bias once, as the dense kernel's final add does
    if (hasBias) memory.copy(row, b4, rowBytes);
    accumulateVectors(cnt, li, li + valsOff, oc4, row, one, hasBias);
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
