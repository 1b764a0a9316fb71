import type { Conv2dGeometry, Pool2dGeometry } from '../../backend/backend.js';
import { makeConv2dGeometry, makePool2dGeometry, type Pair } from '../../backend/geometry.js';
import { getBackend } from '../../backend/registry.js';
import { Tensor, result, shapeToString } from '../tensor.js';

export type { Pair };

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
}

/** The geometry of `conv2d(x [B,C,H,W], w [O,C,kH,kW])`, validating the shapes. */
export function conv2dGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  options: Conv2dOptions = {},
): Conv2dGeometry {
  if (xShape.length !== 4 || wShape.length !== 4 || xShape[1] !== wShape[1]) {
    throw new RangeError(
      `conv2d: input ${shapeToString(xShape)} (NCHW) does not match weight ${shapeToString(wShape)} (OIHW)`,
    );
  }
  const [batch, inC, inH, inW] = xShape as [number, number, number, number];
  const [outC, , kH, kW] = wShape as [number, number, number, number];
  return makeConv2dGeometry({ batch, inC, inH, inW, outC, kernelSize: [kH, kW], ...options });
}

/** 2-D cross-correlation (PyTorch `conv2d`, groups = 1): `out[b,o] = bias[o] + sum_c x[b,c] * w[o,c]`. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const g = conv2dGeometry(x.shape, weight.shape, options);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== g.outC)) {
    throw new RangeError(`conv2d: bias ${shapeToString(bias.shape)} does not match ${g.outC} output channels`);
  }
  const out = new Float32Array(g.batch * g.outC * g.outH * g.outW);
  getBackend().conv2dForward(g, x.values, weight.values, bias ? bias.values : null, out);
  const parents = bias ? [x, weight, bias] : [x, weight];
  return result(out, [g.batch, g.outC, g.outH, g.outW], parents, (dOut) => {
    const backend = getBackend();
    let dx: Float32Array | null = null;
    if (x.requiresGrad) {
      dx = new Float32Array(x.size);
      backend.conv2dBackwardInput(g, dOut, weight.values, dx);
    }
    const needW = weight.requiresGrad || (bias?.requiresGrad ?? false);
    const dw = needW ? new Float32Array(weight.size) : null;
    const db = needW && bias ? new Float32Array(g.outC) : null;
    if (dw) backend.conv2dBackwardWeight(g, x.values, dOut, dw, db, false);
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

export interface Pool2dOptions {
  stride?: Pair;
  padding?: Pair;
}

export function pool2dGeometry(xShape: readonly number[], kernel: Pair, options: Pool2dOptions = {}): Pool2dGeometry {
  if (xShape.length !== 4) throw new RangeError(`pool2d: expected NCHW input, got ${shapeToString(xShape)}`);
  const [batch, channels, inH, inW] = xShape as [number, number, number, number];
  return makePool2dGeometry({ batch, channels, inH, inW, kernelSize: kernel, ...options });
}

/** Max over each window; the gradient goes to the first maximum in row-major window order (PyTorch's tie rule). */
export function maxPool2d(x: Tensor, kernel: Pair, options: Pool2dOptions = {}): Tensor {
  const g = pool2dGeometry(x.shape, kernel, options);
  const n = g.batch * g.channels * g.outH * g.outW;
  const out = new Float32Array(n);
  const argmax = new Int32Array(n);
  getBackend().maxPool2dForward(g, x.values, out, argmax);
  return result(out, [g.batch, g.channels, g.outH, g.outW], [x], (dOut) => {
    const dx = new Float32Array(x.size);
    getBackend().maxPool2dBackward(g, dOut, argmax, dx);
    return [dx];
  });
}

/** Mean over each window (padding counted, PyTorch's default). */
export function avgPool2d(x: Tensor, kernel: Pair, options: Pool2dOptions = {}): Tensor {
  const g = pool2dGeometry(x.shape, kernel, options);
  const out = new Float32Array(g.batch * g.channels * g.outH * g.outW);
  getBackend().avgPool2dForward(g, x.values, out);
  return result(out, [g.batch, g.channels, g.outH, g.outW], [x], (dOut) => {
    const dx = new Float32Array(x.size);
    getBackend().avgPool2dBackward(g, dOut, dx);
    return [dx];
  });
}
