import { Tensor } from '../../tensor/tensor.js';
import type { Rng } from '../../tensor/random.js';
import { SpikegenError } from './errors.js';
import { f32 } from './float32.js';

export interface RateOptions {
  /**
   * Number of steps T for static data (the data is repeated T times). Required unless `timeVarInput`, where the
   * data already carries time first and passing `numSteps` is an error (as in snnTorch).
   */
  numSteps?: number;
  /** Scales the data before it is used as a probability (static data only). Default 1. */
  gain?: number;
  /** Added after the gain (static data only). Default 0. */
  offset?: number;
  /**
   * Steps before the first possible spike. Static data: steps `[0, firstSpikeTime)` are zeroed, the output keeps
   * T steps. Time-varying data: that many zero steps are prepended. Default 0.
   */
  firstSpikeTime?: number;
  /** The data is already `[T, ...]`. Default false. */
  timeVarInput?: boolean;
}

/**
 * Bernoulli draw per element: `out = (u < clamp(p, 0, 1))` with `u ~ U[0, 1)` from `rng`, in row-major order.
 * So p <= 0 never spikes and p >= 1 always does, exactly. snnTorch's `rate_conv`.
 */
export function rateConv(data: Tensor, rng: Rng): Tensor {
  const p = data.values;
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = rng.uniform() < p[i]! ? 1 : 0;
  return new Tensor(out, data.shape);
}

/**
 * Rate (Poisson-like) coding, time first.
 *
 * Static data `x` of shape S: `out[t] ~ Bernoulli(clamp(gain * x + offset, 0, 1))` independently for every step
 * `t < numSteps` and element, shape `[numSteps, ...S]`; `out[t] = 0` for `t < firstSpikeTime`.
 * Time-varying data `[T, ...S]` (`timeVarInput`): `out = [zeros(firstSpikeTime, ...S); Bernoulli(clamp(x, 0, 1))]`
 * (gain and offset are not applied, as in snnTorch).
 *
 * Randomness comes only from `rng` (one uniform per generated element, row-major, zeroed steps included), so a
 * seed reproduces the spikes exactly. Deviation: snnTorch with `num_steps` unset returns an empty tensor for static
 * data; spikets asks for `numSteps` instead.
 */
export function rate(data: Tensor, options: RateOptions, rng: Rng): Tensor {
  const { numSteps, gain = 1, offset = 0, firstSpikeTime = 0, timeVarInput = false } = options;
  if (!Number.isInteger(firstSpikeTime) || firstSpikeTime < 0) {
    throw new SpikegenError('rate', 'firstSpikeTime', 'a non-negative integer', String(firstSpikeTime));
  }
  if (timeVarInput) {
    if (numSteps !== undefined) {
      throw new SpikegenError(
        'rate',
        'numSteps',
        'undefined with timeVarInput (the first dimension of data sets the steps)',
        String(numSteps),
      );
    }
    if (data.ndim < 1) throw new SpikegenError('rate', 'data', 'a time-first tensor [T, ...]', 'a scalar');
    const spikes = rateConv(data, rng);
    if (firstSpikeTime === 0) return spikes;
    const stepSize = data.size / data.shape[0]!;
    const out = new Float32Array(firstSpikeTime * stepSize + spikes.size);
    out.set(spikes.values, firstSpikeTime * stepSize);
    return new Tensor(out, [data.shape[0]! + firstSpikeTime, ...data.shape.slice(1)]);
  }
  if (numSteps === undefined || !Number.isInteger(numSteps) || numSteps < 1) {
    throw new SpikegenError('rate', 'numSteps', 'a positive integer for static data', String(numSteps));
  }
  if (firstSpikeTime > numSteps - 1) {
    throw new SpikegenError('rate', 'firstSpikeTime', `at most numSteps - 1 = ${numSteps - 1}`, String(firstSpikeTime));
  }
  const x = data.values;
  const n = x.length;
  const p = new Float32Array(n);
  const g = f32(gain);
  const o = f32(offset);
  for (let i = 0; i < n; i++) p[i] = f32(f32(x[i]! * g) + o);
  const out = new Float32Array(numSteps * n);
  for (let t = 0; t < numSteps; t++) {
    for (let i = 0; i < n; i++) {
      // draw even for zeroed steps so that the stream does not depend on firstSpikeTime
      const spike = rng.uniform() < p[i]!;
      out[t * n + i] = spike && t >= firstSpikeTime ? 1 : 0;
    }
  }
  return new Tensor(out, [numSteps, ...data.shape]);
}
