import { Tensor, result, shapeToString, sizeOf } from '../tensor.js';

function normaliseAxis(axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim) throw new RangeError(`axis ${axis} out of range for a tensor of rank ${ndim}`);
  return a;
}

/** Splits a shape around `axis` into [outer, size, inner] for strided loops. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

function reducedShape(shape: readonly number[], axes: number[], keepDim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDim) out.push(1);
  });
  return out;
}

/** Sum over `axis` (a number or list; all axes when omitted). */
export function sum(x: Tensor, axis?: number | number[], keepDim = false): Tensor {
  if (axis === undefined) {
    const v = x.values;
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i]!;
    const shape = keepDim ? x.shape.map(() => 1) : [];
    return result(new Float32Array([s]), shape, [x], (g) => [new Float32Array(v.length).fill(g[0]!)]);
  }
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => normaliseAxis(a, x.ndim)).sort((p, q) => q - p);
  let out = x;
  for (const a of axes) out = sumAxis(out, a, true);
  return keepDim ? out : reshapeNoCopy(out, reducedShape(x.shape, axes, false));
}

function sumAxis(x: Tensor, axis: number, keepDim: boolean): Tensor {
  const [outer, size, inner] = around(x.shape, axis);
  const v = x.values;
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < size; k++) {
      const base = (o * size + k) * inner;
      for (let i = 0; i < inner; i++) out[o * inner + i]! += v[base + i]!;
    }
  }
  return result(out, reducedShape(x.shape, [axis], keepDim), [x], (g) => {
    const gx = new Float32Array(v.length);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < size; k++) {
        const base = (o * size + k) * inner;
        for (let i = 0; i < inner; i++) gx[base + i] = g[o * inner + i]!;
      }
    }
    return [gx];
  });
}

/** Same data, new shape, differentiable; shared by reductions that keep their data layout. */
function reshapeNoCopy(x: Tensor, shape: number[]): Tensor {
  return result(x.values, shape, [x], (g) => [g]);
}

/** Mean over `axis` (all axes when omitted). */
export function mean(x: Tensor, axis?: number | number[], keepDim = false): Tensor {
  const s = sum(x, axis, keepDim);
  const count = x.size / Math.max(1, s.size);
  const v = s.values.map((e) => e / count);
  return result(v, s.shape, [s], (g) => [g.map((e) => e / count)]);
}

/**
 * Max over `axis` with the index of the first maximum (PyTorch's tie rule); the gradient flows to that index.
 * Returns both; `indices` is int32.
 */
export function max(x: Tensor, axis: number, keepDim = false): { values: Tensor; indices: Tensor } {
  const a = normaliseAxis(axis, x.ndim);
  const [outer, size, inner] = around(x.shape, a);
  if (size === 0) throw new RangeError(`max(): empty axis ${axis} of ${shapeToString(x.shape)}`);
  const v = x.values;
  const out = new Float32Array(outer * inner);
  const idx = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = v[o * size * inner + i]!;
      let bi = 0;
      for (let k = 1; k < size; k++) {
        const e = v[(o * size + k) * inner + i]!;
        if (e > best || (Number.isNaN(e) && !Number.isNaN(best))) {
          best = e;
          bi = k;
        }
      }
      out[o * inner + i] = best;
      idx[o * inner + i] = bi;
    }
  }
  const shape = reducedShape(x.shape, [a], keepDim);
  const values = result(out, shape, [x], (g) => {
    const gx = new Float32Array(v.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) gx[(o * size + idx[o * inner + i]!) * inner + i] = g[o * inner + i]!;
    }
    return [gx];
  });
  return { values, indices: new Tensor(idx, shape) };
}

/** Index of the first maximum along `axis` (int32). */
export function argmax(x: Tensor, axis: number, keepDim = false): Tensor {
  return max(x.detach(), axis, keepDim).indices;
}
