// 2-D convolution backward (cross-correlation, groups=1, zero padding) on NCHW as per-image GEMMs, CKK =
// inC*kH*kW, P = outH*outW (the forward is in conv-forward.ts):
//   backward-input   dcol[CKK, P]    = W^T . dOut_b[outC, P];  dx_b = col2im(dcol)
//   backward-weight  dW[outC, CKK]  += dOut_b . col_b^T;       dBias[oc] += sum_p dOut_b[oc, p]
// col_b is built per image and per chunk of at most COL_FLOATS floats (a tile that stays in L2), never for the
// whole batch. Images are split across threads; each thread packs W once per call (MODE_PACKED) and reuses it.
// The weight gradient sums into a private buffer per thread, then a second phase adds the partials row by row.
import {
  MODE_COL, MODE_PACKED, MODE_ROW, NR, at, gemmScratchBytes, gemmSerial, packAFull, packedAFloats,
} from './gemm';
import { roundUp, shareStart } from './simd';

const COL_FLOATS: i32 = 65536;

/** Output positions per column chunk: as many as fit COL_FLOATS, a multiple of NR, at least NR. */
// @ts-ignore: decorator
@inline
function pChunk(ckk: i32, p: i32): i32 {
  const fit = max(NR, (COL_FLOATS / max(ckk, 1) / NR) * NR);
  return min(roundUp(p, NR), fit);
}

// @ts-ignore: decorator
@inline
function copyF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), v128.load(at(src, i)));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
}

// @ts-ignore: decorator
@inline
function addF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.add(v128.load(at(dst, i)), v128.load(at(src, i))));
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(dst, i)) + load<f32>(at(src, i)));
}

/**
 * col[ckk, q] = x_b[c, oh*sH - pH + kh, ow*sW - pW + kw] for output positions p = p0 + q, q < np (0 outside the
 * image); rows have stride np. Runs along one output row are contiguous in x when sW = 1.
 */
function im2col(
  xb: usize, inC: i32, inH: i32, inW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  outW: i32, p0: i32, np: i32, col: usize,
): void {
  for (let c = 0; c < inC; c++) {
    const plane = at(xb, c * inH * inW);
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const row = at(col, ((c * kH + kh) * kW + kw) * np);
        let q = 0;
        let oh = p0 / outW;
        let ow = p0 - oh * outW;
        while (q < np) {
          const run = min(np - q, outW - ow);
          const ih = oh * sH - pH + kh;
          const dst = at(row, q);
          if (ih < 0 || ih >= inH) {
            memory.fill(dst, 0, <usize>run << 2);
          } else {
            const src = at(plane, ih * inW);
            const iw0 = ow * sW - pW + kw;
            if (sW == 1 && iw0 >= 0 && iw0 + run <= inW) {
              copyF32(dst, at(src, iw0), run);
            } else {
              for (let r = 0; r < run; r++) {
                const iw = iw0 + r * sW;
                store<f32>(at(dst, r), iw >= 0 && iw < inW ? load<f32>(at(src, iw)) : 0);
              }
            }
          }
          q += run;
          ow = 0;
          oh++;
        }
      }
    }
  }
}

/** dx_b[c, ih, iw] += dcol[ckk, q] for the taps of output positions p0 + q: the adjoint of im2col. */
function col2imAdd(
  dxb: usize, inC: i32, inH: i32, inW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  outW: i32, p0: i32, np: i32, col: usize,
): void {
  for (let c = 0; c < inC; c++) {
    const plane = at(dxb, c * inH * inW);
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const row = at(col, ((c * kH + kh) * kW + kw) * np);
        let q = 0;
        let oh = p0 / outW;
        let ow = p0 - oh * outW;
        while (q < np) {
          const run = min(np - q, outW - ow);
          const ih = oh * sH - pH + kh;
          if (ih >= 0 && ih < inH) {
            const dst = at(plane, ih * inW);
            const src = at(row, q);
            const iw0 = ow * sW - pW + kw;
            if (sW == 1 && iw0 >= 0 && iw0 + run <= inW) {
              addF32(at(dst, iw0), src, run);
            } else {
              for (let r = 0; r < run; r++) {
                const iw = iw0 + r * sW;
                if (iw >= 0 && iw < inW) store<f32>(at(dst, iw), load<f32>(at(dst, iw)) + load<f32>(at(src, r)));
              }
            }
          }
          q += run;
          ow = 0;
          oh++;
        }
      }
    }
  }
}

// Scratch layout (bytes from ws): [gemm scratch | packed W | col chunk | partial dW, partial dBias].
// @ts-ignore: decorator
@inline
function gemmBytesFor(ckk: i32, outC: i32, np: i32): i32 {
  const fwd = gemmScratchBytes(np, ckk);
  const bwdInput = gemmScratchBytes(np, outC);
  const bwdWeight = gemmScratchBytes(ckk, np);
  return roundUp(max(fwd, max(bwdInput, bwdWeight)), 64);
}

// @ts-ignore: decorator
@inline
function packedFloatsFor(ckk: i32, outC: i32): i32 {
  return roundUp(max(packedAFloats(outC, ckk), packedAFloats(ckk, outC)), 16);
}

/** Per-thread scratch bytes of the two backward conv kernels (the layout above). */
export function conv2dWorkspace(inC: i32, outC: i32, kH: i32, kW: i32, outH: i32, outW: i32): i32 {
  const ckk = inC * kH * kW;
  const np = pChunk(ckk, outH * outW);
  return gemmBytesFor(ckk, outC, np) + ((packedFloatsFor(ckk, outC) + roundUp(ckk * np, 16) + outC * ckk + outC) << 2);
}

export function conv2dBackwardInput(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, dOut: usize, w: usize, dx: usize,
  batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const b0 = shareStart(batch, 1, tid, nth);
  const b1 = shareStart(batch, 1, tid + 1, nth);
  if (b1 <= b0) return;
  const ws = wsBase + <usize>tid * wsStride;
  const ckk = inC * kH * kW;
  const p = outH * outW;
  const np = pChunk(ckk, p);
  const packedW = ws + <usize>gemmBytesFor(ckk, outC, np);
  const col = at(packedW, packedFloatsFor(ckk, outC));
  // W^T: W is stored [outC, CKK] = [K, M] of the product, i.e. the transposed (COL) layout.
  packAFull(MODE_COL, w, ckk, ckk, outC, packedW);
  const inPlanes = inC * inH * inW;
  for (let b = b0; b < b1; b++) {
    const dxb = at(dx, b * inPlanes);
    memory.fill(dxb, 0, <usize>inPlanes << 2);
    const gb = at(dOut, b * outC * p);
    for (let q0 = 0; q0 < p; q0 += np) {
      const n = min(np, p - q0);
      gemmSerial(MODE_PACKED, packedW, outC, MODE_ROW, at(gb, q0), p, ckk, n, outC, 1, col, n, false, ws);
      col2imAdd(dxb, inC, inH, inW, kH, kW, sH, sW, pH, pW, outW, q0, n, col);
    }
  }
}

/**
 * Phase 0: thread tid sums dOut_b . col_b^T over its images into its private partial (and the bias partial).
 * Phase 1: thread tid owns a range of dW rows and adds every thread's partial into them (dBias on thread 0).
 */
export function conv2dBackwardWeight(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, phase: i32, x: usize, dOut: usize, dw: usize, dBias: usize,
  accumulate: bool, batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, outH: i32, outW: i32,
): void {
  const ckk = inC * kH * kW;
  const p = outH * outW;
  const np = pChunk(ckk, p);
  const ws = wsBase + <usize>tid * wsStride;
  const colOffset = <usize>gemmBytesFor(ckk, outC, np) + (<usize>packedFloatsFor(ckk, outC) << 2);
  const partOffset = colOffset + (<usize>roundUp(ckk * np, 16) << 2);
  if (phase == 0) {
    const col = ws + colOffset;
    const part = ws + partOffset;
    const partBias = at(part, outC * ckk);
    memory.fill(part, 0, <usize>(outC * ckk + outC) << 2);
    const b0 = shareStart(batch, 1, tid, nth);
    const b1 = shareStart(batch, 1, tid + 1, nth);
    for (let b = b0; b < b1; b++) {
      const xb = at(x, b * inC * inH * inW);
      const gb = at(dOut, b * outC * p);
      for (let q0 = 0; q0 < p; q0 += np) {
        const n = min(np, p - q0);
        im2col(xb, inC, inH, inW, kH, kW, sH, sW, pH, pW, outW, q0, n, col);
        gemmSerial(MODE_ROW, at(gb, q0), p, MODE_COL, col, n, outC, ckk, n, 1, part, ckk, true, ws);
      }
      for (let oc = 0; oc < outC; oc++) {
        const row = at(gb, oc * p);
        let s = f32x4.splat(0);
        let i = 0;
        for (; i + 4 <= p; i += 4) s = f32x4.add(s, v128.load(at(row, i)));
        let t = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
        for (; i < p; i++) t += load<f32>(at(row, i));
        store<f32>(at(partBias, oc), load<f32>(at(partBias, oc)) + t);
      }
    }
    return;
  }
  // Phase 1: rows [r0, r1) of dW; dBias is reduced by thread 0.
  const r0 = shareStart(outC, 1, tid, nth);
  const r1 = shareStart(outC, 1, tid + 1, nth);
  const first = wsBase + partOffset;
  for (let r = r0; r < r1; r++) {
    const dst = at(dw, r * ckk);
    if (accumulate) addF32(dst, at(first, r * ckk), ckk);
    else copyF32(dst, at(first, r * ckk), ckk);
    for (let t = 1; t < nth; t++) addF32(dst, at(first + <usize>t * wsStride, r * ckk), ckk);
  }
  if (tid == 0 && dBias != 0) {
    const firstBias = at(first, outC * ckk);
    if (accumulate) addF32(dBias, firstBias, outC);
    else copyF32(dBias, firstBias, outC);
    for (let t = 1; t < nth; t++) addF32(dBias, at(firstBias + <usize>t * wsStride, 0), outC);
  }
}
