/**
 * Spiking neurons (snnTorch's `snntorch` top level): Leaky, Synaptic, Alpha, Lapicque, RLeaky, RSynaptic, each a
 * pure step function plus a Module, and `spike(u, surrogate)`. Surrogates are the `surrogate` namespace
 * (src/snn/surrogate), spike encoders the `spikegen` namespace.
 */
export * from './neurons/index.js';
export { spike, type Surrogate, type SurrogateName } from './surrogate/surrogate.js';
export { NeuronError, SurrogateError } from './errors.js';
