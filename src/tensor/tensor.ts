import { backward, isGradEnabled, type GradNode } from './autograd.js';

export type DType = 'float32' | 'int32';
export type Shape = readonly number[];
export type TensorData = Float32Array | Int32Array;

/** Number of elements of a shape (1 for a scalar `[]`). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * A dense, contiguous, row-major array with optional gradient tracking.
 *
 * Memory policy: a tensor owns a typed array on the JS heap and is freed by the garbage collector; there is no
 * `dispose`. Views such as `transpose` materialise a copy, so `data` is always contiguous and kernels never see
 * strides. The fast training path (`train/plan`) does not build tensors per op: it keeps its activations in
 * buffers it owns and reuses across iterations, which is what keeps memory flat (see docs/architecture.md).
 */
export class Tensor {
  readonly data: TensorData;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** True for leaves that collect `.grad` and for results of ops on such tensors while grad mode is on. */
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf after `backward()`; accumulation adds, `zeroGrad` clears. */
  grad: Tensor | null = null;
  /** The tape entry that produced this tensor (null for leaves and for results computed without grad). */
  readonly node: GradNode | null;

  constructor(data: TensorData, shape: Shape, options: { requiresGrad?: boolean; node?: GradNode | null } = {}) {
    if (data.length !== sizeOf(shape)) {
      throw new RangeError(
        `Tensor: data has ${data.length} elements but shape ${shapeToString(shape)} needs ${sizeOf(shape)}`,
      );
    }
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`Tensor: invalid shape ${shapeToString(shape)}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = data instanceof Int32Array ? 'int32' : 'float32';
    this.node = options.node ?? null;
    this.requiresGrad = (options.requiresGrad ?? false) || this.node !== null;
    if (this.requiresGrad && this.dtype !== 'float32')
      throw new TypeError('Tensor: only float32 tensors can require grad');
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Float32 view of the data; throws for int32 tensors so that a label tensor is never silently used as values. */
  get values(): Float32Array {
    if (!(this.data instanceof Float32Array)) throw new TypeError(`expected a float32 tensor, got ${this.dtype}`);
    return this.data;
  }

  /** Int32 view of the data (class ids, indices). */
  get ints(): Int32Array {
    if (!(this.data instanceof Int32Array)) throw new TypeError(`expected an int32 tensor, got ${this.dtype}`);
    return this.data;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new RangeError(`item(): tensor has ${this.size} elements, expected 1`);
    return this.data[0]!;
  }

  /** A new leaf sharing no tape with this tensor (same data, no copy). */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** Deep copy of the data into a new leaf. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Nested arrays in row-major order (for printing and tests). */
  toArray(): unknown {
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return this.data[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[dim]!; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** Reverse-mode autodiff from this tensor; see `backward` in autograd.ts. */
  backward(grad?: Tensor): void {
    backward(this, grad);
  }
}

/** Flattens nested number arrays and infers their shape. */
function flatten(value: unknown, shape: number[], out: number[], dim: number): void {
  if (Array.isArray(value)) {
    if (shape.length <= dim) shape.push(value.length);
    else if (shape[dim] !== value.length) throw new RangeError(`tensor(): ragged nested array at dimension ${dim}`);
    for (const v of value) flatten(v, shape, out, dim + 1);
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    if (shape.length !== dim) throw new RangeError(`tensor(): ragged nested array at dimension ${dim}`);
    out.push(Number(value));
  } else {
    throw new TypeError(`tensor(): expected numbers or nested arrays, got ${typeof value}`);
  }
}

export type NestedNumbers = number | boolean | readonly NestedNumbers[];

/** Creates a leaf tensor from nested arrays or a typed array (with its shape). */
export function tensor(
  value: NestedNumbers | TensorData | ArrayLike<number>,
  options: { shape?: Shape; dtype?: DType; requiresGrad?: boolean } = {},
): Tensor {
  let flat: ArrayLike<number>;
  let shape: number[];
  if (ArrayBuffer.isView(value) || (typeof value === 'object' && !Array.isArray(value))) {
    flat = value as ArrayLike<number>;
    shape = options.shape ? [...options.shape] : [flat.length];
  } else {
    const out: number[] = [];
    shape = [];
    flatten(value, shape, out, 0);
    flat = out;
    if (options.shape) shape = [...options.shape];
  }
  const dtype = options.dtype ?? (value instanceof Int32Array ? 'int32' : 'float32');
  const data = dtype === 'int32' ? Int32Array.from(flat) : Float32Array.from(flat);
  return new Tensor(data, shape, { requiresGrad: options.requiresGrad ?? false });
}

export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return new Tensor(dtype === 'int32' ? new Int32Array(sizeOf(shape)) : new Float32Array(sizeOf(shape)), shape);
}

export function full(shape: Shape, value: number): Tensor {
  return new Tensor(new Float32Array(sizeOf(shape)).fill(value), shape);
}

export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

/** A float32 tensor that is a differentiable result of `parents` when grad mode is on. */
export function result(
  data: Float32Array,
  shape: Shape,
  parents: readonly Tensor[],
  backward: GradNode['backward'],
): Tensor {
  const tracked = isGradEnabled() && parents.some((p) => p.requiresGrad);
  return new Tensor(data, shape, { node: tracked ? { parents, backward } : null });
}
