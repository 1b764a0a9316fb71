import { Tensor, result, shapeToString, sizeOf, type Shape } from '../tensor.js';

/** Same elements, new shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = [...shape];
  const infer = target.indexOf(-1);
  if (infer >= 0) {
    const known = sizeOf(target.filter((_, i) => i !== infer));
    target[infer] = known === 0 ? 0 : x.size / known;
  }
  if (sizeOf(target) !== x.size || target.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(
      `reshape: cannot view ${shapeToString(x.shape)} (${x.size} elements) as ${shapeToString(shape)}`,
    );
  }
  if (x.dtype === 'int32') return new Tensor(x.data, target);
  return result(x.values, target, [x], (g) => [g]);
}

/** Flattens dims startDim..endDim into one (PyTorch `flatten`). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  const end = endDim < 0 ? endDim + x.ndim : endDim;
  const shape = [...x.shape.slice(0, startDim), sizeOf(x.shape.slice(startDim, end + 1)), ...x.shape.slice(end + 1)];
  return reshape(x, shape);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.ndim : axis;
  if (x.shape[a] !== 1) throw new RangeError(`squeeze: dim ${axis} of ${shapeToString(x.shape)} is not 1`);
  return reshape(
    x,
    x.shape.filter((_, i) => i !== a),
  );
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.ndim + 1 : axis;
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Reorders dimensions (materialises a contiguous copy). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim || [...dims].sort((p, q) => p - q).some((d, i) => d !== i)) {
    throw new RangeError(`permute: ${shapeToString(dims)} is not a permutation of ${x.ndim} dims`);
  }
  const shape = dims.map((d) => x.shape[d]!);
  const inStrides = stridesOf(x.shape);
  const strides = dims.map((d) => inStrides[d]!);
  const gather = new Int32Array(x.size);
  const counter = new Array<number>(shape.length).fill(0);
  let offset = 0;
  for (let i = 0; i < x.size; i++) {
    gather[i] = offset;
    for (let d = shape.length - 1; d >= 0; d--) {
      counter[d]!++;
      offset += strides[d]!;
      if (counter[d]! < shape[d]!) break;
      offset -= strides[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  const src = x.data;
  const out = x.dtype === 'int32' ? new Int32Array(x.size) : new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = src[gather[i]!]!;
  if (out instanceof Int32Array) return new Tensor(out, shape);
  return result(out, shape, [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[gather[i]!] = g[i]!;
    return [gx];
  });
}

/** Swaps two dimensions (default: the last two). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const dims = x.shape.map((_, i) => i);
  const a = dim0 < 0 ? dim0 + x.ndim : dim0;
  const b = dim1 < 0 ? dim1 + x.ndim : dim1;
  [dims[a], dims[b]] = [dims[b]!, dims[a]!];
  return permute(x, dims);
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** Joins tensors of equal shape except along `axis`. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new RangeError('concat: no tensors');
  const first = xs[0]!;
  const a = axis < 0 ? axis + first.ndim : axis;
  for (const x of xs) {
    if (x.ndim !== first.ndim || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new RangeError(
        `concat: shape ${shapeToString(x.shape)} does not match ${shapeToString(first.shape)} off axis ${axis}`,
      );
    }
  }
  const outer = sizeOf(first.shape.slice(0, a));
  const inner = sizeOf(first.shape.slice(a + 1));
  const sizes = xs.map((x) => x.shape[a]!);
  const total = sizes.reduce((p, q) => p + q, 0);
  const shape = [...first.shape];
  shape[a] = total;
  const out = new Float32Array(outer * total * inner);
  let off = 0;
  xs.forEach((x, j) => {
    const block = sizes[j]! * inner;
    for (let o = 0; o < outer; o++) out.set(x.values.subarray(o * block, (o + 1) * block), o * total * inner + off);
    off += block;
  });
  return result(out, shape, xs, (g) => {
    let start = 0;
    return xs.map((_, j) => {
      const block = sizes[j]! * inner;
      const gx = new Float32Array(outer * block);
      for (let o = 0; o < outer; o++)
        gx.set(g.subarray(o * total * inner + start, o * total * inner + start + block), o * block);
      start += block;
      return gx;
    });
  });
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  return concat(
    xs.map((x) => unsqueeze(x, axis)),
    axis,
  );
}

/** Elements `start..end-1` along `axis` (negative indices count from the end). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = axis < 0 ? axis + x.ndim : axis;
  const n = x.shape[a]!;
  const s = start < 0 ? start + n : start;
  const e = end === undefined ? n : end < 0 ? end + n : Math.min(end, n);
  if (s < 0 || s > e) throw new RangeError(`slice: [${start}, ${end}) out of range for dim ${axis} of size ${n}`);
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  const shape = [...x.shape];
  shape[a] = e - s;
  const out = new Float32Array(outer * (e - s) * inner);
  const v = x.values;
  for (let o = 0; o < outer; o++) out.set(v.subarray((o * n + s) * inner, (o * n + e) * inner), o * (e - s) * inner);
  return result(out, shape, [x], (g) => {
    const gx = new Float32Array(v.length);
    for (let o = 0; o < outer; o++)
      gx.set(g.subarray(o * (e - s) * inner, (o + 1) * (e - s) * inner), (o * n + s) * inner);
    return [gx];
  });
}

/** The sub-tensor at `index` of dimension 0 (like `x[i]`); shares no data with x. */
export function index(x: Tensor, i: number): Tensor {
  const n = x.shape[0]!;
  const k = i < 0 ? i + n : i;
  if (k < 0 || k >= n) throw new RangeError(`index ${i} out of range for dim 0 of size ${n}`);
  return squeeze(slice(x, 0, k, k + 1), 0);
}

/** Rows of `x` picked by int32 `indices` along dim 0 (gradient scatters back, adding on repeats). */
export function gather0(x: Tensor, indices: Int32Array): Tensor {
  const inner = sizeOf(x.shape.slice(1));
  const out = new Float32Array(indices.length * inner);
  const v = x.values;
  indices.forEach((r, j) => out.set(v.subarray(r * inner, (r + 1) * inner), j * inner));
  return result(out, [indices.length, ...x.shape.slice(1)], [x], (g) => {
    const gx = new Float32Array(v.length);
    indices.forEach((r, j) => {
      for (let c = 0; c < inner; c++) gx[r * inner + c]! += g[j * inner + c]!;
    });
    return [gx];
  });
}
