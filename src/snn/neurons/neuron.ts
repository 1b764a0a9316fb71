import { Module, type StateStore } from '../../nn/module.js';
import { index, stack } from '../../tensor/ops/shape.js';
import { shapeToString, zeros, type Shape, type Tensor } from '../../tensor/tensor.js';
import { NeuronError } from '../errors.js';
import { atan } from '../surrogate/functions.js';
import type { Surrogate } from '../surrogate/surrogate.js';
import {
  checkReset,
  toParam,
  type ResetMechanism,
  type SpikeParams,
  type SpikingOptions,
  type StateQuant,
  type StepResult,
} from './common.js';

/** Every neuron state holds at least the membrane potential. */
export interface NeuronState {
  readonly mem: Tensor;
}

/** The result of running a whole sequence: spikes and membranes over time `[T, B, ...]`, and the final state. */
export interface SequenceResult<S> {
  readonly spk: Tensor;
  readonly mem: Tensor;
  readonly state: S;
}

/** Gives every state tensor a fresh leaf without history (truncated BPTT; snnTorch `detach_hidden`). */
export function detachState<S extends NeuronState>(state: S): S {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(state) as [string, Tensor][]) out[k] = v.detach();
  return out as unknown as S;
}

/**
 * Base of the spiking neurons. A neuron is a pure step over explicit state (`step(x, state)`); the class holds only
 * parameters and options. Three ways to run it give identical numbers:
 *   1. `step(x, state) -> { spk, state }` with `initState()` as the zero (lazy) state;
 *   2. `forward(x, store)` inside a `Sequential`: the state lives in the network's `StateStore` (read it back with
 *      `stateIn(store)`), so `resetState(net)` resets only that network;
 *   3. `forwardSequence(x [T, B, ...], state?) -> { spk, mem, state }` over a whole sequence.
 * Parameters appear in field order as in snnTorch: threshold, gradedSpikesFactor, then the model's own.
 */
export abstract class SpikingNeuron<S extends NeuronState> extends Module {
  readonly threshold: Tensor;
  readonly gradedSpikesFactor: Tensor;
  readonly spikeGrad: Surrogate;
  readonly surrogateDisable: boolean;
  readonly resetMechanism: ResetMechanism;
  readonly inhibition: boolean;
  readonly stateQuant: StateQuant | null;
  /** Names of the state tensors (the fields of S), in snnTorch's return order (e.g. `['syn', 'mem']`). */
  abstract readonly stateNames: readonly string[];

  protected constructor(
    readonly kind: string,
    options: SpikingOptions,
    defaultReset: ResetMechanism,
  ) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new NeuronError(`${kind} (src/snn/neurons): expected an options object, got ${String(options)}`);
    }
    this.threshold = toParam(kind, 'threshold', options.threshold ?? 1, options.learnThreshold ?? false);
    this.gradedSpikesFactor = toParam(
      kind,
      'gradedSpikesFactor',
      options.gradedSpikesFactor ?? 1,
      options.learnGradedSpikesFactor ?? false,
    );
    this.spikeGrad = options.spikeGrad ?? atan();
    this.surrogateDisable = options.surrogateDisable ?? false;
    this.resetMechanism = checkReset(kind, options.resetMechanism ?? defaultReset);
    this.inhibition = options.inhibition ?? false;
    this.stateQuant = options.stateQuant ?? null;
  }

  /** The firing/reset parameters for the pure step function. */
  protected spikeParams(resetDelay: boolean): SpikeParams {
    return {
      threshold: this.threshold,
      gradedSpikesFactor: this.gradedSpikesFactor,
      surrogate: this.spikeGrad,
      surrogateDisable: this.surrogateDisable,
      resetMechanism: this.resetMechanism,
      resetDelay,
      inhibition: this.inhibition,
      stateQuant: this.stateQuant,
    };
  }

  /** The starting state: zeros of `shape`, or empty tensors that become zeros of the first input's shape. */
  initState(shape?: Shape): S {
    const out: Record<string, Tensor> = {};
    for (const name of this.stateNames) out[name] = zeros(shape ?? [0]);
    return out as unknown as S;
  }

  /** One time step from explicit state. */
  abstract step(x: Tensor, state: S): StepResult<S>;

  /** One time step with the state kept in the running network's store; returns the spikes. */
  forward(x: Tensor, store?: StateStore): Tensor {
    if (!store) {
      throw new NeuronError(
        `${this.kind}.forward (src/snn/neurons): needs the StateStore of the network that runs it; put the neuron in a Sequential or call step(x, state)`,
      );
    }
    const { spk, state } = this.step(x, store.get<S>(this) ?? this.initState());
    store.set(this, state);
    return spk;
  }

  /** This neuron's state in `store` after the last `forward` (undefined before the first step or after a reset). */
  stateIn(store: StateStore): S | undefined {
    return store.get<S>(this);
  }

  /** Runs `x [T, B, ...]` step by step; `spk` and `mem` are `[T, B, ...]`. */
  forwardSequence(x: Tensor, state: S = this.initState()): SequenceResult<S> {
    const steps = checkSequence(this.kind, x);
    const spks: Tensor[] = [];
    const mems: Tensor[] = [];
    let s = state;
    for (let t = 0; t < steps; t++) {
      const r = this.step(index(x, t), s);
      spks.push(r.spk);
      mems.push(r.state.mem);
      s = r.state;
    }
    return { spk: stack(spks), mem: stack(mems), state: s };
  }
}

/** Number of steps of a time-first input; refuses scalars and empty sequences. */
export function checkSequence(neuron: string, x: Tensor): number {
  if (x.ndim < 1 || x.shape[0]! < 1) {
    throw new NeuronError(
      `${neuron}.forwardSequence (src/snn/neurons): expected a time-first input [T, B, ...] with T >= 1, got ${shapeToString(x.shape)}`,
    );
  }
  return x.shape[0]!;
}
