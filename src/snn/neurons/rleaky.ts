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

export interface RLeakyOptions extends SpikingOptions, RecurrentOptions {
  beta: ParamInit;
  learnBeta?: boolean;
  resetDelay?: boolean;
}

/** The previous spikes are state: they feed the recurrence at the next step (with their surrogate gradient). */
export interface RLeakyState {
  readonly spk: Tensor;
  readonly mem: Tensor;
}

export interface RLeakyParams extends SpikeParams {
  readonly beta: Tensor;
  readonly recurrence: Recurrence;
}

/**
 * Recurrent leaky integrate-and-fire (snnTorch `RLeaky`), b = clamp(beta, 0, 1):
 *   reset_t = H(m_{t-1} - thr)                                    (detached)
 *   base_t  = b*m_{t-1} + x_t + rec(spk_{t-1})                    (rec: Linear, Conv2d or spk*V)
 *   subtract: m_t = base_t - reset_t*thr ;  zero: m_t = base_t - reset_t*base_t ;  none: m_t = base_t
 *   m_t = stateQuant(m_t) when set;  spk_t = S(m_t - thr) * graded
 *   resetDelay = false: the same-step correction of `immediateReset` on m_t.
 * spk_{t-1} is not detached, so gradients flow through the recurrence and the surrogate.
 */
export function rleakyStep(x: Tensor, state: RLeakyState, p: RLeakyParams): StepResult<RLeakyState> {
  const spkPrev = lazyState('RLeaky', 'spk', state.spk, x.shape);
  const memPrev = lazyState('RLeaky', 'mem', state.mem, x.shape);
  const reset = resetSignal(memPrev, p);
  const base = add(add(mulParam(memPrev, clampUnit(p.beta)), x), applyRecurrence(spkPrev, p.recurrence));
  let mem = quantise(applyReset(base, reset, p), p);
  const spk = fire(mem, p);
  mem = immediateReset(mem, spk, reset, p);
  return { spk, state: { spk, mem } };
}

/** snnTorch `RLeaky`: see `rleakyStep`. Parameters: threshold, gradedSpikesFactor, beta, V or recurrent.*. */
export class RLeaky extends SpikingNeuron<RLeakyState> {
  readonly beta: Tensor;
  readonly V: Tensor | null;
  readonly recurrent: Linear | Conv2d | null;
  readonly resetDelay: boolean;
  readonly stateNames = ['spk', 'mem'] as const;

  constructor(options: RLeakyOptions) {
    super('RLeaky', options, 'subtract');
    if (options?.beta === undefined) throw new NeuronError('RLeaky (src/snn/neurons): options.beta is required');
    this.beta = toParam('RLeaky', 'beta', options.beta, options.learnBeta ?? false);
    const { recurrent, V } = buildRecurrent('RLeaky', options);
    this.V = V;
    this.recurrent = recurrent;
    this.resetDelay = options.resetDelay ?? true;
  }

  get params(): RLeakyParams {
    return {
      ...this.spikeParams(this.resetDelay),
      beta: this.beta,
      recurrence: recurrenceOf(this.recurrent, this.V),
    };
  }

  step(x: Tensor, state: RLeakyState): StepResult<RLeakyState> {
    return rleakyStep(x, state, this.params);
  }
}
