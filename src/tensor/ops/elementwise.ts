import { Tensor, result, sizeOf, type Shape } from '../tensor.js';
import { broadcastIndex, broadcastShapes, sumToShape } from './broadcast.js';

/** A tensor or a plain number (broadcast as a scalar constant). */
export type TensorLike = Tensor | number;

function asTensor(x: TensorLike): Tensor {
  return typeof x === 'number' ? new Tensor(new Float32Array([x]), []) : x;
}

/**
 * Applies `f` elementwise with broadcasting. `grads(a, b, out, i)` gives the local derivatives
 * [d out/d a, d out/d b] at element i (only called when a gradient is needed).
 */
function binary(
  x: TensorLike,
  y: TensorLike,
  f: (a: number, b: number) => number,
  grads: (a: number, b: number, out: number) => [number, number],
): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const shape = broadcastShapes(a.shape, b.shape);
  const n = sizeOf(shape);
  const av = a.values;
  const bv = b.values;
  const out = new Float32Array(n);
  const sameA = a.size === n;
  const sameB = b.size === n;
  const ia = sameA ? null : broadcastIndex(a.shape, shape);
  const ib = sameB ? null : broadcastIndex(b.shape, shape);
  for (let i = 0; i < n; i++) out[i] = f(av[ia ? ia[i]! : i]!, bv[ib ? ib[i]! : i]!);
  return result(out, shape, [a, b], (g) => {
    const ga = a.requiresGrad ? new Float32Array(n) : null;
    const gb = b.requiresGrad ? new Float32Array(n) : null;
    for (let i = 0; i < n; i++) {
      const [da, db] = grads(av[ia ? ia[i]! : i]!, bv[ib ? ib[i]! : i]!, out[i]!);
      if (ga) ga[i] = g[i]! * da;
      if (gb) gb[i] = g[i]! * db;
    }
    return [ga && sumToShape(ga, shape, a.shape), gb && sumToShape(gb, shape, b.shape)];
  });
}

/** Elementwise map with derivative `df(x, out)`. */
function unary(x: Tensor, f: (v: number) => number, df: (v: number, out: number) => number): Tensor {
  const xv = x.values;
  const out = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) out[i] = f(xv[i]!);
  return result(out, x.shape, [x], (g) => {
    const gx = new Float32Array(xv.length);
    for (let i = 0; i < xv.length; i++) gx[i] = g[i]! * df(xv[i]!, out[i]!);
    return [gx];
  });
}

export const add = (a: TensorLike, b: TensorLike): Tensor =>
  binary(
    a,
    b,
    (p, q) => p + q,
    () => [1, 1],
  );
export const sub = (a: TensorLike, b: TensorLike): Tensor =>
  binary(
    a,
    b,
    (p, q) => p - q,
    () => [1, -1],
  );
export const mul = (a: TensorLike, b: TensorLike): Tensor =>
  binary(
    a,
    b,
    (p, q) => p * q,
    (p, q) => [q, p],
  );
export const div = (a: TensorLike, b: TensorLike): Tensor =>
  binary(
    a,
    b,
    (p, q) => p / q,
    (p, q) => [1 / q, -p / (q * q)],
  );
/** `a^b`; d/da = b a^(b-1), d/db = a^b ln a (0 where a <= 0, as PyTorch for a = 0). */
export const pow = (a: TensorLike, b: TensorLike): Tensor =>
  binary(a, b, Math.pow, (p, q, o) => [q * Math.pow(p, q - 1), p > 0 ? o * Math.log(p) : 0]);
/** Elementwise max; on ties the gradient is split evenly (PyTorch's `maximum`). */
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binary(a, b, Math.max, (p, q) => (p > q ? [1, 0] : p < q ? [0, 1] : [0.5, 0.5]));
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binary(a, b, Math.min, (p, q) => (p < q ? [1, 0] : p > q ? [0, 1] : [0.5, 0.5]));

export const neg = (x: Tensor): Tensor =>
  unary(
    x,
    (v) => -v,
    () => -1,
  );
export const exp = (x: Tensor): Tensor => unary(x, Math.exp, (_v, o) => o);
export const log = (x: Tensor): Tensor => unary(x, Math.log, (v) => 1 / v);
/** |x|; derivative sign(x) (0 at 0, as PyTorch). */
export const abs = (x: Tensor): Tensor => unary(x, Math.abs, (v) => Math.sign(v));
export const sqrt = (x: Tensor): Tensor => unary(x, Math.sqrt, (_v, o) => 0.5 / o);
export const square = (x: Tensor): Tensor =>
  unary(
    x,
    (v) => v * v,
    (v) => 2 * v,
  );
export const sigmoid = (x: Tensor): Tensor =>
  unary(
    x,
    (v) => 1 / (1 + Math.exp(-v)),
    (_v, o) => o * (1 - o),
  );
export const tanh = (x: Tensor): Tensor => unary(x, Math.tanh, (_v, o) => 1 - o * o);
export const atan = (x: Tensor): Tensor => unary(x, Math.atan, (v) => 1 / (1 + v * v));
/** max(x, 0); derivative 1 where x > 0 (0 at 0, as PyTorch). */
export const relu = (x: Tensor): Tensor =>
  unary(
    x,
    (v) => (v > 0 ? v : 0),
    (v) => (v > 0 ? 1 : 0),
  );
/** Clamps to [min, max]; gradient passes where min <= x <= max (PyTorch's rule at the bounds). */
export const clamp = (x: Tensor, min = -Infinity, max = Infinity): Tensor =>
  unary(
    x,
    (v) => Math.min(Math.max(v, min), max),
    (v) => (v >= min && v <= max ? 1 : 0),
  );
/** `x * s` for a number s (cheaper than broadcasting a scalar tensor). */
export const scale = (x: Tensor, s: number): Tensor =>
  unary(
    x,
    (v) => v * s,
    () => s,
  );

/** Non-differentiable comparison producing 0/1 float32. */
function compare(x: TensorLike, y: TensorLike, f: (a: number, b: number) => boolean): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const shape = broadcastShapes(a.shape, b.shape);
  const n = sizeOf(shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(a.values[ia[i]!]!, b.values[ib[i]!]!) ? 1 : 0;
  return new Tensor(out, shape);
}

export const gt = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (p, q) => p > q);
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (p, q) => p >= q);
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (p, q) => p < q);
export const le = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (p, q) => p <= q);
export const eq = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (p, q) => p === q);

/** `cond ? a : b` elementwise (cond nonzero = true), differentiable in a and b. */
export function where(cond: Tensor, x: TensorLike, y: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape);
  const n = sizeOf(shape);
  const ic = broadcastIndex(cond.shape, shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const c = cond.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = c[ic[i]!] !== 0 ? a.values[ia[i]!]! : b.values[ib[i]!]!;
  return result(out, shape, [a, b], (g) => {
    const ga = new Float32Array(n);
    const gb = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (c[ic[i]!] !== 0) ga[i] = g[i]!;
      else gb[i] = g[i]!;
    }
    return [sumToShape(ga, shape, a.shape), sumToShape(gb, shape, b.shape)];
  });
}

/**
 * A custom elementwise primitive: forward `f` and the derivative `df(x)` used by backward. The surrogate spike
 * functions are built with it (Heaviside forward, smooth derivative backward).
 */
export function mapWithGrad(x: Tensor, f: (v: number) => number, df: (v: number) => number): Tensor {
  return unary(x, f, (v) => df(v));
}

export function expandTo(x: Tensor, shape: Shape): Tensor {
  return add(x, new Tensor(new Float32Array(sizeOf(shape)), shape));
}
