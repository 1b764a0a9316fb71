import type { Pool2dGeometry } from '../backend.js';
import { KernelArgumentError, requireCount, requireLength } from './check.js';

/*
 * 2-D pooling over NCHW, window (oh, ow) covering ih = oh*strideH - padH + [0, kH), iw = ow*strideW - padW + [0, kW).
 * Max: padding reads -Infinity; the argmax is the flat index ih*inW + iw in the (b,c) input plane of the FIRST
 * maximum in row-major window order (PyTorch's CPU rule `val > max || isnan(val)`: a later equal value never wins,
 * a NaN always does). Ties are the norm on 0/1 spike maps, so this rule decides where the gradient goes.
 * Average: padding reads 0 and counts in the divisor (`count_include_pad=true`): out = sum / (kH*kW).
 */

function checkGeometry(kernel: string, g: Pool2dGeometry): void {
  for (const f of ['batch', 'channels', 'inH', 'inW', 'padH', 'padW', 'outH', 'outW'] as const) {
    requireCount(kernel, `g.${f}`, g[f]);
  }
  for (const f of ['kH', 'kW', 'strideH', 'strideW'] as const) {
    if (!(Number.isInteger(g[f]) && g[f] >= 1)) {
      throw new KernelArgumentError(
        `reference.${kernel} (src/backend/reference): g.${f} must be a positive integer, got ${g[f]}`,
      );
    }
  }
}

export function maxPool2dForward(g: Pool2dGeometry, x: Float32Array, out: Float32Array, argmax: Int32Array): void {
  const { batch, channels, inH, inW, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  checkGeometry('maxPool2dForward', g);
  const planes = batch * channels;
  requireLength('maxPool2dForward', 'x', x, planes * inH * inW);
  requireLength('maxPool2dForward', 'out', out, planes * outH * outW);
  requireLength('maxPool2dForward', 'argmax', argmax, planes * outH * outW);

  for (let pl = 0; pl < planes; pl++) {
    const xPlane = pl * inH * inW;
    for (let oh = 0; oh < outH; oh++) {
      // Clip the window to the image: the padding is -Infinity and can never be a strict maximum.
      const ih0 = Math.max(0, oh * strideH - padH);
      const ih1 = Math.min(inH, oh * strideH - padH + kH);
      for (let ow = 0; ow < outW; ow++) {
        const iw0 = Math.max(0, ow * strideW - padW);
        const iw1 = Math.min(inW, ow * strideW - padW + kW);
        const o = (pl * outH + oh) * outW + ow;
        if (ih0 >= ih1 || iw0 >= iw1) {
          out[o] = -Infinity;
          argmax[o] = -1;
          continue;
        }
        // Like PyTorch, start at the first in-image position, so an all -Infinity window still names a real input.
        let best = -Infinity;
        let at = ih0 * inW + iw0;
        for (let ih = ih0; ih < ih1; ih++) {
          const row = ih * inW;
          for (let iw = iw0; iw < iw1; iw++) {
            const v = x[xPlane + row + iw]!;
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = row + iw;
            }
          }
        }
        out[o] = best;
        argmax[o] = at;
      }
    }
  }
}

export function maxPool2dBackward(g: Pool2dGeometry, dOut: Float32Array, argmax: Int32Array, dx: Float32Array): void {
  const { batch, channels, inH, inW, outH, outW } = g;
  checkGeometry('maxPool2dBackward', g);
  const planes = batch * channels;
  const inPlane = inH * inW;
  const outPlane = outH * outW;
  requireLength('maxPool2dBackward', 'dOut', dOut, planes * outPlane);
  requireLength('maxPool2dBackward', 'argmax', argmax, planes * outPlane);
  requireLength('maxPool2dBackward', 'dx', dx, planes * inPlane);

  dx.fill(0, 0, planes * inPlane);
  for (let pl = 0; pl < planes; pl++) {
    const xPlane = pl * inPlane;
    const oPlane = pl * outPlane;
    for (let o = 0; o < outPlane; o++) {
      const at = argmax[oPlane + o]!;
      // Overlapping windows may share an argmax: their gradients add.
      if (at >= 0) dx[xPlane + at] = dx[xPlane + at]! + dOut[oPlane + o]!;
    }
  }
}

export function avgPool2dForward(g: Pool2dGeometry, x: Float32Array, out: Float32Array): void {
  const { batch, channels, inH, inW, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  checkGeometry('avgPool2dForward', g);
  const planes = batch * channels;
  requireLength('avgPool2dForward', 'x', x, planes * inH * inW);
  requireLength('avgPool2dForward', 'out', out, planes * outH * outW);

  const div = kH * kW;
  for (let pl = 0; pl < planes; pl++) {
    const xPlane = pl * inH * inW;
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = Math.max(0, oh * strideH - padH);
      const ih1 = Math.min(inH, oh * strideH - padH + kH);
      for (let ow = 0; ow < outW; ow++) {
        const iw0 = Math.max(0, ow * strideW - padW);
        const iw1 = Math.min(inW, ow * strideW - padW + kW);
        let s = 0;
        for (let ih = ih0; ih < ih1; ih++) {
          const row = xPlane + ih * inW;
          for (let iw = iw0; iw < iw1; iw++) s += x[row + iw]!;
        }
        out[(pl * outH + oh) * outW + ow] = s / div;
      }
    }
  }
}

export function avgPool2dBackward(g: Pool2dGeometry, dOut: Float32Array, dx: Float32Array): void {
  const { batch, channels, inH, inW, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  checkGeometry('avgPool2dBackward', g);
  const planes = batch * channels;
  const inPlane = inH * inW;
  requireLength('avgPool2dBackward', 'dOut', dOut, planes * outH * outW);
  requireLength('avgPool2dBackward', 'dx', dx, planes * inPlane);

  const div = kH * kW;
  const acc = new Float64Array(inPlane);
  for (let pl = 0; pl < planes; pl++) {
    acc.fill(0);
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = Math.max(0, oh * strideH - padH);
      const ih1 = Math.min(inH, oh * strideH - padH + kH);
      for (let ow = 0; ow < outW; ow++) {
        const iw0 = Math.max(0, ow * strideW - padW);
        const iw1 = Math.min(inW, ow * strideW - padW + kW);
        const gv = dOut[(pl * outH + oh) * outW + ow]! / div;
        for (let ih = ih0; ih < ih1; ih++) {
          const row = ih * inW;
          for (let iw = iw0; iw < iw1; iw++) acc[row + iw]! += gv;
        }
      }
    }
    dx.set(acc, pl * inPlane);
  }
}
