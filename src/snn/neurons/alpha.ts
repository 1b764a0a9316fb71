import { add, div, log, mul, neg, sub } from '../../tensor/ops/elementwise.js';
import { broadcastIndex, broadcastShapes } from '../../tensor/ops/broadcast.js';
import { sizeOf, type Tensor } from '../../tensor/tensor.js';
import { NeuronError } from '../errors.js';
import {
  clampUnit,
  fire,
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

export interface AlphaOptions extends SpikingOptions {
  /** Excitatory current decay, clamped to [0, 1]; must exceed beta. */
  alpha: ParamInit;
  /** Inhibitory current decay, clamped to [0, 1]; must not be 1. */
  beta: ParamInit;
  learnAlpha?: boolean;
  learnBeta?: boolean;
}

export interface AlphaState {
  readonly synExc: Tensor;
  readonly synInh: Tensor;
  readonly mem: Tensor;
}

export interface AlphaParams extends SpikeParams {
  readonly alpha: Tensor;
  readonly beta: Tensor;
}

/**
 * Alpha-kernel neuron (snnTorch `Alpha`; default reset 'zero'), a = clamp(alpha,0,1), b = clamp(beta,0,1):
 *   tau   = ln(a) / (ln(b) - ln(a)) + 1
 *   reset_t = H(m_{t-1} - thr)                                (detached)
 *   E_t = a*E_{t-1} + x_t ;  I_t = b*I_{t-1} - x_t ;  m_t = tau*(E_t + I_t)
 *   subtract: E_t -= thr*reset_t ;  I_t -= I_t*reset_t ;  m_t -= (-I_{t-1})*reset_t
 *   zero:     E_t -= E_t*reset_t ;  I_t -= I_t*reset_t ;  m_t -= m_t*reset_t
 *   E, I, m = stateQuant(...) when set;  spk_t = S(m_t - thr) * graded
 * The membrane is rebuilt from the two currents each step (m_{t-1} only decides the reset). There is no
 * resetDelay option, as in snnTorch.
 */
export function alphaStep(x: Tensor, state: AlphaState, p: AlphaParams): StepResult<AlphaState> {
  const excPrev = lazyState('Alpha', 'synExc', state.synExc, x.shape);
  const inhPrev = lazyState('Alpha', 'synInh', state.synInh, x.shape);
  const memPrev = lazyState('Alpha', 'mem', state.mem, x.shape);
  const reset = resetSignal(memPrev, p);
  const a = clampUnit(p.alpha);
  const b = clampUnit(p.beta);
  const logA = log(a);
  const tau = add(div(logA, sub(log(b), logA)), 1);
  let exc = add(mulParam(excPrev, a), x);
  let inh = sub(mulParam(inhPrev, b), x);
  let mem = mulParam(add(exc, inh), tau);
  switch (p.resetMechanism) {
    case 'subtract':
      exc = sub(exc, mulParam(reset, p.threshold));
      inh = sub(inh, mul(inh, reset));
      mem = sub(mem, mul(neg(inhPrev), reset));
      break;
    case 'zero':
      exc = sub(exc, mul(exc, reset));
      inh = sub(inh, mul(inh, reset));
      mem = sub(mem, mul(mem, reset));
      break;
    case 'none':
      break;
  }
  exc = quantise(exc, p);
  inh = quantise(inh, p);
  mem = quantise(mem, p);
  const spk = fire(mem, p);
  return { spk, state: { synExc: exc, synInh: inh, mem } };
}

/** snnTorch `Alpha`: see `alphaStep`. Requires alpha > beta (after clamping alpha) and beta != 1, like snnTorch. */
export class Alpha extends SpikingNeuron<AlphaState> {
  readonly beta: Tensor;
  readonly alpha: Tensor;
  readonly stateNames = ['synExc', 'synInh', 'mem'] as const;

  constructor(options: AlphaOptions) {
    super('Alpha', options, 'zero');
    if (options?.alpha === undefined || options.beta === undefined) {
      throw new NeuronError('Alpha (src/snn/neurons): options.alpha and options.beta are required');
    }
    this.beta = toParam('Alpha', 'beta', options.beta, options.learnBeta ?? false);
    this.alpha = toParam('Alpha', 'alpha', options.alpha, options.learnAlpha ?? false);
    checkAlphaBeta(this.alpha, this.beta);
  }

  get params(): AlphaParams {
    return { ...this.spikeParams(true), alpha: this.alpha, beta: this.beta };
  }

  step(x: Tensor, state: AlphaState): StepResult<AlphaState> {
    return alphaStep(x, state, this.params);
  }
}

/** snnTorch's `_alpha_cases`: clamp(alpha) > beta everywhere, and beta != 1 (tau would divide by zero). */
function checkAlphaBeta(alpha: Tensor, beta: Tensor): void {
  const shape = broadcastShapes(alpha.shape, beta.shape);
  const ia = broadcastIndex(alpha.shape, shape);
  const ib = broadcastIndex(beta.shape, shape);
  for (let i = 0; i < sizeOf(shape); i++) {
    const a = Math.min(Math.max(alpha.values[ia[i]!]!, 0), 1);
    const b = beta.values[ib[i]!]!;
    if (b === 1) throw new NeuronError('Alpha (src/snn/neurons): beta cannot be 1 (tau = ln a/(ln b - ln a) + 1)');
    if (!(a > b)) {
      throw new NeuronError(`Alpha (src/snn/neurons): alpha must be greater than beta, got alpha ${a} and beta ${b}`);
    }
  }
}
