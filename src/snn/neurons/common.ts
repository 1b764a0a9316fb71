import { Parameter } from '../../nn/module.js';
import { noGrad } from '../../tensor/autograd.js';
import { clamp, div, mapWithGrad, mul, scale, sub } from '../../tensor/ops/elementwise.js';
import { Tensor, shapeToString, zeros, type Shape } from '../../tensor/tensor.js';
import { NeuronError } from '../errors.js';
import { spike, type Surrogate } from '../surrogate/surrogate.js';

/*
 * The pieces every neuron's step shares (snnTorch 0.9.4 `SpikingNeuron`), u = mem - threshold:
 *   reset_t = H(m_{t-1} - thr), detached (no gradient flows through the reset signal; computed before the update)
 *   spk_t   = S(m_t - thr) * graded        S = Heaviside forward, surrogate derivative backward
 *   inhibition: spk_t is kept only at the largest u along dim 1 (the feature/channel axis) of each sample
 *   reset_delay = false (applied right after firing, in the same step):
 *     do_reset = spk_t / graded - reset_t          (not detached: the surrogate gradient flows through spk_t)
 *     subtract: m_t <- m_t - do_reset * thr ;  zero: m_t <- m_t - do_reset * m_t ;  none: unchanged
 * Every helper rounds to float32 after each operation in PyTorch's order, so states match snnTorch bit for bit.
 */

export type ResetMechanism = 'subtract' | 'zero' | 'none';

/** A quantisation of a hidden state (snnTorch `state_quant`), applied to the states after each update. */
export type StateQuant = (x: Tensor) => Tensor;

/** A neuron constant: one value for the layer, or a tensor broadcast against the input (one per neuron). */
export type ParamInit = number | Tensor;

/** Options shared by every spiking neuron (snnTorch `SpikingNeuron`). */
export interface SpikingOptions {
  /** Firing threshold (default 1). */
  threshold?: ParamInit;
  learnThreshold?: boolean;
  /** Surrogate used by backward (default `atan({ alpha: 2 })`). */
  spikeGrad?: Surrogate;
  /** Spikes carry no gradient at all (snnTorch's ONNX-friendly bypass); `spikeGrad` is ignored. */
  surrogateDisable?: boolean;
  resetMechanism?: ResetMechanism;
  /** Spikes are scaled by this factor (default 1). */
  gradedSpikesFactor?: ParamInit;
  learnGradedSpikesFactor?: boolean;
  /** Only the neuron with the largest membrane along dim 1 may fire (snnTorch: unstable, dense layers). */
  inhibition?: boolean;
  stateQuant?: StateQuant;
}

/** The resolved firing and reset parameters a pure step function reads. */
export interface SpikeParams {
  readonly threshold: Tensor;
  readonly gradedSpikesFactor: Tensor;
  readonly surrogate: Surrogate;
  readonly surrogateDisable: boolean;
  readonly resetMechanism: ResetMechanism;
  readonly resetDelay: boolean;
  readonly inhibition: boolean;
  readonly stateQuant: StateQuant | null;
}

export interface StepResult<S> {
  /** Spikes `[B, ...]` (0/1 times the graded factor). */
  readonly spk: Tensor;
  readonly state: S;
}

const RESETS: readonly ResetMechanism[] = ['subtract', 'zero', 'none'];

export function checkReset(neuron: string, value: unknown): ResetMechanism {
  if (!RESETS.includes(value as ResetMechanism)) {
    throw new NeuronError(
      `${neuron} (src/snn/neurons): resetMechanism must be 'subtract', 'zero' or 'none', got ${JSON.stringify(value)}`,
    );
  }
  return value as ResetMechanism;
}

/** A neuron constant as a float32 tensor (copied): a trainable `Parameter` when `learn`, else a constant. */
export function toParam(neuron: string, field: string, value: ParamInit, learn: boolean): Tensor {
  let data: Float32Array;
  let shape: readonly number[];
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new NeuronError(`${neuron} (src/snn/neurons): ${field} must be a finite number, got ${String(value)}`);
    }
    data = new Float32Array([value]);
    shape = [];
  } else if (value instanceof Tensor && value.dtype === 'float32' && value.size > 0) {
    data = Float32Array.from(value.values);
    shape = value.shape;
  } else {
    throw new NeuronError(
      `${neuron} (src/snn/neurons): ${field} must be a number or a non-empty float32 tensor, got ${describe(value)}`,
    );
  }
  return learn ? new Parameter(data, shape) : new Tensor(data, shape);
}

function describe(value: unknown): string {
  if (value instanceof Tensor) return `a ${value.dtype} tensor of shape ${shapeToString(value.shape)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  return JSON.stringify(value) ?? typeof value;
}

/** True for a one-element tensor that needs no gradient: it can be applied as a plain number. */
function isConstScalar(p: Tensor, x: Tensor): boolean {
  return p.size === 1 && !p.requiresGrad && p.ndim <= x.ndim;
}

/** `x * p` (broadcast); a constant scalar p uses the cheaper `scale`, and a constant 1 is the identity (exact). */
export function mulParam(x: Tensor, p: Tensor): Tensor {
  if (!isConstScalar(p, x)) return mul(x, p);
  const v = p.values[0]!;
  return v === 1 ? x : scale(x, v);
}

/** `x - p` (broadcast), with the same constant-scalar fast path (one float32 rounding either way). */
export function subParam(x: Tensor, p: Tensor): Tensor {
  if (!isConstScalar(p, x)) return sub(x, p);
  const v = p.values[0]!;
  return mapWithGrad(
    x,
    (e) => e - v,
    () => 1,
  );
}

/** `clamp(p, 0, 1)` (snnTorch clamps beta and alpha at every use); a constant is clamped once, without a tape. */
export function clampUnit(p: Tensor): Tensor {
  if (p.requiresGrad) return clamp(p, 0, 1);
  return new Tensor(
    p.values.map((v) => Math.min(Math.max(v, 0), 1)),
    p.shape,
  );
}

/**
 * The state tensor to use for an input of `shape`: an empty state (from `initState()`, like snnTorch's `reset_mem()`) starts
 * at zeros of the input's shape; any other shape mismatch is an error (snnTorch silently re-zeroes it).
 */
export function lazyState(neuron: string, field: string, s: Tensor, shape: Shape): Tensor {
  if (s.size === 0) return zeros(shape);
  if (s.ndim !== shape.length || s.shape.some((d, i) => d !== shape[i])) {
    throw new NeuronError(
      `${neuron} (src/snn/neurons): state ${field} has shape ${shapeToString(s.shape)} but the input has shape ${shapeToString(shape)}; start a new sequence with initState() or resetState(net)`,
    );
  }
  return s;
}

/** `reset_t = H(m_{t-1} - thr)` with the surrogate's forward, detached. */
export function resetSignal(memPrev: Tensor, p: SpikeParams): Tensor {
  return noGrad(() => {
    const shift = subParam(memPrev, p.threshold).values;
    const out = new Float32Array(shift.length);
    const f = p.surrogate.forward;
    for (let i = 0; i < shift.length; i++) out[i] = f(shift[i]!);
    return new Tensor(out, memPrev.shape);
  });
}

/**
 * One-hot mask of the largest value along dim 1 of each sample (first maximum on ties): the winner of lateral
 * inhibition. snnTorch indexes `mask[arange(B), argmax(u, dim=1)]`, defined for `[B, N]`; for higher ranks the
 * winner is taken per position over dim 1 (the channel axis).
 */
function winnerMask(u: Tensor): Tensor {
  if (u.ndim < 2) {
    throw new NeuronError(
      `inhibition (src/snn/neurons): needs an input with a feature axis [B, N, ...], got ${shapeToString(u.shape)}`,
    );
  }
  const n = u.shape[1]!;
  const outer = u.shape[0]!;
  const inner = u.size / (outer * n);
  const v = u.values;
  const mask = new Float32Array(u.size);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      for (let k = 1; k < n; k++) if (v[(o * n + k) * inner + i]! > v[(o * n + best) * inner + i]!) best = k;
      mask[(o * n + best) * inner + i] = 1;
    }
  }
  return new Tensor(mask, u.shape);
}

/** `spk = S(mem - thr) * graded` (inhibited when asked); no gradient to mem when the surrogate is disabled. */
export function fire(mem: Tensor, p: SpikeParams): Tensor {
  const shift = subParam(mem, p.threshold);
  let spk: Tensor;
  if (p.surrogateDisable) {
    const f = p.surrogate.forward;
    spk = new Tensor(
      shift.values.map((e) => f(e)),
      shift.shape,
    );
  } else {
    spk = spike(shift, p.surrogate);
  }
  if (p.inhibition) spk = mul(spk, winnerMask(shift.detach()));
  return mulParam(spk, p.gradedSpikesFactor);
}

/** The reset applied in the same step when `resetDelay` is false (see the header); identity otherwise. */
export function immediateReset(mem: Tensor, spk: Tensor, reset: Tensor, p: SpikeParams): Tensor {
  if (p.resetDelay || p.resetMechanism === 'none') return mem;
  const g = p.gradedSpikesFactor;
  const unit = isConstScalar(g, spk) && g.values[0] === 1 ? spk : div(spk, g);
  const doReset = sub(unit, reset);
  return p.resetMechanism === 'subtract' ? sub(mem, mulParam(doReset, p.threshold)) : sub(mem, mul(doReset, mem));
}

/** Applies the state quantiser when one is set. */
export function quantise(x: Tensor, p: SpikeParams): Tensor {
  return p.stateQuant ? p.stateQuant(x) : x;
}

/** Subtract/zero/none reset of a freshly integrated membrane `base` given the detached `reset` (0/1). */
export function applyReset(base: Tensor, reset: Tensor, p: SpikeParams): Tensor {
  switch (p.resetMechanism) {
    case 'subtract':
      return sub(base, mulParam(reset, p.threshold));
    case 'zero':
      return sub(base, mul(base, reset));
    case 'none':
      return base;
  }
}
