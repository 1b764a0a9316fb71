// Convolution of a spike map (0/1 input; any value works) by implicit im2col over its nonzero inputs only.
// Each nonzero input x[b,c,ih,iw] touches the output positions (oh, ow) with oh*sH - pH + kh = ih and
// ow*sW - pW + kw = iw, i.e. one (tap k = (c*kH + kh)*kW + kw, position p = oh*outW + ow) pair per valid (kh, kw):
//   forward: out[b,:,p] = bias + sum over the pairs of p of x * W^T[k,:]   (a list per p, summed in registers)
//   weight:  dW^T[k,:] += x * dOut^T[b,p,:] for every pair                   (scatter into a per-thread partial)
// The work is proportional to (spikes x taps x outC) instead of (inputs x taps x outC). The forward (and its fusion
// with the following max-pool) lives in ./sparse-conv-forward.ts and ./sparse-conv-pool.ts.
// Rows are padded to outC4 = roundUp(outC, 4) floats so every row is whole f32x4 vectors.
import { at } from './gemm';
import { gatherNonzero } from './sparse-gemm';
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
