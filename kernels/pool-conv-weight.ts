// Weight gradient of a convolution followed by a max-pool, from the pool's gradient. Only the argmax position of
// each pooling window has a nonzero conv-output gradient, so instead of a dense product over every output pixel
// (of which 3/4 are zero for a 2x2 pool, more where a ReLU after the pool is off) each nonzero pooled gradient g at
// (b, o, argmax (oh, ow)) adds one input patch:
//   dW[o, c, kh, kw] += g * x[b, c, oh*sH - pH + kh, ow*sW - pW + kw]      dBias[o] += g
// Threads split the output channels, so each owns its rows of dW and nothing is reduced across threads. Per channel
// o the nonzero entries of the whole batch are listed once (gradient, patch offset from a per-position table: no
// division per entry), then every (c, group of 5 kernel rows) sweeps the list with ten f32x4 registers (two per
// row: kW <= 8 taps), flushed every FLUSH entries so that no float32 register sums more than FLUSH terms. (Blocking
// the images so that their x stays in L1, with the accumulators in memory, measured no faster.) Patches that touch
// the padding, or wider than 8 taps, go the scalar way.
import { at } from './gemm';
import { madd, roundUp, shareStart } from './simd';

/** Entries summed in registers before they are added to the per-row partial sums (bounds the rounding error). */
const FLUSH: i32 = 256;

/** Per-thread scratch: 5 rows x 8 floats of partial sums, the patch table, the entry list (gradients, offsets). */
export function poolConvBackwardWeightWorkspace(batch: i32, pooled: i32, convPlane: i32): i32 {
  return 5 * 8 * 4 + (roundUp(convPlane, 16) << 2) + ((batch * pooled) << 3);
}

/** Marks a conv-output position whose patch touches the padding (or a kernel wider than 8): the scalar path. */
const SCALAR: i32 = i32.MIN_VALUE;

/** acc[r*8 .. r*8+8) += sum_j g_j * x[xr + offs_j + r*ld .. +8) for r < 5, over entries [j0, j1). */
function rows5(xr: usize, ld: usize, gs: usize, offs: usize, j0: i32, j1: i32, acc: usize): void {
  let a0 = v128.load(acc), a1 = v128.load(acc, 16), a2 = v128.load(acc, 32), a3 = v128.load(acc, 48);
  let a4 = v128.load(acc, 64), a5 = v128.load(acc, 80), a6 = v128.load(acc, 96), a7 = v128.load(acc, 112);
  let a8 = v128.load(acc, 128), a9 = v128.load(acc, 144);
  for (let j = j0; j < j1; j++) {
    const g = v128.load32_splat(at(gs, j));
    const p0 = xr + (<usize>load<i32>(at(offs, j)) << 2);
    a0 = madd(g, v128.load(p0), a0);
    a1 = madd(g, v128.load(p0, 16), a1);
    const p1 = p0 + ld;
    a2 = madd(g, v128.load(p1), a2);
    a3 = madd(g, v128.load(p1, 16), a3);
    const p2 = p1 + ld;
    a4 = madd(g, v128.load(p2), a4);
    a5 = madd(g, v128.load(p2, 16), a5);
    const p3 = p2 + ld;
    a6 = madd(g, v128.load(p3), a6);
    a7 = madd(g, v128.load(p3, 16), a7);
    const p4 = p3 + ld;
    a8 = madd(g, v128.load(p4), a8);
    a9 = madd(g, v128.load(p4, 16), a9);
  }
  v128.store(acc, a0);
  v128.store(acc, a1, 16);
  v128.store(acc, a2, 32);
  v128.store(acc, a3, 48);
  v128.store(acc, a4, 64);
  v128.store(acc, a5, 80);
  v128.store(acc, a6, 96);
  v128.store(acc, a7, 112);
  v128.store(acc, a8, 128);
  v128.store(acc, a9, 144);
}

/** One kernel row: acc[0 .. 8) += sum_j g_j * x[xr + offs_j .. +8). */
function rows1(xr: usize, gs: usize, offs: usize, j0: i32, j1: i32, acc: usize): void {
  let a0 = v128.load(acc), a1 = v128.load(acc, 16);
  for (let j = j0; j < j1; j++) {
    const g = v128.load32_splat(at(gs, j));
    const p0 = xr + (<usize>load<i32>(at(offs, j)) << 2);
    a0 = madd(g, v128.load(p0), a0);
    a1 = madd(g, v128.load(p0, 16), a1);
  }
  v128.store(acc, a0);
  v128.store(acc, a1, 16);
}

/** The equation itself for one patch, with bounds (padding reads zero): dW_o[c, kh, kw] += g * x_b[c, ih, iw]. */
function scalarPatch(
  xb: usize, dwo: usize, g: f32, ih0: i32, iw0: i32, inC: i32, inH: i32, inW: i32, kH: i32, kW: i32,
): void {
  for (let c = 0; c < inC; c++) {
    const plane = at(xb, c * inH * inW);
    for (let kh = 0; kh < kH; kh++) {
      const ih = ih0 + kh;
      if (ih < 0 || ih >= inH) continue;
      const row = at(dwo, (c * kH + kh) * kW);
      for (let kw = 0; kw < kW; kw++) {
        const iw = iw0 + kw;
        if (iw < 0 || iw >= inW) continue;
        store<f32>(at(row, kw), load<f32>(at(row, kw)) + g * load<f32>(at(plane, ih * inW + iw)));
      }
    }
  }
}

export function poolConvBackwardWeight(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, x: usize, dPool: usize, argmax: usize, dw: usize,
  dBias: usize, accumulate: bool, batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32, pooled: i32,
): void {
  const o0 = shareStart(outC, 1, tid, nth);
  const o1 = shareStart(outC, 1, tid + 1, nth);
  if (o1 <= o0) return;
  const acc = wsBase + <usize>tid * wsStride;
  const patch = acc + 5 * 8 * 4;
  const gs = at(patch, roundUp(outH * outW, 16));
  const offs = at(gs, batch * pooled);
  const plane = inH * inW;
  const image = inC * plane;
  const taps = kH * kW;
  // patch[a]: offset in an image of the top-left tap of conv-output position a
  for (let oh = 0; oh < outH; oh++) {
    const ih0 = oh * sH - pH;
    for (let ow = 0; ow < outW; ow++) {
      const iw0 = ow * sW - pW;
      const inside = kW <= 8 && ih0 >= 0 && iw0 >= 0 && ih0 + kH <= inH && iw0 + kW <= inW;
      store<i32>(at(patch, oh * outW + ow), inside ? ih0 * inW + iw0 : SCALAR);
    }
  }
  // the fast path reads 8 floats from the patch's leftmost tap of each row: the last row must not run off x
  const limit = batch * image - ((inC - 1) * plane + (kH - 1) * inW + 8);
  const ld = <usize>inW << 2;
  for (let o = o0; o < o1; o++) {
    const dwo = at(dw, o * inC * taps);
    if (!accumulate) memory.fill(dwo, 0, <usize>(inC * taps) << 2);
    let n = 0;
    let bsum: f64 = 0;
    for (let b = 0; b < batch; b++) {
      const base = (b * outC + o) * pooled;
      const xb = b * image;
      for (let q = 0; q < pooled; q++) {
        const g = load<f32>(at(dPool, base + q));
        const a = load<i32>(at(argmax, base + q));
        if (g == 0 || a < 0) continue;
        bsum += <f64>g;
        const rel = load<i32>(at(patch, a));
        if (rel != SCALAR && xb + rel <= limit) {
          store<f32>(at(gs, n), g);
          store<i32>(at(offs, n), xb + rel);
          n++;
        } else {
          const oh = a / outW;
          const ow = a - oh * outW;
          scalarPatch(at(x, xb), dwo, g, oh * sH - pH, ow * sW - pW, inC, inH, inW, kH, kW);
        }
      }
    }
    if (dBias != 0) {
      const pb = at(dBias, o);
      store<f32>(pb, <f32>((accumulate ? <f64>load<f32>(pb) : 0) + bsum));
    }
    if (n == 0) continue;
    for (let c = 0; c < inC; c++) {
      for (let kh0 = 0; kh0 < kH; kh0 += 5) {
        const rows = min(5, kH - kh0);
        const xr = at(x, c * plane + kh0 * inW);
        memory.fill(acc, 0, <usize>(rows * 8) << 2);
        for (let j0 = 0; j0 < n; j0 += FLUSH) {
          const j1 = min(n, j0 + FLUSH);
          if (rows == 5) rows5(xr, ld, gs, offs, j0, j1, acc);
          else for (let r = 0; r < rows; r++) rows1(xr + <usize>r * ld, gs, offs, j0, j1, at(acc, r * 8));
        }
        for (let r = 0; r < rows; r++) {
          const dst = at(dwo, (c * kH + kh0 + r) * kW);
          for (let kw = 0; kw < kW; kw++) {
            store<f32>(at(dst, kw), load<f32>(at(dst, kw)) + load<f32>(at(acc, r * 8 + kw)));
          }
        }
      }
    }
  }
}
