// Backward-input of a convolution followed by a max-pool, from the pool's gradient: only the argmax position of
// each pooling window has a nonzero conv-output gradient, so instead of a dense transposed convolution over every
// output pixel (of which 3/4 are zero for a 2x2 pool) each pooled gradient g at (o, argmax (oh, ow)) adds
// g * W[o, :, kh, kw] to dX[:, oh*sH - pH + kh, ow*sW - pW + kw] (the equation of conv2dBackwardInput restricted to
// the nonzero rows). Per image: dX is accumulated channel-last, [inH*inW, inC4], so each (kh, kw) tap is a run of
// inC4/4 f32x4 multiply-adds, with the weights transposed once to [outC, kH, kW, inC4]; then written back NCHW.
// Threads split the batch. The sum over taps runs in (o, pooled position, kh, kw) order.
import { at } from './gemm';
import { madd, roundUp, shareStart } from './simd';

export function poolConvBackwardInputWorkspace(inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32): i32 {
  const c4 = roundUp(inC, 4);
  return (outC * kH * kW * c4 + inH * inW * c4) << 2;
}

export function poolConvBackwardInput(
  tid: i32,
  nth: i32,
  wsBase: usize,
  wsStride: usize,
  dPool: usize,
  argmax: usize,
  w: usize,
  dx: usize,
  batch: i32,
  inC: i32,
  inH: i32,
  inW: i32,
  outC: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  pH: i32,
  pW: i32,
  outW: i32,
  pooled: i32,
): void {
  const b0 = shareStart(batch, 1, tid, nth);
  const b1 = shareStart(batch, 1, tid + 1, nth);
  if (b1 <= b0) return;
  const c4 = roundUp(inC, 4);
  const taps = kH * kW;
  const wt = wsBase + <usize>tid * wsStride;
  const acc = at(wt, outC * taps * c4);
  // wt[o, kh, kw, c] = w[o, c, kh, kw], channels padded with zeros to c4
  for (let o = 0; o < outC; o++) {
    for (let k = 0; k < taps; k++) {
      const row = at(wt, (o * taps + k) * c4);
      for (let c = 0; c < c4; c++) store<f32>(at(row, c), c < inC ? load<f32>(at(w, (o * inC + c) * taps + k)) : 0);
    }
  }
  const plane = inH * inW;
  for (let b = b0; b < b1; b++) {
    memory.fill(acc, 0, (<usize>(plane * c4)) << 2);
    for (let o = 0; o < outC; o++) {
      const base = (b * outC + o) * pooled;
      for (let q = 0; q < pooled; q++) {
        const g = load<f32>(at(dPool, base + q));
        const a = load<i32>(at(argmax, base + q));
        if (g == 0 || a < 0) continue;
        const gv = f32x4.splat(g);
        const oh = a / outW;
        const ow = a - oh * outW;
        if (sW == 1 && pW == 0 && pH == 0) {
          // valid convolution, unit column stride: each kernel row is one contiguous run of kW*c4 floats
          const run = kW * c4;
          for (let kh = 0; kh < kH; kh++) {
            const dst = at(acc, ((oh * sH + kh) * inW + ow) * c4);
            const src = at(wt, (o * kH + kh) * run);
            for (let c = 0; c < run; c += 4) {
              v128.store(at(dst, c), madd(gv, v128.load(at(src, c)), v128.load(at(dst, c))));
            }
          }
          continue;
        }
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * sH - pH + kh;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * sW - pW + kw;
            if (iw < 0 || iw >= inW) continue;
            const dst = at(acc, (ih * inW + iw) * c4);
            const src = at(wt, ((o * kH + kh) * kW + kw) * c4);
            for (let c = 0; c < c4; c += 4) {
              v128.store(at(dst, c), madd(gv, v128.load(at(src, c)), v128.load(at(dst, c))));
            }
          }
        }
      }
    }
    const out = at(dx, b * inC * plane);
    for (let c = 0; c < inC; c++) {
      for (let p = 0; p < plane; p++) store<f32>(at(out, c * plane + p), load<f32>(at(acc, p * c4 + c)));
    }
  }
}
