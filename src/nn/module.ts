import { Tensor, type Shape } from '../tensor/tensor.js';

/** A trainable tensor: a leaf that requires grad and is found by `Module.parameters()`. */
export class Parameter extends Tensor {
  constructor(data: Float32Array, shape: Shape) {
    super(data, shape, { requiresGrad: true });
  }
}

/**
 * Per-network state of stateful layers (spiking neurons), keyed by the layer. The network that runs the layers owns
 * it, so resetting one network never touches another (unlike snnTorch's global instance list).
 */
export class StateStore {
  private readonly states = new Map<Module, unknown>();

  get<S>(owner: Module): S | undefined {
    return this.states.get(owner) as S | undefined;
  }

  set<S>(owner: Module, state: S): void {
    this.states.set(owner, state);
  }

  clear(): void {
    this.states.clear();
  }
}

/**
 * Base of every layer. Parameters and sub-modules are discovered from the instance's own fields in declaration
 * order (PyTorch naming: `conv1.weight`, `0.bias` inside a Sequential).
 */
export abstract class Module {
  training = true;

  /** Maps an input to an output. Stateful layers read and write their state in `state` (owned by the caller). */
  abstract forward(x: Tensor, state?: StateStore): Tensor;

  /** Named direct sub-modules (fields holding a Module, in declaration order). */
  namedChildren(): [string, Module][] {
    return Object.entries(this).filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** Every parameter of this module and its descendants, with dotted PyTorch-style names. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [name, value] of Object.entries(this)) {
      if (value instanceof Parameter) out.push([prefix + name, value]);
    }
    for (const [name, child] of this.namedChildren()) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** This module and all descendants, depth first. */
  modules(): Module[] {
    return [this, ...this.children().flatMap((c) => c.modules())];
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}
