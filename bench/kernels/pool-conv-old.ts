// Benchmark-only: kernels/pool-conv.ts as it was before the pass-based rewrite (commit 5ad0108), the baseline that
// bench/pool-conv.ts measures the current kernel against. Not part of the library build.
// Backward-input of a convolution followed by a max-pool, from the pool's gradient: only the argmax position of
// each pooling window has a nonzero conv-output gradient, so instead of a dense transposed convolution over every
// output pixel (of which 3/4 are zero for a 2x2 pool) each pooled gradient g at (o, argmax (oh, ow)) adds
// g * W[o, :, kh, kw] to dX[:, oh*sH - pH + kh, ow*sW - pW + kw] (the equation of conv2dBackwardInput restricted to
// the nonzero rows). Per image: dX is accumulated channel-last, [inH*inW, inC4], so each (kh, kw) tap is a run of
// inC4/4 f32x4 multiply-adds, with the weights transposed once to [outC, kH, kW, inC4]; then written back NCHW.
// Threads split the batch. The sum over taps runs in (o, pooled position, kh, kw) order.
import { at } from '../../kernels/gemm';
import { madd, roundUp, shareStart } from '../../kernels/simd';

export function poolConvBackwardInputWorkspace(inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32): i32 {
  const c4 = roundUp(inC, 4);
  // weights, dX accumulator, then the per-position lists (starts, cursors, channel ids, gradients) of the fast path
  const positions = inH * inW;
  return (outC * kH * kW * c4 + inH * inW * c4 + 2 * (positions + 1) + 2 * outC * positions) << 2;
}

/**
 * Valid convolution with unit column stride: the pooled gradients of one image are bucketed by their conv-output
 * position (counting sort), then each kernel row of each position accumulates sum_j g_j * W[o_j, :, kh, :] in five
 * f32x4 registers per 20 floats before touching dX once (instead of a load and a store per multiply-add).
 */
function bucketedImage(
  dPool: usize,
  argmax: usize,
  wt: usize,
  acc: usize,
  lists: usize,
  b: i32,
  outC: i32,
  pooled: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  inW: i32,
  c4: i32,
  outW: i32,
  positions: i32,
): void {
  const starts = lists;
  const cursor = at(starts, positions + 1);
  const ids = at(cursor, positions + 1);
  const gs = at(ids, outC * positions);
  memory.fill(starts, 0, (<usize>(positions + 1)) << 2);
  for (let o = 0; o < outC; o++) {
    const base = (b * outC + o) * pooled;
    for (let q = 0; q < pooled; q++) {
      const a = load<i32>(at(argmax, base + q));
      if (a >= 0 && load<f32>(at(dPool, base + q)) != 0)
        store<i32>(at(starts, a + 1), load<i32>(at(starts, a + 1)) + 1);
    }
  }
  for (let p = 0; p < positions; p++) {
    const s = load<i32>(at(starts, p));
    store<i32>(at(starts, p + 1), load<i32>(at(starts, p + 1)) + s);
    store<i32>(at(cursor, p), s);
  }
  for (let o = 0; o < outC; o++) {
    const base = (b * outC + o) * pooled;
    for (let q = 0; q < pooled; q++) {
      const a = load<i32>(at(argmax, base + q));
      const g = load<f32>(at(dPool, base + q));
      if (a < 0 || g == 0) continue;
      const k = load<i32>(at(cursor, a));
      store<i32>(at(cursor, a), k + 1);
      store<i32>(at(ids, k), o);
      store<f32>(at(gs, k), g);
    }
  }
  const run = kW * c4;
  for (let p = 0; p < positions; p++) {
    const s = load<i32>(at(starts, p));
    const e = load<i32>(at(starts, p + 1));
    if (s == e) continue;
    const oh = p / outW;
    const ow = p - oh * outW;
    for (let kh = 0; kh < kH; kh++) {
      const dst = at(acc, ((oh * sH + kh) * inW + ow) * c4);
      let part = 0;
      for (; part + 20 <= run; part += 20) {
        let a0 = f32x4.splat(0),
          a1 = f32x4.splat(0),
          a2 = f32x4.splat(0),
          a3 = f32x4.splat(0),
          a4 = f32x4.splat(0);
        for (let j = s; j < e; j++) {
          const gv = f32x4.splat(load<f32>(at(gs, j)));
          const src = at(wt, (load<i32>(at(ids, j)) * kH + kh) * run + part);
          a0 = madd(gv, v128.load(src), a0);
          a1 = madd(gv, v128.load(src, 16), a1);
          a2 = madd(gv, v128.load(src, 32), a2);
          a3 = madd(gv, v128.load(src, 48), a3);
          a4 = madd(gv, v128.load(src, 64), a4);
        }
        const d = at(dst, part);
        v128.store(d, f32x4.add(v128.load(d), a0));
        v128.store(d, f32x4.add(v128.load(d, 16), a1), 16);
        v128.store(d, f32x4.add(v128.load(d, 32), a2), 32);
        v128.store(d, f32x4.add(v128.load(d, 48), a3), 48);
        v128.store(d, f32x4.add(v128.load(d, 64), a4), 64);
      }
      for (; part < run; part += 4) {
        let a0 = f32x4.splat(0);
        for (let j = s; j < e; j++) {
          const src = at(wt, (load<i32>(at(ids, j)) * kH + kh) * run + part);
          a0 = madd(f32x4.splat(load<f32>(at(gs, j))), v128.load(src), a0);
        }
        const d = at(dst, part);
        v128.store(d, f32x4.add(v128.load(d), a0));
      }
    }
  }
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
  const lists = at(acc, plane * c4);
  const fast = sW == 1 && pW == 0 && pH == 0;
  for (let b = b0; b < b1; b++) {
    memory.fill(acc, 0, (<usize>(plane * c4)) << 2);
    if (fast) {
      bucketedImage(dPool, argmax, wt, acc, lists, b, outC, pooled, kH, kW, sH, inW, c4, outW, plane);
      writeBack(acc, dx, b, inC, plane, c4);
      continue;
    }
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
    writeBack(acc, dx, b, inC, plane, c4);
  }
}

/** dX[b] (NCHW) = the channel-last accumulator. */
function writeBack(acc: usize, dx: usize, b: i32, inC: i32, plane: i32, c4: i32): void {
  const out = at(dx, b * inC * plane);
  for (let c = 0; c < inC; c++) {
    for (let p = 0; p < plane; p++) store<f32>(at(out, c * plane + p), load<f32>(at(acc, p * c4 + c)));
  }
}
