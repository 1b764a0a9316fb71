import type { Conv2dGeometry } from '../backend.js';
import { KernelArgumentError, requireCount, requireLength } from './check.js';
import { dotNT, transposeInto } from './dot.js';

/*
 * 2-D convolution (PyTorch's cross-correlation, groups=1, no dilation, zero padding).
 * With ih = oh*strideH - padH + kh and iw = ow*strideW - padW + kw (taps outside the image read zero):
 *   out[b,oc,oh,ow] = bias[oc] + sum_{ic,kh,kw} w[oc,ic,kh,kw] * x[b,ic,ih,iw]
 *   dx[b,ic,ih,iw]  = sum over (oc,kh,kw,oh,ow) reaching (ih,iw) of w[oc,ic,kh,kw] * dOut[b,oc,oh,ow]
 *   dw[oc,ic,kh,kw] = sum_{b,oh,ow} dOut[b,oc,oh,ow] * x[b,ic,ih,iw],  dBias[oc] = sum_{b,oh,ow} dOut[b,oc,oh,ow]
 *
 * Computed one image at a time as a small im2col + `dotNT` (P = outH*outW positions, KK = inC*kH*kW taps):
 *   forward: out_b[outC,P]   = w[outC,KK] . patches_b[P,KK]^T
 *   dx:      dPatch_b[P,KK]  = dOut_b^T[P,outC] . w^T[KK,outC]^T, then scattered back (col2im)
 *   dw:      dw[outC,KK]    += dOut_b[outC,P] . cols_b[KK,P]^T
 * Each image's buffers are small (conv2 of the seed net: 64 x 300 floats), never a whole-batch column matrix.
 * Sums are float64 and rounded once per output.
 */

function checkGeometry(kernel: string, g: Conv2dGeometry): void {
  for (const f of ['batch', 'inC', 'inH', 'inW', 'outC', 'kH', 'kW', 'padH', 'padW', 'outH', 'outW'] as const) {
    requireCount(kernel, `g.${f}`, g[f]);
  }
  if (!(Number.isInteger(g.strideH) && g.strideH >= 1 && Number.isInteger(g.strideW) && g.strideW >= 1)) {
    throw new KernelArgumentError(
      `reference.${kernel} (src/backend/reference): stride must be a positive integer, got [${g.strideH}, ${g.strideW}]`,
    );
  }
}

/**
 * `tap[pos*KK + q]`: offset within one input image `[inC,inH,inW]` read by output position `pos = oh*outW + ow`
 * through tap `q = (ic*kH + kh)*kW + kw`, or -1 where the tap falls in the zero padding.
 */
function tapTable(g: Conv2dGeometry): Int32Array {
  const { inC, inH, inW, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  const KK = inC * kH * kW;
  const tap = new Int32Array(outH * outW * KK);
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      let t = (oh * outW + ow) * KK;
      for (let ic = 0; ic < inC; ic++) {
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * strideH - padH + kh;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * strideW - padW + kw;
            tap[t++] = ih >= 0 && ih < inH && iw >= 0 && iw < inW ? (ic * inH + ih) * inW + iw : -1;
          }
        }
      }
    }
  }
  return tap;
}

export function conv2dForward(
  g: Conv2dGeometry,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
): void {
  const { batch, inC, inH, inW, outC, kH, kW, outH, outW } = g;
  checkGeometry('conv2dForward', g);
  const inImage = inC * inH * inW;
  const P = outH * outW;
  const KK = inC * kH * kW;
  requireLength('conv2dForward', 'x', x, batch * inImage);
  requireLength('conv2dForward', 'w', w, outC * KK);
  if (bias) requireLength('conv2dForward', 'bias', bias, outC);
  requireLength('conv2dForward', 'out', out, batch * outC * P);

  const tap = tapTable(g);
  const patches = new Float32Array(P * KK);
  const sums = new Float64Array(outC * P);
  for (let b = 0; b < batch; b++) {
    const xb = b * inImage;
    for (let i = 0; i < tap.length; i++) patches[i] = tap[i]! >= 0 ? x[xb + tap[i]!]! : 0;
    dotNT(outC, P, KK, w, 0, patches, 0, sums, false);
    const ob = b * outC * P;
    for (let oc = 0; oc < outC; oc++) {
      const bv = bias ? bias[oc]! : 0;
      for (let p = 0; p < P; p++) out[ob + oc * P + p] = sums[oc * P + p]! + bv;
    }
  }
}

export function conv2dBackwardInput(g: Conv2dGeometry, dOut: Float32Array, w: Float32Array, dx: Float32Array): void {
  const { batch, inC, inH, inW, outC, kH, kW, outH, outW } = g;
  checkGeometry('conv2dBackwardInput', g);
  const inImage = inC * inH * inW;
  const P = outH * outW;
  const KK = inC * kH * kW;
  requireLength('conv2dBackwardInput', 'dOut', dOut, batch * outC * P);
  requireLength('conv2dBackwardInput', 'w', w, outC * KK);
  requireLength('conv2dBackwardInput', 'dx', dx, batch * inImage);

  const tap = tapTable(g);
  const wT = new Float32Array(KK * outC);
  transposeInto(outC, KK, w, 0, wT);
  const dOutT = new Float32Array(P * outC);
  const dPatch = new Float64Array(P * KK);
  const acc = new Float64Array(inImage);
  for (let b = 0; b < batch; b++) {
    transposeInto(outC, P, dOut, b * outC * P, dOutT);
    dotNT(P, KK, outC, dOutT, 0, wT, 0, dPatch, false);
    acc.fill(0);
    for (let i = 0; i < tap.length; i++) if (tap[i]! >= 0) acc[tap[i]!]! += dPatch[i]!;
    dx.set(acc, b * inImage);
  }
}

export function conv2dBackwardWeight(
  g: Conv2dGeometry,
  x: Float32Array,
  dOut: Float32Array,
  dw: Float32Array,
  dBias: Float32Array | null,
  accumulate: boolean,
): void {
  const { batch, inC, inH, inW, outC, kH, kW, outH, outW } = g;
  checkGeometry('conv2dBackwardWeight', g);
  const inImage = inC * inH * inW;
  const P = outH * outW;
  const KK = inC * kH * kW;
  requireLength('conv2dBackwardWeight', 'x', x, batch * inImage);
  requireLength('conv2dBackwardWeight', 'dOut', dOut, batch * outC * P);
  requireLength('conv2dBackwardWeight', 'dw', dw, outC * KK);
  if (dBias) requireLength('conv2dBackwardWeight', 'dBias', dBias, outC);

  const tap = tapTable(g);
  const cols = new Float32Array(KK * P);
  const sums = new Float64Array(outC * KK);
  for (let b = 0; b < batch; b++) {
    const xb = b * inImage;
    for (let p = 0; p < P; p++) {
      for (let q = 0; q < KK; q++) {
        const t = tap[p * KK + q]!;
        cols[q * P + p] = t >= 0 ? x[xb + t]! : 0;
      }
    }
    dotNT(outC, KK, P, dOut, b * outC * P, cols, 0, sums, b > 0);
  }
  for (let i = 0; i < outC * KK; i++) dw[i] = accumulate ? dw[i]! + sums[i]! : sums[i]!;
  if (dBias) {
    for (let oc = 0; oc < outC; oc++) {
      let s = 0;
      for (let b = 0; b < batch; b++) {
        const d = (b * outC + oc) * P;
        for (let p = 0; p < P; p++) s += dOut[d + p]!;
      }
      dBias[oc] = accumulate ? dBias[oc]! + s : s;
    }
  }
}
