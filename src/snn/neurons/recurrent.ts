import { Conv2d, Linear } from '../../nn/layers.js';
import { conv2d } from '../../tensor/ops/conv.js';
import { mul } from '../../tensor/ops/elementwise.js';
import { linear } from '../../tensor/ops/linalg.js';
import type { Rng } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { NeuronError } from '../errors.js';
import { toParam, type ParamInit } from './common.js';

/** The recurrent connection of RLeaky/RSynaptic (snnTorch's `all_to_all`, `linear_features`, `conv2d_channels`, `V`). */
export interface RecurrentOptions {
  /** All-to-all (default): a Linear or Conv2d from the layer's spikes to its input; false: one-to-one weight V. */
  allToAll?: boolean;
  /** Size of the layer for a Linear recurrence `[features] -> [features]`. */
  linearFeatures?: number;
  /** Channels of a Conv2d recurrence (same padding, so the kernel must be odd). */
  conv2dChannels?: number;
  kernelSize?: number | readonly [number, number];
  /** One-to-one recurrent weight (default 1): a number or one per neuron. */
  V?: ParamInit;
  /** Train the recurrent weights (default true; snnTorch's `learn_recurrent`). */
  learnRecurrent?: boolean;
  /** Generator for the all-to-all layer's PyTorch-default init (fresh random seed when omitted). */
  rng?: Rng;
}

/** The recurrent map as plain tensors, for the pure step functions. */
export type Recurrence =
  | { readonly kind: 'linear'; readonly weight: Tensor; readonly bias: Tensor | null }
  | {
      readonly kind: 'conv2d';
      readonly weight: Tensor;
      readonly bias: Tensor | null;
      readonly padding: readonly [number, number];
    }
  | { readonly kind: 'oneToOne'; readonly V: Tensor };

/** rec(spk): `spk W^T + b` (linear), `conv2d(spk, W, b, same padding)`, or `spk * V` (one-to-one). */
export function applyRecurrence(spk: Tensor, r: Recurrence): Tensor {
  switch (r.kind) {
    case 'linear':
      return linear(spk, r.weight, r.bias);
    case 'conv2d':
      return conv2d(spk, r.weight, r.bias, { padding: r.padding });
    case 'oneToOne':
      return mul(spk, r.V);
  }
}

/** Builds the recurrent layer (a child module, named `recurrent`) or the one-to-one weight `V`, as snnTorch does. */
export function buildRecurrent(
  neuron: string,
  options: RecurrentOptions,
): { recurrent: Linear | Conv2d | null; V: Tensor | null } {
  const where = `${neuron} (src/snn/neurons)`;
  const allToAll = options.allToAll ?? true;
  const learn = options.learnRecurrent ?? true;
  const { linearFeatures, conv2dChannels, kernelSize } = options;
  const hasConv = conv2dChannels !== undefined || kernelSize !== undefined;
  if (!allToAll) {
    if (linearFeatures !== undefined || hasConv) {
      throw new NeuronError(
        `${where}: with allToAll false none of linearFeatures, conv2dChannels, kernelSize may be given (V is used)`,
      );
    }
    return { recurrent: null, V: toParam(neuron, 'V', options.V ?? 1, learn) };
  }
  let layer: Linear | Conv2d;
  const init = options.rng ? { rng: options.rng } : {};
  if (linearFeatures !== undefined) {
    if (hasConv) throw new NeuronError(`${where}: give linearFeatures or (conv2dChannels and kernelSize), not both`);
    if (!Number.isInteger(linearFeatures) || linearFeatures < 1) {
      throw new NeuronError(`${where}: linearFeatures must be a positive integer, got ${String(linearFeatures)}`);
    }
    layer = new Linear(linearFeatures, linearFeatures, init);
  } else {
    if (conv2dChannels === undefined || kernelSize === undefined) {
      throw new NeuronError(
        `${where}: allToAll needs linearFeatures, or conv2dChannels and kernelSize, matching the layer's spikes`,
      );
    }
    const [kH, kW] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    if (!Number.isInteger(conv2dChannels) || conv2dChannels < 1) {
      throw new NeuronError(`${where}: conv2dChannels must be a positive integer, got ${String(conv2dChannels)}`);
    }
    if (![kH, kW].every((k) => Number.isInteger(k) && k >= 1 && k % 2 === 1)) {
      throw new NeuronError(
        `${where}: kernelSize must be odd positive integers (same padding keeps the spike map's size), got ${String(kernelSize)}`,
      );
    }
    layer = new Conv2d(conv2dChannels, conv2dChannels, [kH, kW], { ...init, padding: [kH >> 1, kW >> 1] });
  }
  if (!learn) for (const p of layer.parameters()) p.requiresGrad = false;
  return { recurrent: layer, V: null };
}

/** The `Recurrence` of a neuron's recurrent layer or V. */
export function recurrenceOf(recurrent: Linear | Conv2d | null, V: Tensor | null): Recurrence {
  if (recurrent instanceof Linear) return { kind: 'linear', weight: recurrent.weight, bias: recurrent.bias };
  if (recurrent instanceof Conv2d) {
    const pad = recurrent.options.padding ?? 0;
    const padding: readonly [number, number] = typeof pad === 'number' ? [pad, pad] : [pad[0], pad[1]];
    return { kind: 'conv2d', weight: recurrent.weight, bias: recurrent.bias, padding };
  }
  return { kind: 'oneToOne', V: V! };
}
