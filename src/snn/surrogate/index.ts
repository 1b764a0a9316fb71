/**
 * Surrogate gradients (snnTorch's `snntorch.surrogate`): Heaviside spikes forward, a smooth stand-in derivative
 * backward. Pass one to a neuron as `spikeGrad`; `spike(u, s)` applies it to a shifted membrane directly.
 */
export { spike, heavisideStep, type Surrogate, type SurrogateName } from './surrogate.js';
export {
  atan,
  fastSigmoid,
  sigmoid,
  sparseFastSigmoid,
  triangular,
  straightThroughEstimator,
  heaviside,
  spikeRateEscape,
  leakySpikeOperator,
  custom,
} from './functions.js';
export { stochasticSpikeOperator } from './stochastic.js';
export { SurrogateError } from '../errors.js';
