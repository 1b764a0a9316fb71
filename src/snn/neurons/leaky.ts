import { add, mul, sub } from '../../tensor/ops/elementwise.js';
import { index } from '../../tensor/ops/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { NeuronError } from '../errors.js';
import {
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
import { lifSequence, type FusedLifConfig } from './leaky-fused.js';
import { checkSequence, SpikingNeuron, type SequenceResult } from './neuron.js';

export interface LeakyOptions extends SpikingOptions {
  /** Membrane decay per step, clamped to [0, 1] at every use; a number or one value per neuron. */
  beta: ParamInit;
  learnBeta?: boolean;
  /** True (default): a spike's reset is applied at the next step. False: also within the firing step. */
  resetDelay?: boolean;
}

export interface LeakyState {
  readonly mem: Tensor;
}

export interface LeakyParams extends SpikeParams {
  readonly beta: Tensor;
}

/**
 * First-order leaky integrate-and-fire (snnTorch `Leaky`), b = clamp(beta, 0, 1):
 *   reset_t = H(m_{t-1} - thr)                                   (detached)
 *   subtract: m_t = b*m_{t-1} + x_t - reset_t*thr
 *   zero:     m_t = b*((1 - reset_t)*m_{t-1}) + x_t
 *   none:     m_t = b*m_{t-1} + x_t
 *   m_t = stateQuant(m_t) when set
 *   spk_t = S(m_t - thr) * graded                                 (H(u) = u > 0 forward, surrogate backward)
 *   resetDelay = false: m_t -= do_reset*thr (subtract) or do_reset*m_t (zero), do_reset = spk_t/graded - reset_t
 */
export function leakyStep(x: Tensor, state: LeakyState, p: LeakyParams): StepResult<LeakyState> {
  const prev = lazyState('Leaky', 'mem', state.mem, x.shape);
  const reset = resetSignal(prev, p);
  const beta = clampUnit(p.beta);
  let mem: Tensor;
  switch (p.resetMechanism) {
    case 'subtract':
      mem = sub(add(mulParam(prev, beta), x), mulParam(reset, p.threshold));
      break;
    case 'zero': {
      const keep = new Tensor(
        reset.values.map((r) => 1 - r),
        reset.shape,
      );
      mem = add(mulParam(mul(keep, prev), beta), x);
      break;
    }
    case 'none':
      mem = add(mulParam(prev, beta), x);
      break;
  }
  mem = quantise(mem, p);
  const spk = fire(mem, p);
  mem = immediateReset(mem, spk, reset, p);
  return { spk, state: { mem } };
}

/** How `forwardSequence` runs: 'auto' picks the fused kernel when the options allow it, else the step loop. */
export type SequenceEngine = 'auto' | 'loop' | 'fused';

/** snnTorch `Leaky`: see `leakyStep` for the equations and `SpikingNeuron` for the three ways to run it. */
export class Leaky extends SpikingNeuron<LeakyState> {
  readonly beta: Tensor;
  readonly resetDelay: boolean;
  readonly stateNames = ['mem'] as const;

  constructor(options: LeakyOptions) {
    super('Leaky', options, 'subtract');
    if (options?.beta === undefined) throw new NeuronError('Leaky (src/snn/neurons): options.beta is required');
    this.beta = toParam('Leaky', 'beta', options.beta, options.learnBeta ?? false);
    this.resetDelay = options.resetDelay ?? true;
  }

  get params(): LeakyParams {
    return { ...this.spikeParams(this.resetDelay), beta: this.beta };
  }

  step(x: Tensor, state: LeakyState): StepResult<LeakyState> {
    return leakyStep(x, state, this.params);
  }

  /**
   * The fused kernel's constants, or null when an option needs the general step: it requires scalar constant beta
   * and threshold, resetDelay, graded factor 1 (constant), no inhibition or stateQuant, and a surrogate the kernel
   * knows (atan, fastSigmoid) with the surrogate enabled.
   */
  fusedConfig(): FusedLifConfig | null {
    const constScalar = (t: Tensor): boolean => t.size === 1 && !t.requiresGrad;
    const fused = this.spikeGrad.fused;
    if (
      !fused ||
      this.surrogateDisable ||
      !constScalar(this.beta) ||
      !constScalar(this.threshold) ||
      !constScalar(this.gradedSpikesFactor) ||
      this.gradedSpikesFactor.values[0] !== 1 ||
      !this.resetDelay ||
      this.inhibition ||
      this.stateQuant
    ) {
      return null;
    }
    return {
      beta: Math.min(Math.max(this.beta.values[0]!, 0), 1),
      threshold: this.threshold.values[0]!,
      reset: this.resetMechanism,
      surrogate: fused,
    };
  }

  /** `x [T, B, ...]` -> spikes and membranes `[T, B, ...]`; fused into one tape node when `fusedConfig()` allows. */
  override forwardSequence(
    x: Tensor,
    state: LeakyState = this.initState(),
    options: { engine?: SequenceEngine } = {},
  ): SequenceResult<LeakyState> {
    const engine = options.engine ?? 'auto';
    const config = engine === 'loop' ? null : this.fusedConfig();
    if (engine === 'fused' && !config) {
      throw new NeuronError(
        "Leaky.forwardSequence (src/snn/neurons): engine 'fused' needs scalar constant beta/threshold, resetDelay, graded factor 1, no inhibition/stateQuant and an atan or fastSigmoid surrogate",
      );
    }
    if (!config) return super.forwardSequence(x, state);
    const steps = checkSequence('Leaky', x);
    const mem0 = lazyState('Leaky', 'mem', state.mem, x.shape.slice(1));
    const { spk, mem } = lifSequence(x, mem0, config);
    return { spk, mem, state: { mem: index(mem, steps - 1) } };
  }
}
