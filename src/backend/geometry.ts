import type { Conv2dGeometry, Pool2dGeometry } from './backend.js';

/** A size given once for both spatial axes (`3`) or per axis (`[kH, kW]`), like PyTorch's `_pair`. */
export type Pair = number | readonly [number, number];

/** Thrown when a convolution or pooling geometry is impossible; the message names the builder, field and value. */
export class GeometryError extends RangeError {
  override name = 'GeometryError';
}

/** PyTorch's output size without dilation and with `ceil_mode=false`: `floor((in + 2*pad - k) / stride) + 1`. */
export function conv2dOutputSize(inSize: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((inSize + 2 * pad - kernel) / stride) + 1;
}

function pair(where: string, field: string, v: Pair): [number, number] {
  const [h, w] = typeof v === 'number' ? [v, v] : v;
  if (!Number.isInteger(h) || !Number.isInteger(w)) {
    throw new GeometryError(`${where}: ${field} must be an integer or a pair of integers, got ${String(v)}`);
  }
  return [h, w];
}

function positive(where: string, field: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new GeometryError(`${where}: ${field} must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(where: string, field: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new GeometryError(`${where}: ${field} must be an integer >= 0, got ${v}`);
  return v;
}

function outputSize(where: string, axis: 'H' | 'W', inSize: number, k: number, s: number, p: number): number {
  const out = conv2dOutputSize(inSize, k, s, p);
  if (out < 1) {
    throw new GeometryError(
      `${where}: kernel ${k} does not fit input size ${inSize} with padding ${p} on axis ${axis} (output size ${out})`,
    );
  }
  return out;
}

export interface Conv2dGeometryOptions {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  kernelSize: Pair;
  /** Default 1. */
  stride?: Pair;
  /** Zero padding on each side; default 0. */
  padding?: Pair;
}

/** Builds and validates a `Conv2dGeometry` (groups=1, no dilation), computing `outH`/`outW` like PyTorch. */
export function makeConv2dGeometry(o: Conv2dGeometryOptions): Conv2dGeometry {
  const where = 'makeConv2dGeometry (src/backend/geometry.ts)';
  const batch = nonNegative(where, 'batch', o.batch);
  const inC = positive(where, 'inC', o.inC);
  const inH = positive(where, 'inH', o.inH);
  const inW = positive(where, 'inW', o.inW);
  const outC = positive(where, 'outC', o.outC);
  const [kH, kW] = pair(where, 'kernelSize', o.kernelSize);
  const [strideH, strideW] = pair(where, 'stride', o.stride ?? 1);
  const [padH, padW] = pair(where, 'padding', o.padding ?? 0);
  positive(where, 'kernelSize', kH);
  positive(where, 'kernelSize', kW);
  positive(where, 'stride', strideH);
  positive(where, 'stride', strideW);
  nonNegative(where, 'padding', padH);
  nonNegative(where, 'padding', padW);
  const outH = outputSize(where, 'H', inH, kH, strideH, padH);
  const outW = outputSize(where, 'W', inW, kW, strideW, padW);
  return { batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, outH, outW };
}

export interface Pool2dGeometryOptions {
  batch: number;
  channels: number;
  inH: number;
  inW: number;
  kernelSize: Pair;
  /** Default: the kernel size (PyTorch's `stride=None`). */
  stride?: Pair;
  /** Implicit padding on each side (-Infinity for max, 0 for average); at most half the kernel, as in PyTorch. */
  padding?: Pair;
}

/** Builds and validates a `Pool2dGeometry` (`ceil_mode=false`, no dilation), computing `outH`/`outW` like PyTorch. */
export function makePool2dGeometry(o: Pool2dGeometryOptions): Pool2dGeometry {
  const where = 'makePool2dGeometry (src/backend/geometry.ts)';
  const batch = nonNegative(where, 'batch', o.batch);
  const channels = positive(where, 'channels', o.channels);
  const inH = positive(where, 'inH', o.inH);
  const inW = positive(where, 'inW', o.inW);
  const [kH, kW] = pair(where, 'kernelSize', o.kernelSize);
  positive(where, 'kernelSize', kH);
  positive(where, 'kernelSize', kW);
  const [strideH, strideW] = pair(where, 'stride', o.stride ?? [kH, kW]);
  positive(where, 'stride', strideH);
  positive(where, 'stride', strideW);
  const [padH, padW] = pair(where, 'padding', o.padding ?? 0);
  nonNegative(where, 'padding', padH);
  nonNegative(where, 'padding', padW);
  // PyTorch's rule; it also guarantees that no window lies entirely in the padding.
  if (2 * padH > kH || 2 * padW > kW) {
    throw new GeometryError(`${where}: padding [${padH}, ${padW}] must be at most half of kernelSize [${kH}, ${kW}]`);
  }
  const outH = outputSize(where, 'H', inH, kH, strideH, padH);
  const outW = outputSize(where, 'W', inW, kW, strideW, padW);
  return { batch, channels, inH, inW, kH, kW, strideH, strideW, padH, padW, outH, outW };
}
