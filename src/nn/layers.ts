import { conv2d, type Conv2dOptions, type Pair, avgPool2d, maxPool2d, type Pool2dOptions } from '../tensor/ops/conv.js';
import { relu } from '../tensor/ops/elementwise.js';
import { linear } from '../tensor/ops/linalg.js';
import { flatten } from '../tensor/ops/shape.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { pytorchDefaultInit, type UniformSource } from './init.js';
import { Module, type Parameter } from './module.js';

export interface InitOptions {
  bias?: boolean;
  /**
   * Generator for the initial weights. Pass one shared `Rng` or `TorchGenerator` (PyTorch's draws: the weights of
   * the same PyTorch layers after `torch.manual_seed`) to build a reproducible network; when omitted each layer
   * draws from a freshly, randomly seeded generator (like an unseeded PyTorch program).
   */
  rng?: UniformSource;
}

/** `y = x W^T + b`, weight `[out, in]`. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: InitOptions = {},
  ) {
    super();
    const p = pytorchDefaultInit(
      [outFeatures, inFeatures],
      inFeatures,
      options.bias ?? true,
      options.rng ?? Rng.unseeded(),
    );
    this.weight = p.weight;
    this.bias = p.bias;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** 2-D convolution on NCHW input, weight `[out, in, kH, kW]`. */
export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly options: Conv2dOptions;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: InitOptions & Conv2dOptions = {},
  ) {
    super();
    const [kH, kW] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    const p = pytorchDefaultInit(
      [outChannels, inChannels, kH, kW],
      inChannels * kH * kW,
      options.bias ?? true,
      options.rng ?? Rng.unseeded(),
    );
    this.weight = p.weight;
    this.bias = p.bias;
    this.options = { stride: options.stride ?? 1, padding: options.padding ?? 0 };
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.options);
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: Pool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: Pool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

/** Flattens all dims from `startDim` (default 1: keep the batch). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}
