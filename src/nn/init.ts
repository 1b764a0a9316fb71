import { Parameter } from './module.js';

/**
 * Where initial weights come from: `Rng` (spikets' own generator) or `TorchGenerator` (PyTorch's draws, so a
 * network built from `new TorchGenerator(s)` starts with the weights of the same PyTorch network after
 * `torch.manual_seed(s)`).
 */
export interface UniformSource {
  /** One sample of U(low, high). */
  uniformRange(low: number, high: number): number;
}

/** U(-bound, bound) samples into a new parameter, in memory order. */
export function uniformParameter(shape: readonly number[], bound: number, rng: UniformSource): Parameter {
  const n = shape.reduce((p, q) => p * q, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniformRange(-bound, bound);
  return new Parameter(data, shape);
}

/**
 * PyTorch's default init for Linear and Conv2d: `kaiming_uniform_(a=sqrt(5))` on the weight, which is
 * U(+-sqrt(3)*gain/sqrt(fan_in)) with gain = sqrt(2/(1+a^2)) (about 1/sqrt(fan_in)); the bias is U(+-1/sqrt(fan_in)).
 * fan_in = in_features (Linear) or in_channels*kH*kW (Conv2d). The weight is drawn before the bias, and the bounds
 * are computed with PyTorch's double-precision expressions, so that with a `TorchGenerator` every bit matches.
 */
export function pytorchDefaultInit(
  weightShape: readonly number[],
  fanIn: number,
  bias: boolean,
  rng: UniformSource,
): { weight: Parameter; bias: Parameter | null } {
  const a = Math.sqrt(5);
  const gain = Math.sqrt(2 / (1 + a ** 2));
  const weightBound = fanIn > 0 ? Math.sqrt(3) * (gain / Math.sqrt(fanIn)) : 0;
  const biasBound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  const weight = uniformParameter(weightShape, weightBound, rng);
  return { weight, bias: bias ? uniformParameter([weightShape[0]!], biasBound, rng) : null };
}
