import { Tensor } from '../../tensor/tensor.js';
import { SpikegenError } from './errors.js';
import { f32, minMax, roundHalfEven } from './float32.js';

export interface LatencyCodeOptions {
  /** Number of steps T; needed with `normalize`. */
  numSteps?: number;
  /** Features below it fire at the latest time (or not at all with `clip`); in (0, 1). Default 0.01. */
  threshold?: number;
  /** Time constant of the RC charge (log code) or slope (linear code); > 0. Default 1. */
  tau?: number;
  /** Earliest spike time; an integer in [0, T-1]. Default 0. */
  firstSpikeTime?: number;
  /** Rescale the times so that the latest lies at T-1. Default false. */
  normalize?: boolean;
  /** Linear instead of logarithmic code. Default false. */
  linear?: boolean;
  /** Keeps `x - threshold` away from 0 in the log code. Default 1e-7. */
  epsilon?: number;
}

export interface LatencyOptions extends LatencyCodeOptions {
  /** Value written at spike times. Default 1. */
  onTarget?: number;
  /** Lower bound of every output element (`out = max(spike * onTarget, offTarget)`). Default 0. */
  offTarget?: number;
  /** Drop the spikes of features below `threshold`. Default false. */
  clip?: boolean;
  /** Ramp each output linearly from offTarget to onTarget up to its spike (a membrane target). Default false. */
  interpolate?: boolean;
  /**
   * Without `numSteps`: T = round(max spike time) + 1. With `numSteps`: spikes beyond T-1 are dropped instead of
   * raising an error. Default false.
   */
  bypass?: boolean;
}

export interface LatencyCode {
  /** Spike time of every element (float32, same shape as the data). */
  spikeTime: Tensor;
  /** 1 where the feature is below the threshold (float32 0/1, same shape as the data). */
  belowThreshold: Tensor;
}

function checkCodeOptions(fn: string, o: LatencyCodeOptions): Required<Omit<LatencyCodeOptions, 'numSteps'>> {
  const { threshold = 0.01, tau = 1, firstSpikeTime = 0, normalize = false, linear = false, epsilon = 1e-7 } = o;
  if (!(threshold > 0 && threshold < 1))
    throw new SpikegenError(fn, 'threshold', 'a value in (0, 1)', String(threshold));
  if (!(tau > 0)) throw new SpikegenError(fn, 'tau', 'a value > 0', String(tau));
  if (!Number.isInteger(firstSpikeTime) || firstSpikeTime < 0) {
    throw new SpikegenError(fn, 'firstSpikeTime', 'a non-negative integer', String(firstSpikeTime));
  }
  if (o.numSteps !== undefined) {
    if (!Number.isInteger(o.numSteps) || o.numSteps < 1) {
      throw new SpikegenError(fn, 'numSteps', 'a positive integer', String(o.numSteps));
    }
    if (firstSpikeTime > o.numSteps - 1) {
      throw new SpikegenError(fn, 'firstSpikeTime', `at most numSteps - 1 = ${o.numSteps - 1}`, String(firstSpikeTime));
    }
  }
  if (normalize && o.numSteps === undefined)
    throw new SpikegenError(fn, 'numSteps', 'a value with normalize', 'undefined');
  return { threshold, tau, firstSpikeTime, normalize, linear, epsilon };
}

/**
 * Spike times of features `x` (snnTorch's `latency_code`), computed in float32 like PyTorch:
 *
 * log code:    `t = tau * ln(x' / (x' - thr))` with `x' = max(x, thr + epsilon)`, then `t += fst`;
 *              normalize: `t = (t - fst) * (T - fst - 1) / max(t - fst) + fst`.
 * linear code: normalize sets `tau = T - 1 - fst`; `t = min(-tau * (x - 1), -tau * (thr - 1)) + fst`;
 *              if normalize and min(t) < 0: `t = (t - min t) / (max t - min t) * (T - 1)`.
 *
 * `belowThreshold = x < thr`. Larger features spike earlier; features at or below the threshold saturate at the
 * latest time.
 */
export function latencyCode(data: Tensor, options: LatencyCodeOptions = {}): LatencyCode {
  const o = checkCodeOptions('latencyCode', options);
  const x = data.values;
  const n = x.length;
  const st = new Float32Array(n);
  const below = new Float32Array(n);
  const thr = f32(o.threshold);
  for (let i = 0; i < n; i++) below[i] = x[i]! < thr ? 1 : 0;
  const fst = o.firstSpikeTime;
  const T = options.numSteps ?? 0;
  if (!o.linear) {
    const floor = f32(o.threshold + o.epsilon);
    const tau = f32(o.tau);
    for (let i = 0; i < n; i++) {
      const xi = Math.max(x[i]!, floor);
      const t = f32(tau * f32(Math.log(f32(xi / f32(xi - thr)))));
      st[i] = fst > 0 ? f32(t + fst) : t;
    }
    if (o.normalize) {
      let m = -Infinity;
      for (let i = 0; i < n; i++) m = Math.max(m, f32(st[i]! - fst));
      for (let i = 0; i < n; i++) st[i] = f32(f32(f32(f32(st[i]! - fst) * (T - fst - 1)) / m) + fst);
    }
  } else {
    const tau = o.normalize ? T - 1 - fst : o.tau;
    const negTau = f32(-tau);
    const cap = f32(-tau * (o.threshold - 1));
    for (let i = 0; i < n; i++) st[i] = f32(Math.min(f32(negTau * f32(x[i]! - 1)), cap) + fst);
    const [lo, hi] = minMax(st);
    if (lo < 0 && o.normalize) {
      // only reachable for data above 1, which latency() rejects; kept for latencyCode on raw features
      const inv = f32(1 / f32(hi - lo));
      for (let i = 0; i < n; i++) st[i] = f32(f32(f32(st[i]! - lo) * inv) * (T - 1));
    }
  }
  return { spikeTime: new Tensor(st, data.shape), belowThreshold: new Tensor(below, data.shape) };
}

/**
 * Latency coding, time first: each feature of `data` (values in [0, 1]) emits one spike at step
 * `round(spikeTime)` (round half to even, see `latencyCode`), output `[T, ...data.shape]` with
 * `out = max(spike * onTarget, offTarget)`.
 *
 * - `clip`: features below the threshold do not spike.
 * - a spike time beyond T-1 is an error unless `bypass` (then that spike is dropped).
 * - `interpolate`: instead of spikes, each element ramps `off + (on - off) * t / round(spikeTime)` up to its spike
 *   and is `offTarget` after it (`latencyInterpolate`); `clip` does not apply there (as in snnTorch).
 */
export function latency(data: Tensor, options: LatencyOptions = {}): Tensor {
  const { onTarget = 1, offTarget = 0, clip = false, interpolate = false, bypass = false } = options;
  const x = data.values;
  if (x.length > 0) {
    const [lo, hi] = minMax(x);
    if (lo < 0 || hi > 1) throw new SpikegenError('latency', 'data', 'values in [0, 1]', `[${lo}, ${hi}]`);
  }
  if (options.numSteps === undefined && !bypass) {
    throw new SpikegenError('latency', 'numSteps', 'a positive integer (or bypass: true to derive it)', 'undefined');
  }
  const { spikeTime, belowThreshold } = latencyCode(data, options);
  const st = spikeTime.values;
  const latest = st.length > 0 ? roundHalfEven(minMax(st)[1]) : 0;
  let T = options.numSteps ?? 0;
  if (options.numSteps === undefined) {
    T = latest + 1;
    if (T <= 0) throw new SpikegenError('latency', 'numSteps', 'a derived value > 0', String(T));
  }
  if (latest > T - 1 && !bypass) {
    throw new SpikegenError(
      'latency',
      'numSteps',
      `more than the latest spike time ${latest} (or normalize: true, a smaller tau, or bypass: true)`,
      String(T),
    );
  }
  if (interpolate) return latencyInterpolate(spikeTime, T, { onTarget, offTarget });
  const n = st.length;
  const on = f32(onTarget);
  const off = f32(offTarget);
  const spikeValue = Math.max(on, off);
  const rest = Math.max(0, off);
  const out = new Float32Array(T * n).fill(rest);
  const below = belowThreshold.values;
  for (let i = 0; i < n; i++) {
    const step = roundHalfEven(st[i]!);
    if (step < 0) throw new SpikegenError('latency', 'spikeTime', 'non-negative times', String(st[i]));
    if (step > T - 1) continue; // beyond the window (bypass): dropped
    if (clip && below[i] !== 0) continue;
    out[step * n + i] = spikeValue;
  }
  return new Tensor(out, [T, ...data.shape]);
}

/**
 * Membrane-style latency target (snnTorch's `latency_interpolate`): with `s = round(spikeTime)` per element,
 * `out[t] = off + (on - off) * t / s` for `t <= s` and `off` after the spike (any value above `on` is set to
 * `off`). `s = 0` gives `on` at step 0; `s > T` gives `off` everywhere. Output `[T, ...spikeTime.shape]`.
 */
export function latencyInterpolate(
  spikeTime: Tensor,
  numSteps: number,
  options: { onTarget?: number; offTarget?: number } = {},
): Tensor {
  const { onTarget = 1, offTarget = 0 } = options;
  if (onTarget < offTarget) {
    throw new SpikegenError('latencyInterpolate', 'onTarget', `>= offTarget (${offTarget})`, String(onTarget));
  }
  const st = spikeTime.values;
  const n = st.length;
  const span = f32(onTarget - offTarget);
  const on = f32(onTarget);
  const off = f32(offTarget);
  const out = new Float32Array(numSteps * n);
  for (let i = 0; i < n; i++) {
    let s = roundHalfEven(st[i]!);
    if (s > numSteps) s = 0.5; // never reaches 1 within the window
    for (let t = 0; t < numSteps; t++) {
      // s = 0: step 0 is the spike, later steps t / 0.5 > 1 fall back to off
      const ramp = s === 0 ? (t === 0 ? 1 : 2 * t) : f32(t / s);
      const v = f32(f32(ramp * span) + off);
      out[t * n + i] = v > on ? off : v;
    }
  }
  return new Tensor(out, [numSteps, ...spikeTime.shape]);
}
