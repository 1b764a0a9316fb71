import type { Module } from '../nn/module.js';
import { resetState, type Sequential } from '../nn/sequential.js';
import { Leaky } from '../snn/neurons/leaky.js';
import { SpikingNeuron } from '../snn/neurons/neuron.js';
import { index, stack } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { FeedForwardPlan, type LifSpec } from './plan/feedforward.js';

/** The fused-kernel description of a spiking layer, or null when it is not a Leaky the fused kernel supports. */
export function leakyLifSpec(m: Module): LifSpec | null {
  return m instanceof Leaky ? m.fusedConfig() : null;
}

/**
 * Output spikes `[T, B, C]` of a spiking Sequential over `numSteps` steps of a static input `[B, ...]` or a
 * time-varying one `[T, B, ...]`: through the fused layer-by-layer plan when the network allows it, else by
 * stepping the network (identical numbers; tests prove it).
 */
export class SnnRunner {
  private readonly plan: FeedForwardPlan | null;
  private readonly inputRank: number;

  constructor(
    readonly net: Sequential,
    readonly inputShape: readonly number[],
  ) {
    this.plan = FeedForwardPlan.compile(net.layers, inputShape, leakyLifSpec);
    this.inputRank = inputShape.length;
  }

  /** Frees the fused plan's buffers (call when the network is done; running again reallocates them). */
  dispose(): void {
    this.plan?.release();
  }

  get fused(): boolean {
    return this.plan !== null;
  }

  /** Output spikes `[T, B, C]` (differentiable w.r.t. the network's parameters) and the output membrane `[T, B, C]`. */
  run(x: Tensor, numSteps: number): { spk: Tensor; mem: Tensor } {
    if (this.plan) {
      const { spk, mem } = this.plan.run(x, numSteps);
      return { spk, mem };
    }
    const mems: Tensor[] = [];
    const last = this.net.layers[this.net.layers.length - 1]!;
    const spks = this.stepAll(
      x,
      numSteps,
      () => undefined,
      () => mems.push(outputMembrane(last, this.net)),
    );
    return { spk: stack(spks), mem: stack(mems) };
  }

  /** Spikes per spiking layer and step summed over the batch (`spikeCounts[layer][t]`), and neurons per sample. */
  activity(x: Tensor, numSteps: number): { spikeCounts: Float64Array[]; neurons: number[] } {
    if (this.plan) {
      const { neurons } = this.plan.run(x, numSteps);
      return { spikeCounts: this.plan.spikeCounts(), neurons };
    }
    const spikeCounts: Float64Array[] = [];
    const neurons: number[] = [];
    this.stepAll(x, numSteps, (k, t, spk) => {
      spikeCounts[k] ??= new Float64Array(numSteps);
      neurons[k] = spk.size / spk.shape[0]!;
      spikeCounts[k][t] = spk.values.reduce((p, q) => p + q, 0);
    });
    return { spikeCounts, neurons };
  }

  /** Steps the network `numSteps` times from a reset state, reporting each spiking layer's output. */
  private stepAll(
    x: Tensor,
    numSteps: number,
    onSpikes: (layer: number, t: number, spk: Tensor) => void,
    onStep?: () => void,
  ): Tensor[] {
    resetState(this.net);
    const staticInput = x.ndim === this.inputRank + 1;
    const outputs: Tensor[] = [];
    for (let t = 0; t < numSteps; t++) {
      let h = staticInput ? x : index(x, t);
      let k = 0;
      for (const layer of this.net.layers) {
        h = layer.forward(h, this.net.state);
        if (layer instanceof SpikingNeuron) onSpikes(k++, t, h);
      }
      outputs.push(h);
      onStep?.();
    }
    resetState(this.net);
    return outputs;
  }
}

/** The membrane of a spiking output layer after the last step of `net` (an error for a non-spiking layer). */
function outputMembrane(layer: Module, net: Sequential): Tensor {
  const mem = net.state.get<{ mem?: Tensor }>(layer)?.mem;
  if (!mem)
    throw new TypeError('SnnRunner: the last layer of the network must be a spiking neuron (it has no membrane state)');
  return mem;
}
