import { add, div, exp, log, mul, sub } from '../../tensor/ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { NeuronError } from '../errors.js';
import {
  applyReset,
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

/**
 * Give `beta` (R = 1 and C derived), `beta` with one of `R`/`C` (the other derived), or `R` and `C` (beta derived,
 * for reference only): as snnTorch, which fails on any other combination.
 */
export interface LapicqueOptions extends SpikingOptions {
  beta?: ParamInit;
  R?: number;
  C?: number;
  /** Euler step dt (default 1). */
  timeStep?: number;
  /** Makes beta trainable; the derived R or C then follows it (only in the beta forms). */
  learnBeta?: boolean;
}

export interface LapicqueState {
  readonly mem: Tensor;
}

export interface LapicqueParams extends SpikeParams {
  readonly R: Tensor;
  readonly C: Tensor;
  readonly timeStep: Tensor;
}

/**
 * Lapicque's RC neuron (snnTorch `Lapicque`), a first-order Euler step with tau = R*C:
 *   reset_t = H(m_{t-1} - thr)                                    (detached)
 *   base_t  = x_t*R*(1/(R*C))*dt + (1 - dt/(R*C))*m_{t-1}
 *   subtract: m_t = base_t - reset_t*thr ;  zero: m_t = base_t - reset_t*base_t ;  none: m_t = base_t
 *   m_t = stateQuant(m_t) when set;  spk_t = S(m_t - thr) * graded
 * In the beta form C = dt/(R*ln(1/beta)) (R = 1 unless given), so the decay is 1 - ln(1/beta) = 1 + ln(beta), not
 * beta: snnTorch's first-order update, kept as is (golden Lapicque_beta0.5). There is no resetDelay option.
 */
export function lapicqueStep(x: Tensor, state: LapicqueState, p: LapicqueParams): StepResult<LapicqueState> {
  const prev = lazyState('Lapicque', 'mem', state.mem, x.shape);
  const reset = resetSignal(prev, p);
  const rc = mul(p.R, p.C);
  const drive = mulParam(mulParam(mulParam(x, p.R), div(1, rc)), p.timeStep);
  const decay = sub(1, div(p.timeStep, rc));
  let mem = applyReset(add(drive, mulParam(prev, decay)), reset, p);
  mem = quantise(mem, p);
  const spk = fire(mem, p);
  return { spk, state: { mem } };
}

type Derived = 'C' | 'R' | 'beta';

/** snnTorch `Lapicque`: see `lapicqueStep`. */
export class Lapicque extends SpikingNeuron<LapicqueState> {
  /** Given, or exp(-dt/(R*C)) when derived from R and C (then unused by the update). */
  readonly beta: Tensor;
  readonly timeStep: Tensor;
  /** Which of beta, R, C was derived from the other two. */
  readonly derived: Derived;
  private readonly givenR: Tensor | null;
  private readonly givenC: Tensor | null;
  readonly stateNames = ['mem'] as const;

  constructor(options: LapicqueOptions = {}) {
    super('Lapicque', options, 'subtract');
    const where = 'Lapicque (src/snn/neurons)';
    const dt = options.timeStep ?? 1;
    const positive = (field: string, v: number | undefined): void => {
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
        throw new NeuronError(`${where}: ${field} must be a positive finite number, got ${String(v)}`);
      }
    };
    positive('timeStep', dt);
    positive('R', options.R);
    positive('C', options.C);
    this.timeStep = toParam('Lapicque', 'timeStep', dt, false);
    const { beta, R, C } = options;
    if (beta === undefined) {
      if (R === undefined || C === undefined) {
        throw new NeuronError(`${where}: give beta, or R and C (optionally beta with one of R and C)`);
      }
      if (options.learnBeta) {
        throw new NeuronError(`${where}: learnBeta needs the beta form; with R and C given, beta is not used`);
      }
      this.derived = 'beta';
      this.givenR = toParam('Lapicque', 'R', R, false);
      this.givenC = toParam('Lapicque', 'C', C, false);
      this.beta = exp(div(mul(this.timeStep, -1), mul(this.givenR, this.givenC))).detach();
    } else {
      if (R !== undefined && C !== undefined) {
        throw new NeuronError(`${where}: beta, R and C are over-determined; give beta with at most one of R and C`);
      }
      this.beta = toParam('Lapicque', 'beta', beta, options.learnBeta ?? false);
      if (this.beta.values.some((b) => !(b > 0 && b < 1))) {
        throw new NeuronError(`${where}: beta must lie in (0, 1) to derive R*C = dt/ln(1/beta)`);
      }
      this.derived = C === undefined ? 'C' : 'R';
      this.givenR = C === undefined ? toParam('Lapicque', 'R', R ?? 1, false) : null;
      this.givenC = C === undefined ? null : toParam('Lapicque', 'C', C, false);
    }
  }

  /** R and C for the current beta (recomputed on the tape when beta is trainable, so its gradient flows). */
  rc(): { R: Tensor; C: Tensor } {
    switch (this.derived) {
      case 'beta':
        return { R: this.givenR!, C: this.givenC! };
      case 'C': {
        const R = this.givenR!;
        return { R, C: div(this.timeStep, mul(R, log(div(1, this.beta)))) };
      }
      case 'R': {
        const C = this.givenC!;
        return { R: div(this.timeStep, mul(C, log(div(1, this.beta)))), C };
      }
    }
  }

  get params(): LapicqueParams {
    return { ...this.spikeParams(true), ...this.rc(), timeStep: this.timeStep };
  }

  step(x: Tensor, state: LapicqueState): StepResult<LapicqueState> {
    return lapicqueStep(x, state, this.params);
  }
}
