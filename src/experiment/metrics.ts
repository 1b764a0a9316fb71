import { Conv2d, Linear } from '../nn/layers.js';
import { StateStore, type Module } from '../nn/module.js';
import { resetState, type Sequential } from '../nn/sequential.js';
import { Leaky } from '../snn/neurons/leaky.js';
import { noGrad } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';
import type { SnnSample } from './results.js';

/**
 * Synaptic fan-out of a spike of the layer at `i`: the targets it touches in the next weighted layer
 * (Conv2d: outC*kH*kW/(strideH*strideW) for an interior pixel; Linear: outFeatures; none: 0).
 */
export function fanOut(layers: readonly Module[], i: number): number {
  for (const next of layers.slice(i + 1)) {
    if (next instanceof Conv2d) {
      const [sH, sW] =
        typeof next.options.stride === 'number'
          ? [next.options.stride, next.options.stride]
          : (next.options.stride ?? [1, 1]);
      return (next.outChannels * next.weight.shape[2]! * next.weight.shape[3]!) / (sH * sW);
    }
    if (next instanceof Linear) return next.outFeatures;
  }
  return 0;
}

/** Multiply-accumulates of one forward pass of `layers` on one sample of `inputShape` (spiking layers count 0). */
export function macsPerSample(layers: readonly Module[], inputShape: readonly number[]): number {
  let macs = 0;
  let h = new Tensor(new Float32Array(inputShape.reduce((p, q) => p * q, 1)), [1, ...inputShape]);
  const scratch = new StateStore();
  noGrad(() => {
    for (const layer of layers) {
      const out = layer.forward(h, scratch);
      if (layer instanceof Conv2d) macs += out.size * (layer.weight.size / layer.outChannels);
      if (layer instanceof Linear) macs += out.size * layer.inFeatures;
      h = out;
    }
  });
  return macs;
}

export interface SpikeActivity {
  /** Firing probability per neuron per step of each spiking layer. */
  rates: { layer: string; rate: number }[];
  /** Spikes of all spiking layers per test sample over the T steps. */
  spikesPerInference: number;
  /** Synaptic operations per sample: spikes * fan-out summed over layers, plus the MACs of the (dense) layers before the first spiking layer, computed once for a static input. */
  synapticOps: number;
}

/** Aggregates per-layer spike counts `[layer][t]` (summed over `batch` samples) into rates and operation counts. */
export function spikeActivity(
  net: Sequential,
  spikeCounts: Float64Array[],
  neurons: readonly number[],
  batch: number,
  steps: number,
  inputShape: readonly number[],
): SpikeActivity {
  const leakyIdx = net.layers.flatMap((l, i) => (l instanceof Leaky ? [i] : []));
  let spikes = 0;
  let ops = 0;
  const rates = spikeCounts.map((counts, k) => {
    const total = counts.reduce((p, q) => p + q, 0);
    spikes += total / batch;
    ops += (total / batch) * fanOut(net.layers, leakyIdx[k]!);
    return { layer: `lif${k + 1}`, rate: total / (batch * steps * neurons[k]!) };
  });
  ops += macsPerSample(net.layers.slice(0, leakyIdx[0]), inputShape);
  return { rates, spikesPerInference: spikes, synapticOps: ops };
}

/**
 * Steps the trained SNN on one input `[1, ...]` for `steps` steps and records what the report draws: a raster per
 * spiking layer (indices of the neurons that fired at each step), the membrane of every output neuron with the
 * threshold, and the output spike count per class.
 */
export function recordSample(net: Sequential, x: Tensor, label: number, steps: number): SnnSample {
  const leaky = net.layers.filter((l): l is Leaky => l instanceof Leaky);
  const raster = leaky.map((_, k) => ({ layer: `lif${k + 1}`, neurons: 0, steps, spikes: [] as number[][] }));
  const out = leaky[leaky.length - 1]!;
  const membranes: number[][] = [];
  const counts = new Array<number>(10).fill(0);
  noGrad(() => {
    resetState(net);
    for (let t = 0; t < steps; t++) {
      let h = x;
      let k = 0;
      for (const layer of net.layers) {
        h = layer.forward(h, net.state);
        if (layer instanceof Leaky) {
          const r = raster[k++]!;
          r.neurons = h.size;
          r.spikes.push(Array.from(h.values).flatMap((v, i) => (v > 0 ? [i] : [])));
        }
      }
      membranes.push(Array.from(out.stateIn(net.state)!.mem.values));
      h.values.forEach((v, c) => (counts[c]! += v > 0 ? 1 : 0));
    }
    resetState(net);
  });
  const threshold = out.threshold.item();
  let prediction = 0;
  counts.forEach((c, i) => {
    if (c > counts[prediction]!) prediction = i;
  });
  return {
    label,
    prediction,
    raster,
    membrane: counts.map((_, neuron) => ({
      layer: `lif${leaky.length}`,
      neuron,
      threshold,
      values: membranes.map((m) => m[neuron]!),
    })),
    outputCounts: counts,
  };
}
