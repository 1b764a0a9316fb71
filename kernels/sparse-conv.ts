// Convolution of a spike map (0/1 input; any value works) by implicit im2col over its nonzero inputs only.
// Each nonzero input x[b,c,ih,iw] touches the output positions (oh, ow) with oh*sH - pH + kh = ih and
// ow*sW - pW + kw = iw, i.e. one (tap k = (c*kH + kh)*kW + kw, position p = oh*outW + ow) pair per valid (kh, kw):
//   forward: out[b,:,p] = bias + sum over the pairs of p of x * W^T[k,:]   (a list per p, summed in registers)
//   weight:  dW^T[k,:] += x * dOut^T[b,p,:] for every pair                   (scatter into a per-thread partial)
// The work is proportional to (spikes x taps x outC) instead of (inputs x taps x outC). Lists are filled in scan
// order (c, ih, iw), so each position sums its taps in increasing k, the order of the dense kernel.
// W^T rows are padded to outC4 = roundUp(outC, 4) floats so every row is whole f32x4 vectors.
import { at } from './gemm';
import { accumulateVectors, gatherNonzero } from './sparse-gemm';
import { madd, roundUp, shareStart } from './simd';

// Scratch regions, in floats from ws, each rounded up to 16 floats (64 bytes).
// @ts-ignore: decorator
@inline
function r16(n: i32): i32 {
  return roundUp(max(n, 1), 16);
}

// [wt: ckk*outC4 | cnt: p | lists: p*ckk | vals: p*ckk | accRow: outC4 | scanIdx: inW | scanVal: inW |
//  dOutT: p*outC4 | partial: ckk*outC4 + outC4]
// @ts-ignore: decorator
@inline
function offCnt(ckk: i32, oc4: i32): i32 { return r16(ckk * oc4); }
// @ts-ignore: decorator
@inline
function offLists(ckk: i32, oc4: i32, p: i32): i32 { return offCnt(ckk, oc4) + r16(p); }
// @ts-ignore: decorator
@inline
function offVals(ckk: i32, oc4: i32, p: i32): i32 { return offLists(ckk, oc4, p) + r16(p * ckk); }
// @ts-ignore: decorator
@inline
function offAcc(ckk: i32, oc4: i32, p: i32): i32 { return offVals(ckk, oc4, p) + r16(p * ckk); }
// @ts-ignore: decorator
@inline
function offScan(ckk: i32, oc4: i32, p: i32): i32 { return offAcc(ckk, oc4, p) + r16(oc4); }
// @ts-ignore: decorator
@inline
function offDOutT(ckk: i32, oc4: i32, p: i32, inW: i32): i32 { return offScan(ckk, oc4, p) + 2 * r16(inW + 4); }
// @ts-ignore: decorator
@inline
function offPartial(ckk: i32, oc4: i32, p: i32, inW: i32): i32 { return offDOutT(ckk, oc4, p, inW) + r16(p * oc4); }

export function spikeConv2dWorkspace(inC: i32, inW: i32, outC: i32, kH: i32, kW: i32, outH: i32, outW: i32): i32 {
  const ckk = inC * kH * kW;
  const oc4 = roundUp(outC, 4);
  const p = outH * outW;
  return (offPartial(ckk, oc4, p, inW) + r16(ckk * oc4 + oc4)) << 2;
}

/** wt[k, oc] = w[oc, k] (rows padded with zeros to oc4). */
function transposeWeights(w: usize, outC: i32, ckk: i32, oc4: i32, wt: usize): void {
  for (let k = 0; k < ckk; k++) {
    const row = at(wt, k * oc4);
    for (let oc = 0; oc < oc4; oc++) store<f32>(at(row, oc), oc < outC ? load<f32>(at(w, oc * ckk + k)) : 0);
  }
}

export function spikeConv2dForward(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, x: usize, w: usize, bias: usize, out: usize,
  batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const b0 = shareStart(batch, 1, tid, nth);
  const b1 = shareStart(batch, 1, tid + 1, nth);
  if (b1 <= b0) return;
  const ws = wsBase + <usize>tid * wsStride;
  const ckk = inC * kH * kW;
  const oc4 = roundUp(outC, 4);
  const np = outH * outW;
  const wt = ws;
  const cnt = at(ws, offCnt(ckk, oc4));
  const lists = at(ws, offLists(ckk, oc4, np));
  const vals = at(ws, offVals(ckk, oc4, np));
  const accRow = at(ws, offAcc(ckk, oc4, np));
  const scanIdx = at(ws, offScan(ckk, oc4, np));
  const scanVal = at(scanIdx, r16(inW + 4));
  transposeWeights(w, outC, ckk, oc4, wt);
  const one = f32x4.splat(1);
  const rowBytes = <usize>oc4 << 2;
  for (let b = b0; b < b1; b++) {
    memory.fill(cnt, 0, <usize>np << 2);
    const xb = at(x, b * inC * inH * inW);
    for (let c = 0; c < inC; c++) {
      for (let ih = 0; ih < inH; ih++) {
        const n = gatherNonzero(at(xb, (c * inH + ih) * inW), 0, inW, 0, 1, scanIdx, scanVal);
        for (let e = 0; e < n; e++) {
          const iw = <i32>load<u32>(at(scanIdx, e));
          const v = load<f32>(at(scanVal, e));
          for (let kh = 0; kh < kH; kh++) {
            const t = ih + pH - kh;
            if (t < 0) break;
            const oh = t / sH;
            if (oh * sH != t || oh >= outH) continue;
            for (let kw = 0; kw < kW; kw++) {
              const u = iw + pW - kw;
              if (u < 0) break;
              const ow = u / sW;
              if (ow * sW != u || ow >= outW) continue;
              const p = oh * outW + ow;
              const slot = p * ckk + load<i32>(at(cnt, p));
              store<i32>(at(cnt, p), load<i32>(at(cnt, p)) + 1);
              store<u32>(at(lists, slot), <u32>(wt + <usize>((c * kH + kh) * kW + kw) * rowBytes));
              store<f32>(at(vals, slot), v);
            }
          }
        }
      }
    }
    const ob = at(out, b * outC * np);
    for (let p = 0; p < np; p++) {
      const n = load<i32>(at(cnt, p));
      const li = at(lists, p * ckk);
      const lv = at(vals, p * ckk);
      accumulateVectors(n, li, lv, oc4, accRow, one, false);
      for (let oc = 0; oc < outC; oc++) {
        const bv: f32 = bias != 0 ? load<f32>(at(bias, oc)) : 0;
        store<f32>(at(ob, oc * np + p), load<f32>(at(accRow, oc)) + bv);
      }
    }
  }
}

/** Phase 0: per-thread partial dW^T and dBias over the thread's images; phase 1: rows of dW summed over threads. */
export function spikeConv2dBackwardWeight(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, phase: i32, x: usize, dOut: usize, dw: usize, dBias: usize,
  accumulate: bool, batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const ckk = inC * kH * kW;
  const oc4 = roundUp(outC, 4);
  const np = outH * outW;
  const partOff = <usize>offPartial(ckk, oc4, np, inW) << 2;
  if (phase == 1) {
    const r0 = shareStart(outC, 1, tid, nth);
    const r1 = shareStart(outC, 1, tid + 1, nth);
    for (let oc = r0; oc < r1; oc++) {
      const dst = at(dw, oc * ckk);
      for (let k = 0; k < ckk; k++) {
        let s: f32 = accumulate ? load<f32>(at(dst, k)) : 0;
        for (let t = 0; t < nth; t++) s += load<f32>(at(wsBase + <usize>t * wsStride + partOff, k * oc4 + oc));
        store<f32>(at(dst, k), s);
      }
      if (dBias != 0) {
        let s: f32 = accumulate ? load<f32>(at(dBias, oc)) : 0;
        for (let t = 0; t < nth; t++) s += load<f32>(at(wsBase + <usize>t * wsStride + partOff, ckk * oc4 + oc));
        store<f32>(at(dBias, oc), s);
      }
    }
    return;
  }
  const ws = wsBase + <usize>tid * wsStride;
  const part = ws + partOff;
  const partBias = at(part, ckk * oc4);
  memory.fill(part, 0, <usize>(ckk * oc4 + oc4) << 2);
  const b0 = shareStart(batch, 1, tid, nth);
  const b1 = shareStart(batch, 1, tid + 1, nth);
  const scanIdx = at(ws, offScan(ckk, oc4, np));
  const scanVal = at(scanIdx, r16(inW + 4));
  const dOutT = at(ws, offDOutT(ckk, oc4, np, inW));
  const vecs = oc4 >> 2;
  for (let b = b0; b < b1; b++) {
    const gb = at(dOut, b * outC * np);
    // dOut_b [outC, P] -> dOutT [P, oc4] (zero padding), and the bias gradient.
    for (let p = 0; p < np; p++) {
      const row = at(dOutT, p * oc4);
      for (let oc = 0; oc < oc4; oc++) store<f32>(at(row, oc), oc < outC ? load<f32>(at(gb, oc * np + p)) : 0);
    }
    for (let oc = 0; oc < outC; oc++) {
      let s: f32 = 0;
      for (let p = 0; p < np; p++) s += load<f32>(at(gb, oc * np + p));
      store<f32>(at(partBias, oc), load<f32>(at(partBias, oc)) + s);
    }
    const xb = at(x, b * inC * inH * inW);
    for (let c = 0; c < inC; c++) {
      for (let ih = 0; ih < inH; ih++) {
        const n = gatherNonzero(at(xb, (c * inH + ih) * inW), 0, inW, 0, 1, scanIdx, scanVal);
        for (let e = 0; e < n; e++) {
          const iw = <i32>load<u32>(at(scanIdx, e));
          const sv = f32x4.splat(load<f32>(at(scanVal, e)));
          for (let kh = 0; kh < kH; kh++) {
            const t = ih + pH - kh;
            if (t < 0) break;
            const oh = t / sH;
            if (oh * sH != t || oh >= outH) continue;
            for (let kw = 0; kw < kW; kw++) {
              const u = iw + pW - kw;
              if (u < 0) break;
              const ow = u / sW;
              if (ow * sW != u || ow >= outW) continue;
              const src = at(dOutT, (oh * outW + ow) * oc4);
              const dst = at(part, ((c * kH + kh) * kW + kw) * oc4);
              for (let v = 0; v < vecs; v++) {
                const o = <usize>v << 4;
                v128.store(dst + o, madd(sv, v128.load(src + o), v128.load(dst + o)));
              }
            }
          }
        }
      }
    }
  }
}
