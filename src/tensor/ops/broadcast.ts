import { shapeToString, sizeOf, type Shape } from '../tensor.js';

/** NumPy broadcasting: align shapes on the right; each pair of dims must be equal or one of them 1. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`cannot broadcast shapes ${shapeToString(a)} and ${shapeToString(b)}`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` read as broadcast to `outShape` (0 along broadcast dims). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = outShape.length - shape.length + i;
    strides[o] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i]!;
  }
  return strides;
}

/** For each flat index of `outShape`, the flat index into an operand of `shape` broadcast to it. */
export function broadcastIndex(shape: Shape, outShape: Shape): Int32Array {
  const total = sizeOf(outShape);
  const idx = new Int32Array(total);
  const strides = broadcastStrides(shape, outShape);
  const counter = new Array<number>(outShape.length).fill(0);
  let offset = 0;
  for (let i = 0; i < total; i++) {
    idx[i] = offset;
    for (let d = outShape.length - 1; d >= 0; d--) {
      counter[d]!++;
      offset += strides[d]!;
      if (counter[d]! < outShape[d]!) break;
      offset -= strides[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

/** Sums a gradient of `outShape` down to `shape` (the adjoint of broadcasting). */
export function sumToShape(grad: Float32Array, outShape: Shape, shape: Shape): Float32Array {
  if (sizeOf(shape) === grad.length) return grad;
  const out = new Float32Array(sizeOf(shape));
  const idx = broadcastIndex(shape, outShape);
  for (let i = 0; i < grad.length; i++) out[idx[i]!]! += grad[i]!;
  return out;
}
