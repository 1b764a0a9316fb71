import { reshape } from '../tensor/ops/shape.js';
import { sum } from '../tensor/ops/reduce.js';
import type { Reduction } from '../tensor/ops/loss.js';
import { Tensor, shapeToString } from '../tensor/tensor.js';
import { FunctionalError } from './errors.js';

export type { Reduction } from '../tensor/ops/loss.js';

/** A loss over a recording `[T, B, C]` (spikes or membrane) and int32 class ids `[B]`. */
export type SpikeLoss = (output: Tensor, targets: Tensor) => Tensor;

/** Per-class weights `[C]`: a tensor or plain numbers. */
export type ClassWeight = Tensor | ArrayLike<number>;

export interface ReductionOptions {
  /** Default 'mean'. */
  reduction?: Reduction;
  /** Per-class weights, see each loss for how a weighted mean is normalised. */
  weight?: ClassWeight | null;
}

export interface PopulationOptions {
  /** The C outputs form `numClasses` consecutive groups of C / numClasses neurons; a class counts its group. */
  populationCode?: boolean;
  /** Number of classes, required with `populationCode`, must divide the number of outputs. */
  numClasses?: number;
}

const reductions: readonly Reduction[] = ['mean', 'sum', 'none'];

export function checkReduction(fn: string, reduction: Reduction | undefined): Reduction {
  const r = reduction ?? 'mean';
  if (!reductions.includes(r)) throw new FunctionalError(fn, 'reduction', "'mean', 'sum' or 'none'", String(r));
  return r;
}

/** The `[T, B, C]` dims of a float32 recording. */
export function recordDims(fn: string, x: Tensor, name = 'output'): [number, number, number] {
  if (x.ndim !== 3 || x.dtype !== 'float32') {
    throw new FunctionalError(fn, name, 'a float32 recording [T, B, C]', `${x.dtype} ${shapeToString(x.shape)}`);
  }
  const [t, b, c] = x.shape as [number, number, number];
  if (t < 1 || b < 1 || c < 1) throw new FunctionalError(fn, name, 'non-empty [T, B, C]', shapeToString(x.shape));
  return [t, b, c];
}

/** Class ids `[B]` (int32), each in [0, numClasses). */
export function classTargets(fn: string, targets: Tensor, batch: number, numClasses: number): Int32Array {
  if (targets.dtype !== 'int32' || targets.ndim !== 1 || targets.shape[0] !== batch) {
    throw new FunctionalError(
      fn,
      'targets',
      `int32 class ids of shape [${batch}]`,
      `${targets.dtype} ${shapeToString(targets.shape)}`,
    );
  }
  const y = targets.ints;
  for (let b = 0; b < batch; b++) {
    if (y[b]! < 0 || y[b]! >= numClasses) {
      throw new FunctionalError(fn, `targets[${b}]`, `a class id in [0, ${numClasses})`, String(y[b]));
    }
  }
  return y;
}

/** Validated class weights as float32 `[numClasses]`, or null. */
export function classWeights(
  fn: string,
  weight: ClassWeight | null | undefined,
  numClasses: number,
): Float32Array | null {
  if (weight === null || weight === undefined) return null;
  const w = weight instanceof Tensor ? weight.values : Float32Array.from(weight);
  if (w.length !== numClasses) {
    throw new FunctionalError(fn, 'weight', `${numClasses} class weights`, `${w.length}`);
  }
  return w;
}

/** Number of classes of a population code (null without one), validated against C outputs. */
export function populationClasses(fn: string, options: PopulationOptions, outputs: number): number | null {
  if (!options.populationCode) return null;
  const k = options.numClasses;
  if (k === undefined || !Number.isInteger(k) || k < 1) {
    throw new FunctionalError(fn, 'numClasses', 'a positive integer with populationCode', String(k));
  }
  if (outputs % k !== 0) {
    throw new FunctionalError(fn, 'numClasses', `a divisor of the ${outputs} outputs`, String(k));
  }
  return k;
}

/**
 * Population code per step: `[T, B, C] -> [T, B, K]`, `out[t, b, k] = sum_{j < C/K} x[t, b, k * C/K + j]`
 * (consecutive groups, as snnTorch's `_population_code`), differentiable.
 */
export function groupSum(x: Tensor, numClasses: number): Tensor {
  const [t, b, c] = x.shape as [number, number, number];
  return sum(reshape(x, [t, b, numClasses, c / numClasses]), 3);
}

/** Spike counts `[B, C]` (or `[B, K]` with a population code): the sum over time, differentiable. */
export function counts(x: Tensor, numClasses: number | null): Tensor {
  return numClasses === null ? sum(x, 0) : sum(groupSum(x, numClasses), 0);
}

/** `w[y_b]` per sample as a `[B, 1]` tensor, for row-wise weighting of a `[B, C]` loss. */
export function rowWeights(w: Float32Array, y: Int32Array): Tensor {
  return new Tensor(
    Float32Array.from(y, (k) => w[k]!),
    [y.length, 1],
  );
}
