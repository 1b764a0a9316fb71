// A spike convolution fused with the max-pool that reads its output, bit for bit the two kernels in sequence:
//   out, argmax = maxPool2dForward(pool, spikeConv2dForward(conv, x, w, bias))
// Each thread convolves one image into its scratch (position-major [P, oc4], ./sparse-conv-forward.ts) and pools it
// from cache into out/argmax: the conv output never goes to memory (for the seed conv2 it is 4x the pooled output,
// and the unfused pool took longer re-reading it than the convolution took computing it).
// Pooling runs on 4 channels per f32x4 with the rule of ./pool.ts in every lane: a value wins when v > best or v is
// NaN, so the argmax is ih*inW + iw of the first maximum in row-major window order (-Infinity and -1 for a window
// entirely in the padding). The 2x2 stride-2 pool without padding has its own loop; any other geometry the general one.
import { at } from './gemm';
import { claim, roundUp } from './simd';
import { offConvTOf, offPooled, prepareSpikeConv, r16, spikeConvImage, storeChannelMajor } from './sparse-conv-forward';

/** pv/pa [outH*outW, oc4]: max and argmax of the 2x2 windows at stride 2 of convT [inH*inW, oc4]. */
function pool2x2(convT: usize, oc4: i32, inW: i32, outH: i32, outW: i32, pv: usize, pa: usize): void {
  const rowBytes = <usize>oc4 << 2;
  const down = <usize>inW * rowBytes;
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const i = 2 * oh * inW + 2 * ow;
      const r0 = convT + <usize>i * rowBytes;
      const i0 = i32x4.splat(i);
      const i1 = i32x4.splat(i + 1);
      const i2 = i32x4.splat(i + inW);
      const i3 = i32x4.splat(i + inW + 1);
      const q = <usize>(oh * outW + ow) * rowBytes;
      for (let j: usize = 0; j < rowBytes; j += 16) {
        let best = v128.load(r0 + j);
        let v = v128.load(r0 + rowBytes + j);
        let m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, m);
        let arg = v128.bitselect(i1, i0, m);
        v = v128.load(r0 + down + j);
        m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, m);
        arg = v128.bitselect(i2, arg, m);
        v = v128.load(r0 + down + rowBytes + j);
        m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, m);
        arg = v128.bitselect(i3, arg, m);
        v128.store(pv + q + j, best);
        v128.store(pa + q + j, arg);
      }
    }
  }
}

/** pv/pa [outH*outW, oc4] for any window: clipped to the image, from -Infinity and the first in-image position. */
function poolWindows(
  convT: usize, oc4: i32, inH: i32, inW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  outH: i32, outW: i32, pv: usize, pa: usize,
): void {
  const rowBytes = <usize>oc4 << 2;
  for (let oh = 0; oh < outH; oh++) {
    const ih0 = max(0, oh * sH - pH);
    const ih1 = min(inH, oh * sH - pH + kH);
    for (let ow = 0; ow < outW; ow++) {
      const iw0 = max(0, ow * sW - pW);
      const iw1 = min(inW, ow * sW - pW + kW);
      const q = <usize>(oh * outW + ow) * rowBytes;
      if (ih0 >= ih1 || iw0 >= iw1) {
        for (let j: usize = 0; j < rowBytes; j += 16) {
          v128.store(pv + q + j, f32x4.splat(-Infinity));
          v128.store(pa + q + j, i32x4.splat(-1));
        }
        continue;
      }
      for (let j: usize = 0; j < rowBytes; j += 16) {
        let best = f32x4.splat(-Infinity);
        let arg = i32x4.splat(ih0 * inW + iw0);
        for (let ih = ih0; ih < ih1; ih++) {
          for (let iw = iw0; iw < iw1; iw++) {
            const i = ih * inW + iw;
            const v = v128.load(convT + <usize>i * rowBytes + j);
            const m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, m);
            arg = v128.bitselect(i32x4.splat(i), arg, m);
          }
        }
        v128.store(pv + q + j, best);
        v128.store(pa + q + j, arg);
      }
    }
  }
}

/** Bytes of scratch per thread: the spike conv forward's, plus the pooled values and argmax of one image. */
export function spikeConv2dPoolWorkspace(
  inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32, outH: i32, outW: i32, pooled: i32,
): i32 {
  const ckk = inC * kH * kW;
  const oc4 = roundUp(outC, 4);
  return (offPooled(ckk, oc4, outH * outW, inH * inW, kH * kW) + 2 * r16(pooled * oc4)) << 2;
}

/**
 * The conv geometry as spikeConv2dForward's, then the pool's window (pkH, pkW), stride, padding and output size;
 * the pool reads [batch, outC, outH, outW]. Threads claim images one at a time from the counter at `next`.
 */
export function spikeConv2dPoolForward(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, next: usize, x: usize, w: usize, bias: usize, out: usize, argmax: usize,
  batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
  pkH: i32, pkW: i32, psH: i32, psW: i32, ppH: i32, ppW: i32, pOutH: i32, pOutW: i32,
): void {
  const ws = wsBase + <usize>tid * wsStride;
  const np = outH * outW;
  const pooled = pOutH * pOutW;
  const ckk = inC * kH * kW;
  const oc4 = roundUp(outC, 4);
  prepareSpikeConv(ws, w, bias, inC, inH, inW, outC, kH, kW, sH, sW, pH, pW, outH, outW);
  const convT = at(ws, offConvTOf(inC, outC, kH, kW));
  const pv = at(ws, offPooled(ckk, oc4, np, inH * inW, kH * kW));
  const pa = at(pv, r16(pooled * oc4));
  const fast = pkH == 2 && pkW == 2 && psH == 2 && psW == 2 && ppH == 0 && ppW == 0;
  for (let b = claim(next); b < batch; b = claim(next)) {
    spikeConvImage(ws, at(x, b * inC * inH * inW), bias != 0, inC, inH, inW, outC, kH, kW, np);
    if (fast) pool2x2(convT, oc4, outW, pOutH, pOutW, pv, pa);
    else poolWindows(convT, oc4, outH, outW, pkH, pkW, psH, psW, ppH, ppW, pOutH, pOutW, pv, pa);
    storeChannelMajor(pv, pooled, oc4, outC, at(out, b * outC * pooled));
    storeChannelMajor(pa, pooled, oc4, outC, at(argmax, b * outC * pooled));
  }
}
