// 2-D pooling over NCHW planes; window (oh, ow) covers ih = oh*sH - pH + [0, kH), iw = ow*sW - pW + [0, kW).
// Max: padding never wins; argmax = ih*inW + iw of the FIRST maximum in row-major window order (PyTorch's CPU rule
// `v > best || isnan(v)`), -1 (and -Infinity) for a window entirely in the padding. Average: padding counts as 0
// in the divisor kH*kW (count_include_pad=true). Planes (b, c) are split across threads.
import { at } from './gemm';
import { shareStart } from './simd';

/** One window's first maximum: candidates in row-major order, a later one wins if larger or NaN (the tie rule). */
// @ts-ignore: decorator
@inline
function wins(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
}

/**
 * The seed network's pool (2x2, stride 2, no padding) on one plane: four outputs at a time, the even and odd input
 * columns of both rows split by shuffles, the comparisons done as lane masks (no branches to mispredict on data).
 */
function maxPool2x2Plane(xp: usize, out: usize, argmax: usize, inW: i32, outH: i32, outW: i32): void {
  const step = i32x4.splat(8);
  const right = i32x4.splat(1);
  const below = i32x4.splat(inW);
  for (let oh = 0; oh < outH; oh++) {
    const r0 = 2 * oh * inW;
    const o = oh * outW;
    let ow = 0;
    let idx = i32x4.add(i32x4.splat(r0), i32x4(0, 2, 4, 6));
    for (; ow + 4 <= outW; ow += 4) {
      const p0 = at(xp, r0 + 2 * ow);
      const p1 = at(xp, r0 + inW + 2 * ow);
      const x0 = v128.load(p0);
      const x1 = v128.load(p0, 16);
      const y0 = v128.load(p1);
      const y1 = v128.load(p1, 16);
      let best = v128.shuffle<f32>(x0, x1, 0, 2, 4, 6);
      let arg = idx;
      let v = v128.shuffle<f32>(x0, x1, 1, 3, 5, 7);
      let m = wins(v, best);
      best = v128.bitselect(v, best, m);
      arg = v128.bitselect(i32x4.add(idx, right), arg, m);
      const lo = i32x4.add(idx, below);
      v = v128.shuffle<f32>(y0, y1, 0, 2, 4, 6);
      m = wins(v, best);
      best = v128.bitselect(v, best, m);
      arg = v128.bitselect(lo, arg, m);
      v = v128.shuffle<f32>(y0, y1, 1, 3, 5, 7);
      m = wins(v, best);
      best = v128.bitselect(v, best, m);
      arg = v128.bitselect(i32x4.add(lo, right), arg, m);
      v128.store(at(out, o + ow), best);
      v128.store(at(argmax, o + ow), arg);
      idx = i32x4.add(idx, step);
    }
    for (; ow < outW; ow++) {
      let i = r0 + 2 * ow;
      let best = load<f32>(at(xp, i));
      let arg = i;
      let v = load<f32>(at(xp, i + 1));
      if (v > best || v != v) { best = v; arg = i + 1; }
      v = load<f32>(at(xp, i + inW));
      if (v > best || v != v) { best = v; arg = i + inW; }
      v = load<f32>(at(xp, i + inW + 1));
      if (v > best || v != v) { best = v; arg = i + inW + 1; }
      store<f32>(at(out, o + ow), best);
      store<i32>(at(argmax, o + ow), arg);
    }
  }
}

export function maxPool2dForward(
  tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, x: usize, out: usize, argmax: usize,
  planes: i32, inH: i32, inW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const pl0 = shareStart(planes, 1, tid, nth);
  const pl1 = shareStart(planes, 1, tid + 1, nth);
  for (let pl = pl0; pl < pl1; pl++) {
    const xp = at(x, pl * inH * inW);
    const base = pl * outH * outW;
    if (kH == 2 && kW == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0) {
      maxPool2x2Plane(xp, at(out, pl * outH * outW), at(argmax, pl * outH * outW), inW, outH, outW);
      continue;
    }
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = max(0, oh * sH - pH);
      const ih1 = min(inH, oh * sH - pH + kH);
      for (let ow = 0; ow < outW; ow++) {
        const iw0 = max(0, ow * sW - pW);
        const iw1 = min(inW, ow * sW - pW + kW);
        const o = base + oh * outW + ow;
        if (ih0 >= ih1 || iw0 >= iw1) {
          store<f32>(at(out, o), -Infinity);
          store<i32>(at(argmax, o), -1);
          continue;
        }
        let best: f32 = -Infinity;
        let arg = ih0 * inW + iw0;
        for (let ih = ih0; ih < ih1; ih++) {
          for (let iw = iw0; iw < iw1; iw++) {
            const v = load<f32>(at(xp, ih * inW + iw));
            if (v > best || v != v) {
              best = v;
              arg = ih * inW + iw;
            }
          }
        }
        store<f32>(at(out, o), best);
        store<i32>(at(argmax, o), arg);
      }
    }
  }
}

/** dx = 0, then dx[plane, argmax] += dOut (overlapping windows may share an argmax). */
export function maxPool2dBackward(
  tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, dOut: usize, argmax: usize, dx: usize,
  planes: i32, inPlane: i32, outPlane: i32,
): void {
  const pl0 = shareStart(planes, 1, tid, nth);
  const pl1 = shareStart(planes, 1, tid + 1, nth);
  if (pl1 <= pl0) return;
  memory.fill(at(dx, pl0 * inPlane), 0, <usize>((pl1 - pl0) * inPlane) << 2);
  for (let pl = pl0; pl < pl1; pl++) {
    const dxp = at(dx, pl * inPlane);
    const base = pl * outPlane;
    for (let o = 0; o < outPlane; o++) {
      const a = load<i32>(at(argmax, base + o));
      if (a >= 0) store<f32>(at(dxp, a), load<f32>(at(dxp, a)) + load<f32>(at(dOut, base + o)));
    }
  }
}

export function avgPool2dForward(
  tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, x: usize, out: usize,
  planes: i32, inH: i32, inW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const pl0 = shareStart(planes, 1, tid, nth);
  const pl1 = shareStart(planes, 1, tid + 1, nth);
  const inv: f32 = 1 / <f32>(kH * kW);
  for (let pl = pl0; pl < pl1; pl++) {
    const xp = at(x, pl * inH * inW);
    const base = pl * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = max(0, oh * sH - pH);
      const ih1 = min(inH, oh * sH - pH + kH);
      for (let ow = 0; ow < outW; ow++) {
        const iw0 = max(0, ow * sW - pW);
        const iw1 = min(inW, ow * sW - pW + kW);
        let s: f32 = 0;
        for (let ih = ih0; ih < ih1; ih++) {
          for (let iw = iw0; iw < iw1; iw++) s += load<f32>(at(xp, ih * inW + iw));
        }
        store<f32>(at(out, base + oh * outW + ow), s * inv);
      }
    }
  }
}

export function avgPool2dBackward(
  tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, dOut: usize, dx: usize,
  planes: i32, inH: i32, inW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const pl0 = shareStart(planes, 1, tid, nth);
  const pl1 = shareStart(planes, 1, tid + 1, nth);
  if (pl1 <= pl0) return;
  const inPlane = inH * inW;
  memory.fill(at(dx, pl0 * inPlane), 0, <usize>((pl1 - pl0) * inPlane) << 2);
  const inv: f32 = 1 / <f32>(kH * kW);
  for (let pl = pl0; pl < pl1; pl++) {
    const dxp = at(dx, pl * inPlane);
    const base = pl * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = max(0, oh * sH - pH);
      const ih1 = min(inH, oh * sH - pH + kH);
      for (let ow = 0; ow < outW; ow++) {
        const iw0 = max(0, ow * sW - pW);
        const iw1 = min(inW, ow * sW - pW + kW);
        const g = load<f32>(at(dOut, base + oh * outW + ow)) * inv;
        for (let ih = ih0; ih < ih1; ih++) {
          for (let iw = iw0; iw < iw1; iw++) {
            const p = at(dxp, ih * inW + iw);
            store<f32>(p, load<f32>(p) + g);
          }
        }
      }
    }
  }
}
