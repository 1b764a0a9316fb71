import { Tensor } from '../../tensor/tensor.js';
import type { Rng } from '../../tensor/random.js';
import { SpikegenError } from './errors.js';
import { f32 } from './float32.js';
import { latency, type LatencyOptions } from './latency.js';

/** Class ids `[B]` (int32) -> one-hot float32 `[B, numClasses]`. */
export function toOneHot(targets: Tensor, numClasses: number): Tensor {
  const y = classIds('toOneHot', targets, numClasses);
  const out = new Float32Array(y.length * numClasses);
  for (let b = 0; b < y.length; b++) out[b * numClasses + y[b]!] = 1;
  return new Tensor(out, [y.length, numClasses]);
}

/**
 * One-hot `[B, C]` -> class ids `[B]` (int32), or `[C]` -> a scalar id: the index of the first 1 of each row.
 * Deviation: snnTorch's `from_one_hot` returns `torch.where(x == 1)[0]`, which for a `[B, C]` input gives the row
 * numbers instead of the classes; spikets returns the classes (the documented intent). A row without a 1 is an error.
 */
export function fromOneHot(oneHot: Tensor): Tensor {
  if (oneHot.ndim !== 1 && oneHot.ndim !== 2) {
    throw new SpikegenError('fromOneHot', 'oneHot', 'shape [C] or [B, C]', `[${oneHot.shape.join(', ')}]`);
  }
  const c = oneHot.shape[oneHot.ndim - 1]!;
  const rows = oneHot.ndim === 2 ? oneHot.shape[0]! : 1;
  const v = oneHot.data;
  const out = new Int32Array(rows);
  for (let b = 0; b < rows; b++) {
    let k = 0;
    while (k < c && v[b * c + k] !== 1) k++;
    if (k === c) throw new SpikegenError('fromOneHot', `oneHot row ${b}`, 'exactly one entry equal to 1', 'none');
    out[b] = k;
  }
  return new Tensor(out, oneHot.ndim === 2 ? [rows] : []);
}

function classIds(fn: string, targets: Tensor, numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new SpikegenError(fn, 'numClasses', 'a positive integer', String(numClasses));
  }
  if (targets.dtype !== 'int32' || targets.ndim !== 1) {
    throw new SpikegenError(
      fn,
      'targets',
      'int32 class ids of shape [B]',
      `${targets.dtype} [${targets.shape.join(', ')}]`,
    );
  }
  const y = targets.ints;
  for (let b = 0; b < y.length; b++) {
    if (y[b]! < 0 || y[b]! >= numClasses) {
      throw new SpikegenError(fn, `targets[${b}]`, `a class id in [0, ${numClasses})`, String(y[b]));
    }
  }
  return y;
}

export type FiringPattern = 'regular' | 'uniform' | 'poisson';

export interface TargetRateCodeOptions {
  firstSpikeTime?: number;
  /** Fraction of steps with a spike, in [0, 1]. Default 1. */
  rate?: number;
  /** Default 'regular'. 'uniform' and 'poisson' draw from the `rng` argument. */
  firingPattern?: FiringPattern;
}

/**
 * One neuron's target spike train of length `numSteps` and its spike times (snnTorch's `target_rate_code`):
 * - regular: spikes at `trunc(fst + i / rate)` for `i = 0 .. ceil((T - fst) * rate) - 1` (PyTorch's `arange`);
 * - uniform: as many spikes as regular, each at `trunc(fst + u * (T - fst))`, u ~ U[0, 1) (duplicates merge);
 * - poisson: a Bernoulli(rate) draw per step from `fst` on.
 * `rate = 0` gives no spikes.
 */
export function targetRateCode(
  numSteps: number,
  options: TargetRateCodeOptions = {},
  rng?: Rng,
): { spikes: Tensor; times: Int32Array } {
  const { firstSpikeTime = 0, rate = 1, firingPattern = 'regular' } = options;
  if (!Number.isInteger(numSteps) || numSteps < 1) {
    throw new SpikegenError('targetRateCode', 'numSteps', 'a positive integer', String(numSteps));
  }
  if (!(rate >= 0 && rate <= 1)) throw new SpikegenError('targetRateCode', 'rate', 'a value in [0, 1]', String(rate));
  if (!Number.isInteger(firstSpikeTime) || firstSpikeTime < 0 || firstSpikeTime > numSteps) {
    throw new SpikegenError(
      'targetRateCode',
      'firstSpikeTime',
      `an integer in [0, ${numSteps}]`,
      String(firstSpikeTime),
    );
  }
  const spikes = new Float32Array(numSteps);
  let times: number[] = [];
  if (rate > 0) {
    const step = 1 / rate;
    const count = Math.max(0, Math.ceil((numSteps - firstSpikeTime) / step));
    if (firingPattern === 'regular') {
      for (let i = 0; i < count; i++) times.push(Math.trunc(f32(firstSpikeTime + i * step)));
    } else {
      if (!rng) throw new SpikegenError('targetRateCode', 'rng', `an Rng for firingPattern '${firingPattern}'`, 'none');
      if (firingPattern === 'uniform') {
        for (let i = 0; i < count; i++) {
          times.push(Math.trunc(f32(f32(rng.uniform() * (numSteps - firstSpikeTime)) + firstSpikeTime)));
        }
      } else {
        const p = f32(rate);
        for (let t = firstSpikeTime; t < numSteps; t++) if (rng.uniform() < p) times.push(t);
      }
    }
    times = times.filter((t) => t < numSteps);
    for (const t of times) spikes[t] = 1;
  }
  return { spikes: new Tensor(spikes, [numSteps]), times: Int32Array.from(times) };
}

/**
 * Linear ramps between target spike times (snnTorch's `rate_interpolate`): `onTarget` at each spike time, a ramp
 * from `offTarget` up to `onTarget` over the steps since the previous spike, `offTarget` after the last spike;
 * all `offTarget` without spikes. Output `[numSteps]`.
 */
export function rateInterpolate(
  spikeTimes: Int32Array,
  numSteps: number,
  options: { onTarget?: number; offTarget?: number; epsilon?: number } = {},
): Float32Array {
  const { onTarget = 1, offTarget = 0, epsilon = 1e-7 } = options;
  const out = new Float32Array(numSteps);
  if (spikeTimes.length === 0) return out.fill(offTarget);
  if (!(onTarget > offTarget)) {
    throw new SpikegenError(
      'rateInterpolate',
      'onTarget',
      `> offTarget (${offTarget}) to interpolate`,
      String(onTarget),
    );
  }
  const isSpike = new Set(spikeTimes);
  const values: number[] = [];
  let current = -1;
  for (let step = 0; step < numSteps; step++) {
    if (!isSpike.has(step)) continue;
    if (step === current + 1) values.push(onTarget);
    else {
      // PyTorch arange(off, on + eps, (on - off) / gap): gap + 1 points ending at on
      const inc = (onTarget - offTarget) / (step - current - 1);
      const n = Math.ceil((onTarget + epsilon - offTarget) / inc);
      for (let i = 0; i < n; i++) values.push(offTarget + i * inc);
    }
    current = step;
  }
  const last = Math.max(...spikeTimes);
  for (let step = last; step < numSteps - 1; step++) values.push(offTarget);
  if (values.length !== numSteps) {
    throw new SpikegenError(
      'rateInterpolate',
      'spikeTimes',
      `times in [0, ${numSteps})`,
      `[${Array.from(spikeTimes).join(', ')}]`,
    );
  }
  out.set(values);
  return out;
}

export interface TargetsRateOptions {
  /** Required when a rate is not the default or with `firstSpikeTime`. */
  numSteps?: number;
  firstSpikeTime?: number;
  /** Firing rate of the correct class, in [0, 1]. Default 1. */
  correctRate?: number;
  /** Firing rate of the other classes, in [0, correctRate]. Default 0. */
  incorrectRate?: number;
  /** Value at spikes. Default 1. */
  onTarget?: number;
  /** Lower bound of every value (`max(spike * onTarget, offTarget)`), see docs. Default 0. */
  offTarget?: number;
  firingPattern?: FiringPattern;
  /** Ramp towards each spike instead of 0/1 trains (`rateInterpolate`). Default false. */
  interpolate?: boolean;
  epsilon?: number;
}

/**
 * Rate-coded targets from class ids `[B]` (snnTorch's `targets_rate`). With `max(a, off)` written `[a]_off`:
 * - default rates (1, 0), `firstSpikeTime = 0`: `[onehot * onTarget]_off`, shape `[B, C]` (no time axis);
 * - default rates, `firstSpikeTime > 0`: that tensor repeated over `[T, B, C]` with steps `< firstSpikeTime`
 *   set to `offTarget`;
 * - other rates: `[T, B, C]` with `out[t, b, c] = [train_c(t) * onTarget]_off` where the correct class follows
 *   `targetRateCode(T, {rate: correctRate})` and the others `targetRateCode(T, {rate: incorrectRate})`
 *   (`interpolate`: the `rateInterpolate` ramps of those trains instead).
 * Deviation: snnTorch 0.9.4 broadcasts the trains against the class axis for non-default rates (a 5-D result or a
 * shape error); spikets implements the documented per-class trains above.
 */
export function targetsRate(targets: Tensor, numClasses: number, options: TargetsRateOptions = {}, rng?: Rng): Tensor {
  const fn = 'targetsRate';
  const y = classIds(fn, targets, numClasses);
  const {
    numSteps,
    firstSpikeTime = 0,
    correctRate = 1,
    incorrectRate = 0,
    onTarget = 1,
    offTarget = 0,
    firingPattern = 'regular',
    interpolate = false,
    epsilon = 1e-7,
  } = options;
  if (!(correctRate >= 0 && correctRate <= 1))
    throw new SpikegenError(fn, 'correctRate', 'a value in [0, 1]', String(correctRate));
  if (!(incorrectRate >= 0 && incorrectRate <= 1)) {
    throw new SpikegenError(fn, 'incorrectRate', 'a value in [0, 1]', String(incorrectRate));
  }
  if (incorrectRate > correctRate) {
    throw new SpikegenError(fn, 'incorrectRate', `at most correctRate (${correctRate})`, String(incorrectRate));
  }
  const defaultRates = correctRate === 1 && incorrectRate === 0;
  const needsTime = !defaultRates || firstSpikeTime !== 0;
  if (needsTime && (numSteps === undefined || !Number.isInteger(numSteps) || numSteps < 1)) {
    throw new SpikegenError(
      fn,
      'numSteps',
      'a positive integer with non-default rates or firstSpikeTime',
      String(numSteps),
    );
  }
  const B = y.length;
  const C = numClasses;
  const on = f32(onTarget);
  const off = f32(offTarget);
  if (defaultRates) {
    const frame = new Float32Array(B * C).fill(Math.max(0, off));
    for (let b = 0; b < B; b++) frame[b * C + y[b]!] = Math.max(on, off);
    if (firstSpikeTime === 0) return new Tensor(frame, [B, C]);
    const T = numSteps!;
    if (firstSpikeTime > T - 1)
      throw new SpikegenError(fn, 'firstSpikeTime', `at most numSteps - 1 = ${T - 1}`, String(firstSpikeTime));
    const out = new Float32Array(T * B * C);
    for (let t = 0; t < T; t++) {
      if (t < firstSpikeTime) out.fill(off, t * B * C, (t + 1) * B * C);
      else out.set(frame, t * B * C);
    }
    return new Tensor(out, [T, B, C]);
  }
  const T = numSteps!;
  const correct = targetRateCode(T, { firstSpikeTime, rate: correctRate, firingPattern }, rng);
  const incorrect = targetRateCode(T, { firstSpikeTime, rate: incorrectRate, firingPattern }, rng);
  let cTrain: Float32Array;
  let iTrain: Float32Array;
  if (interpolate) {
    cTrain = rateInterpolate(correct.times, T, { onTarget, offTarget, epsilon });
    iTrain = rateInterpolate(incorrect.times, T, { onTarget, offTarget, epsilon });
  } else {
    cTrain = correct.spikes.values.map((s) => Math.max(f32(s * on), off));
    iTrain = incorrect.spikes.values.map((s) => Math.max(f32(s * on), off));
  }
  const out = new Float32Array(T * B * C);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const row = (t * B + b) * C;
      out.fill(iTrain[t]!, row, row + C);
      out[row + y[b]!] = cTrain[t]!;
    }
  }
  return new Tensor(out, [T, B, C]);
}

/** Latency-coded targets: `latency(toOneHot(targets, numClasses), options)`, shape `[T, B, C]`. */
export function targetsLatency(targets: Tensor, numClasses: number, options: LatencyOptions = {}): Tensor {
  return latency(toOneHot(targets, numClasses), options);
}

export type TargetsConvertOptions = ({ code?: 'rate' } & TargetsRateOptions) | ({ code: 'latency' } & LatencyOptions);

/** snnTorch's `targets_convert`: `targetsRate` (code 'rate', the default) or `targetsLatency` (code 'latency'). */
export function targetsConvert(
  targets: Tensor,
  numClasses: number,
  options: TargetsConvertOptions = {},
  rng?: Rng,
): Tensor {
  if (options.code === 'latency') return targetsLatency(targets, numClasses, options);
  return targetsRate(targets, numClasses, options, rng);
}
