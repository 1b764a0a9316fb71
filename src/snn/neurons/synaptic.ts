import { add } from '../../tensor/ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { NeuronError } from '../errors.js';
import {
  applyReset,
  clampUnit,
  fire,
  immediateReset,
  lazyState,
  mulParam,
  quantise,
  resetSignal,
  toParam,
  type ParamInit,
  type SpikeParams,
  type SpikingOptions,
  type StepResult,
} from './common.js';
import { SpikingNeuron } from './neuron.js';

export interface SynapticOptions extends SpikingOptions {
  /** Synaptic current decay, clamped to [0, 1] at every use. */
  alpha: ParamInit;
  /** Membrane decay, clamped to [0, 1] at every use. */
  beta: ParamInit;
  learnAlpha?: boolean;
  learnBeta?: boolean;
  resetDelay?: boolean;
}

export interface SynapticState {
  readonly syn: Tensor;
  readonly mem: Tensor;
}

export interface SynapticParams extends SpikeParams {
  readonly alpha: Tensor;
  readonly beta: Tensor;
}

/**
 * Second-order LIF with a synaptic current (snnTorch `Synaptic`), a = clamp(alpha,0,1), b = clamp(beta,0,1):
 *   reset_t = H(m_{t-1} - thr)                     (detached)
 *   syn_t = a*syn_{t-1} + x_t
 *   m_t   = b*m_{t-1} + syn_t
 *   subtract: m_t -= reset_t*thr ;  zero: m_t -= m_t*reset_t (the current is not reset) ;  none: -
 *   syn_t, m_t = stateQuant(...) when set;  spk_t = S(m_t - thr) * graded
 *   resetDelay = false: the same-step correction of `immediateReset` on m_t.
 * snnTorch 0.9.4 accepts `reset_delay=False` but writes the correction to a local variable, so it has no effect
 * there; spikets applies it as documented (see docs/numerics-neurons.md).
 */
export function synapticStep(x: Tensor, state: SynapticState, p: SynapticParams): StepResult<SynapticState> {
  const synPrev = lazyState('Synaptic', 'syn', state.syn, x.shape);
  const memPrev = lazyState('Synaptic', 'mem', state.mem, x.shape);
  const reset = resetSignal(memPrev, p);
  let syn = add(mulParam(synPrev, clampUnit(p.alpha)), x);
  let mem = applyReset(add(mulParam(memPrev, clampUnit(p.beta)), syn), reset, p);
  mem = quantise(mem, p);
  syn = quantise(syn, p);
  const spk = fire(mem, p);
  mem = immediateReset(mem, spk, reset, p);
  return { spk, state: { syn, mem } };
}

/** snnTorch `Synaptic`: see `synapticStep` for the equations. */
export class Synaptic extends SpikingNeuron<SynapticState> {
  readonly beta: Tensor;
  readonly alpha: Tensor;
  readonly resetDelay: boolean;
  readonly stateNames = ['syn', 'mem'] as const;

  constructor(options: SynapticOptions) {
    super('Synaptic', options, 'subtract');
    if (options?.alpha === undefined || options.beta === undefined) {
      throw new NeuronError('Synaptic (src/snn/neurons): options.alpha and options.beta are required');
    }
    this.beta = toParam('Synaptic', 'beta', options.beta, options.learnBeta ?? false);
    this.alpha = toParam('Synaptic', 'alpha', options.alpha, options.learnAlpha ?? false);
    this.resetDelay = options.resetDelay ?? true;
  }

  get params(): SynapticParams {
    return { ...this.spikeParams(this.resetDelay), alpha: this.alpha, beta: this.beta };
  }

  step(x: Tensor, state: SynapticState): StepResult<SynapticState> {
    return synapticStep(x, state, this.params);
  }
}
