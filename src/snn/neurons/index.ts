export {
  type ResetMechanism,
  type StateQuant,
  type ParamInit,
  type SpikingOptions,
  type SpikeParams,
  type StepResult,
} from './common.js';
export { SpikingNeuron, detachState, type NeuronState, type SequenceResult } from './neuron.js';
export {
  Leaky,
  leakyStep,
  type LeakyOptions,
  type LeakyState,
  type LeakyParams,
  type SequenceEngine,
} from './leaky.js';
export { lifSequence, type FusedLifConfig } from './leaky-fused.js';
export { Synaptic, synapticStep, type SynapticOptions, type SynapticState, type SynapticParams } from './synaptic.js';
export { Alpha, alphaStep, type AlphaOptions, type AlphaState, type AlphaParams } from './alpha.js';
export { Lapicque, lapicqueStep, type LapicqueOptions, type LapicqueState, type LapicqueParams } from './lapicque.js';
export { RLeaky, rleakyStep, type RLeakyOptions, type RLeakyState, type RLeakyParams } from './rleaky.js';
export {
  RSynaptic,
  rsynapticStep,
  type RSynapticOptions,
  type RSynapticState,
  type RSynapticParams,
} from './rsynaptic.js';
export { applyRecurrence, type Recurrence, type RecurrentOptions } from './recurrent.js';
