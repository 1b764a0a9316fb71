// Weight gradient of a convolution followed by a max-pool, from the pool's gradient. Only the argmax position of
// each pooling window has a nonzero conv-output gradient, so instead of a dense product over every output pixel
// (of which 3/4 are zero for a 2x2 pool, more where a ReLU after the pool is off) each nonzero pooled gradient g at
// (b, o, argmax (oh, ow)) adds one input patch:
//   dW[o, c, kh, kw] += g * x[b, c, oh*sH - pH + kh, ow*sW - pW + kw]      dBias[o] += g
// Threads take every nth output channel, so each owns its rows of dW (nothing is reduced across threads) and dead
// channels do not pile up on one thread. Per channel o the nonzero entries of the whole batch are listed once
// (gradient, patch offset from a per-position table: no division per entry), then swept in register accumulators,
// flushed every FLUSH entries so that no float32 register sums more than FLUSH terms:
//  - several input channels (inC >= 4): phase 0 copies x channel-last, [b, ih, iw, c], so a kernel row of a patch
//    is one run of kW*inC floats (60 for the seed conv2: 15 vectors, all lanes used, about 4 cache lines) instead
//    of inC runs of kW (12 runs of 5 floats: 24 vectors for 60 values, 12+ lines);
//  - else (e.g. one input channel) straight from NCHW x, two vectors per kernel row (kW <= 8), five rows at once.
// Patches that touch the padding (or, from NCHW, wider than 8 taps) go the scalar way.
import { at } from './gemm';
import { madd, roundUp, shareStart } from './simd';

/** Entries summed in registers before they are added to the per-row partial sums (bounds the rounding error). */
const FLUSH: i32 = 256;

// @ts-ignore: decorator
@inline
function accFloats(inC: i32, kH: i32, kW: i32): i32 {
  return roundUp(max(5 * 8, kH * roundUp(kW * inC, 4)), 16);
}

/** Per-thread scratch: the geometry (16 int32), partial sums, the patch table, the entry list (gradients, offsets). */
export function poolConvBackwardWeightWorkspace(
  batch: i32, pooled: i32, convPlane: i32, inC: i32, kH: i32, kW: i32,
): i32 {
  return (16 + accFloats(inC, kH, kW) + roundUp(convPlane, 16)) * 4 + ((batch * pooled) << 3);
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

// acc[0 .. 4*V) += sum_j g_j * x[xr + offs_j .. + 4*V) for V = 8, 4, 1 vectors (one run of a channel-last row).
function sweep8(xr: usize, gs: usize, offs: usize, j0: i32, j1: i32, acc: usize): void {
  let a0 = v128.load(acc), a1 = v128.load(acc, 16), a2 = v128.load(acc, 32), a3 = v128.load(acc, 48);
  let a4 = v128.load(acc, 64), a5 = v128.load(acc, 80), a6 = v128.load(acc, 96), a7 = v128.load(acc, 112);
  for (let j = j0; j < j1; j++) {
    const g = v128.load32_splat(at(gs, j));
    const p = xr + (<usize>load<i32>(at(offs, j)) << 2);
    a0 = madd(g, v128.load(p), a0);
    a1 = madd(g, v128.load(p, 16), a1);
    a2 = madd(g, v128.load(p, 32), a2);
    a3 = madd(g, v128.load(p, 48), a3);
    a4 = madd(g, v128.load(p, 64), a4);
    a5 = madd(g, v128.load(p, 80), a5);
    a6 = madd(g, v128.load(p, 96), a6);
    a7 = madd(g, v128.load(p, 112), a7);
  }
  v128.store(acc, a0);
  v128.store(acc, a1, 16);
  v128.store(acc, a2, 32);
  v128.store(acc, a3, 48);
  v128.store(acc, a4, 64);
  v128.store(acc, a5, 80);
  v128.store(acc, a6, 96);
  v128.store(acc, a7, 112);
}

function sweep4(xr: usize, gs: usize, offs: usize, j0: i32, j1: i32, acc: usize): void {
  let a0 = v128.load(acc), a1 = v128.load(acc, 16), a2 = v128.load(acc, 32), a3 = v128.load(acc, 48);
  for (let j = j0; j < j1; j++) {
    const g = v128.load32_splat(at(gs, j));
    const p = xr + (<usize>load<i32>(at(offs, j)) << 2);
    a0 = madd(g, v128.load(p), a0);
    a1 = madd(g, v128.load(p, 16), a1);
    a2 = madd(g, v128.load(p, 32), a2);
    a3 = madd(g, v128.load(p, 48), a3);
  }
  v128.store(acc, a0);
  v128.store(acc, a1, 16);
  v128.store(acc, a2, 32);
  v128.store(acc, a3, 48);
}

function sweep1(xr: usize, gs: usize, offs: usize, j0: i32, j1: i32, acc: usize): void {
  let a0 = v128.load(acc);
  for (let j = j0; j < j1; j++) {
    a0 = madd(v128.load32_splat(at(gs, j)), v128.load(xr + (<usize>load<i32>(at(offs, j)) << 2)), a0);
  }
  v128.store(acc, a0);
}

/**
 * Appends entry (g, patch offset) to the list when g != 0 and the window is real (a >= 0): always written, counted
 * only then. A patch that touches the padding is added straight into dW_o by `scalarPatch` (geometry at geo: inC,
 * inH, inW, kH, kW, sH, sW, pH, pW, outW as int32).
 */
// @ts-ignore: decorator
@inline
function append(
  g: f32, a: i32, patch: usize, xb: i32, limit: i32, gs: usize, offs: usize, n: i32, x: usize, dwo: usize,
  geo: usize,
): i32 {
  const rel = load<i32>(at(patch, max(a, 0)));
  store<f32>(at(gs, n), g);
  store<i32>(at(offs, n), xb + rel);
  const real = g != 0 && a >= 0;
  if (real && (rel == SCALAR || xb + rel > limit)) {
    const outW = load<i32>(geo, 36);
    const oh = a / outW;
    const ow = a - oh * outW;
    const ih0 = oh * load<i32>(geo, 20) - load<i32>(geo, 28);
    const iw0 = ow * load<i32>(geo, 24) - load<i32>(geo, 32);
    const inC = load<i32>(geo);
    const inH = load<i32>(geo, 4);
    const inW = load<i32>(geo, 8);
    scalarPatch(at(x, xb), dwo, g, ih0, iw0, inC, inH, inW, load<i32>(geo, 12), load<i32>(geo, 16));
    return n;
  }
  return n + <i32>real;
}

/** Phase 0: xT[b, ih, iw, c] = x[b, c, ih, iw] for the images [b0, b1). */
function channelLast(x: usize, xT: usize, b0: i32, b1: i32, inC: i32, plane: i32): void {
  for (let b = b0; b < b1; b++) {
    const src = at(x, b * inC * plane);
    const dst = at(xT, b * inC * plane);
    for (let c = 0; c < inC; c++) {
      for (let p = 0; p < plane; p++) store<f32>(at(dst, p * inC + c), load<f32>(at(src, c * plane + p)));
    }
  }
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
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, phase: i32, xT: usize, x: usize, dPool: usize,
  argmax: usize, dw: usize, dBias: usize, accumulate: bool, batch: i32, inC: i32, inH: i32, inW: i32, outC: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32, pooled: i32,
): void {
  const plane = inH * inW;
  if (phase == 0) {
    channelLast(x, xT, shareStart(batch, 1, tid, nth), shareStart(batch, 1, tid + 1, nth), inC, plane);
    return;
  }
  const cl = xT != 0;
  const ws = wsBase + <usize>tid * wsStride;
  const geo = ws;
  store<i32>(geo, inC);
  store<i32>(geo, inH, 4);
  store<i32>(geo, inW, 8);
  store<i32>(geo, kH, 12);
  store<i32>(geo, kW, 16);
  store<i32>(geo, sH, 20);
  store<i32>(geo, sW, 24);
  store<i32>(geo, pH, 28);
  store<i32>(geo, pW, 32);
  store<i32>(geo, outW, 36);
  const acc = at(ws, 16);
  const patch = at(acc, accFloats(inC, kH, kW));
  const gs = at(patch, roundUp(outH * outW, 16));
  const offs = at(gs, batch * pooled);
  const image = inC * plane;
  const taps = kH * kW;
  const run = kW * inC; // floats of one channel-last kernel row
  const runPad = roundUp(run, 4);
  // patch[a]: offset in an image (NCHW or channel-last) of the top-left tap of conv-output position a
  for (let oh = 0; oh < outH; oh++) {
    const ih0 = oh * sH - pH;
    for (let ow = 0; ow < outW; ow++) {
      const iw0 = ow * sW - pW;
      const inside = (cl || kW <= 8) && ih0 >= 0 && iw0 >= 0 && ih0 + kH <= inH && iw0 + kW <= inW;
      store<i32>(at(patch, oh * outW + ow), inside ? (ih0 * inW + iw0) * (cl ? inC : 1) : SCALAR);
    }
  }
  // the vector loads read past a patch row's end (up to 8 floats from NCHW, 3 channel-last, where xT is padded
  // by the caller): from NCHW the last row must not run off x
  const limit = cl ? i32.MAX_VALUE : batch * image - ((inC - 1) * plane + (kH - 1) * inW + 8);
  const ld = <usize>inW << 2;
  for (let o = tid; o < outC; o += nth) {
    const dwo = at(dw, o * inC * taps);
    if (!accumulate) memory.fill(dwo, 0, <usize>(inC * taps) << 2);
    let n = 0;
    let bsum: f64 = 0;
    for (let b = 0; b < batch; b++) {
      const base = (b * outC + o) * pooled;
      const xb = b * image;
      // lanes of 4 pooled entries for the bias sum; the list append is branchless (the sign of a ReLU network's
      // gradient is a coin flip for the branch predictor)
      let bv = f32x4.splat(0);
      let q = 0;
      for (; q + 4 <= pooled; q += 4) {
        const gv = v128.load(at(dPool, base + q));
        const av = v128.load(at(argmax, base + q));
        bv = f32x4.add(bv, v128.and(gv, i32x4.ge_s(av, i32x4.splat(0))));
        n = append(f32x4.extract_lane(gv, 0), i32x4.extract_lane(av, 0), patch, xb, limit, gs, offs, n, x, dwo, geo);
        n = append(f32x4.extract_lane(gv, 1), i32x4.extract_lane(av, 1), patch, xb, limit, gs, offs, n, x, dwo, geo);
        n = append(f32x4.extract_lane(gv, 2), i32x4.extract_lane(av, 2), patch, xb, limit, gs, offs, n, x, dwo, geo);
        n = append(f32x4.extract_lane(gv, 3), i32x4.extract_lane(av, 3), patch, xb, limit, gs, offs, n, x, dwo, geo);
      }
      let bs = <f64>f32x4.extract_lane(bv, 0) + <f64>f32x4.extract_lane(bv, 1);
      bs += <f64>f32x4.extract_lane(bv, 2) + <f64>f32x4.extract_lane(bv, 3);
      for (; q < pooled; q++) {
        const g = load<f32>(at(dPool, base + q));
        const a = load<i32>(at(argmax, base + q));
        if (a >= 0) bs += <f64>g;
        n = append(g, a, patch, xb, limit, gs, offs, n, x, dwo, geo);
      }
      bsum += bs;
    }
    if (dBias != 0) {
      const pb = at(dBias, o);
      store<f32>(pb, <f32>((accumulate ? <f64>load<f32>(pb) : 0) + bsum));
    }
    if (n == 0) continue;
    if (cl) {
      // acc[kh][kw*inC + c], one channel-last kernel row after another
      memory.fill(acc, 0, <usize>(kH * runPad) << 2);
      const ldT = <usize>(inW * inC) << 2;
      for (let j0 = 0; j0 < n; j0 += FLUSH) {
        const j1 = min(n, j0 + FLUSH);
        for (let kh = 0; kh < kH; kh++) {
          const xr = xT + <usize>kh * ldT;
          const ar = at(acc, kh * runPad);
          let v = 0;
          for (; v + 32 <= runPad; v += 32) sweep8(at(xr, v), gs, offs, j0, j1, at(ar, v));
          for (; v + 16 <= runPad; v += 16) sweep4(at(xr, v), gs, offs, j0, j1, at(ar, v));
          for (; v < runPad; v += 4) sweep1(at(xr, v), gs, offs, j0, j1, at(ar, v));
        }
      }
      for (let c = 0; c < inC; c++) {
        for (let kh = 0; kh < kH; kh++) {
          const dst = at(dwo, (c * kH + kh) * kW);
          for (let kw = 0; kw < kW; kw++) {
            store<f32>(at(dst, kw), load<f32>(at(dst, kw)) + load<f32>(at(acc, kh * runPad + kw * inC + c)));
          }
        }
      }
      continue;
    }
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
