import type { Conv2d, Linear } from '../../nn/layers.js';
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
import { applyRecurrence, buildRecurrent, recurrenceOf, type Recurrence, type RecurrentOptions } from './recurrent.js';

export interface RSynapticOptions extends SpikingOptions, RecurrentOptions {
  alpha: ParamInit;
  beta: ParamInit;
  learnAlpha?: boolean;
  learnBeta?: boolean;
  resetDelay?: boolean;
}

export interface RSynapticState {
  readonly spk: Tensor;
  readonly syn: Tensor;
  readonly mem: Tensor;
}

export interface RSynapticParams extends SpikeParams {
  readonly alpha: Tensor;
  readonly beta: Tensor;
  readonly recurrence: Recurrence;
}

/**
 * Recurrent synaptic neuron (snnTorch `RSynaptic`), a = clamp(alpha,0,1), b = clamp(beta,0,1):
 *   reset_t = H(m_{t-1} - thr)                                    (detached)
 *   syn_t = a*syn_{t-1} + x_t + rec(spk_{t-1})                    (rec: Linear, Conv2d or spk*V)
 *   m_t   = b*m_{t-1} + syn_t
 *   subtract: m_t -= reset_t*thr ;  zero: m_t -= m_t*reset_t (the current is not reset) ;  none: -
 *   syn_t, m_t = stateQuant(...) when set;  spk_t = S(m_t - thr) * graded
 *   resetDelay = false: the same-step correction of `immediateReset` on m_t (a no-op in snnTorch 0.9.4, which
 *   writes it to local variables; applied here as documented).
 */
export function rsynapticStep(x: Tensor, state: RSynapticState, p: RSynapticParams): StepResult<RSynapticState> {
  const spkPrev = lazyState('RSynaptic', 'spk', state.spk, x.shape);
  const synPrev = lazyState('RSynaptic', 'syn', state.syn, x.shape);
  const memPrev = lazyState('RSynaptic', 'mem', state.mem, x.shape);
  const reset = resetSignal(memPrev, p);
  let syn = add(add(mulParam(synPrev, clampUnit(p.alpha)), x), applyRecurrence(spkPrev, p.recurrence));
  let mem = applyReset(add(mulParam(memPrev, clampUnit(p.beta)), syn), reset, p);
  syn = quantise(syn, p);
  mem = quantise(mem, p);
  const spk = fire(mem, p);
  mem = immediateReset(mem, spk, reset, p);
  return { spk, state: { spk, syn, mem } };
}

/** snnTorch `RSynaptic`: see `rsynapticStep`. */
export class RSynaptic extends SpikingNeuron<RSynapticState> {
  readonly beta: Tensor;
  readonly V: Tensor | null;
  readonly recurrent: Linear | Conv2d | null;
  readonly alpha: Tensor;
  readonly resetDelay: boolean;
  readonly stateNames = ['spk', 'syn', 'mem'] as const;

  constructor(options: RSynapticOptions) {
    super('RSynaptic', options, 'subtract');
    if (options?.alpha === undefined || options.beta === undefined) {
      throw new NeuronError('RSynaptic (src/snn/neurons): options.alpha and options.beta are required');
    }
    this.beta = toParam('RSynaptic', 'beta', options.beta, options.learnBeta ?? false);
    const { recurrent, V } = buildRecurrent('RSynaptic', options);
    this.V = V;
    this.recurrent = recurrent;
    this.alpha = toParam('RSynaptic', 'alpha', options.alpha, options.learnAlpha ?? false);
    this.resetDelay = options.resetDelay ?? true;
  }

  get params(): RSynapticParams {
    return {
      ...this.spikeParams(this.resetDelay),
      alpha: this.alpha,
      beta: this.beta,
      recurrence: recurrenceOf(this.recurrent, this.V),
    };
  }

  step(x: Tensor, state: RSynapticState): StepResult<RSynapticState> {
    return rsynapticStep(x, state, this.params);
  }
}
