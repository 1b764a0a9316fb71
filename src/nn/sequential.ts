import type { Tensor } from '../tensor/tensor.js';
import { Module, StateStore } from './module.js';

/**
 * Runs its layers in order. It owns the state of its stateful layers (spiking neurons): calling it once is one time
 * step; `resetState(net)` starts a new sequence for this network only.
 */
export class Sequential extends Module {
  readonly state = new StateStore();
  readonly layers: readonly Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  /** One step; uses the caller's store when nested, else this network's own. */
  forward(x: Tensor, state: StateStore = this.state): Tensor {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h, state);
    return h;
  }
}

/** Clears the hidden state of every stateful layer run by `net` (and only `net`). */
export function resetState(net: Module): void {
  for (const m of net.modules()) if (m instanceof Sequential) m.state.clear();
}
