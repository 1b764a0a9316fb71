/**
 * Spike generators (snnTorch's `spikegen`): encode data or class targets as spike trains, time first `[T, ...]`.
 * Random encoders take an explicit `Rng`; everything else is deterministic.
 */
export { SpikegenError } from './errors.js';
export { rate, rateConv, type RateOptions } from './rate.js';
export {
  latency,
  latencyCode,
  latencyInterpolate,
  type LatencyCode,
  type LatencyCodeOptions,
  type LatencyOptions,
} from './latency.js';
export { delta, type DeltaOptions } from './delta.js';
export {
  toOneHot,
  fromOneHot,
  targetRateCode,
  rateInterpolate,
  targetsRate,
  targetsLatency,
  targetsConvert,
  type FiringPattern,
  type TargetRateCodeOptions,
  type TargetsRateOptions,
  type TargetsConvertOptions,
} from './targets.js';
