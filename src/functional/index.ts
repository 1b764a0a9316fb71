/**
 * snnTorch's `functional`: losses over output recordings `[T, B, C]` with int32 class ids `[B]`, accuracy
 * metrics and spike regularisers. Losses are factories: `ceRateLoss(options)` validates the options once and
 * returns `(output, targets) => Tensor`, differentiable through the tape.
 */
export { FunctionalError } from './errors.js';
export type { ClassWeight, PopulationOptions, Reduction, ReductionOptions, SpikeLoss } from './common.js';
export {
  ceRateLoss,
  ceCountLoss,
  ceMaxMembraneLoss,
  stepCrossEntropy,
  type CrossEntropyLossOptions,
} from './cross-entropy.js';
export { mseCountLoss, mseMembraneLoss, type MseCountLossOptions, type MseMembraneLossOptions } from './mse.js';
export {
  ceTemporalLoss,
  mseTemporalLoss,
  firstSpikeTime,
  type CeTemporalLossOptions,
  type MseTemporalLossOptions,
  type TemporalInverse,
} from './temporal.js';
export { l1RateSparsity, type L1RateSparsityOptions } from './regularization.js';
export { accuracyRate, accuracyTemporal } from './accuracy.js';
