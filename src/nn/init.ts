import type { Rng } from '../tensor/random.js';
import { Parameter } from './module.js';

/** U(-bound, bound) samples into a new parameter. */
export function uniformParameter(shape: readonly number[], bound: number, rng: Rng): Parameter {
  const n = shape.reduce((p, q) => p * q, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniformRange(-bound, bound);
  return new Parameter(data, shape);
}

/**
 * PyTorch's default init for Linear and Conv2d: `kaiming_uniform_(a=sqrt(5))` on the weight, which is
 * U(+-gain*sqrt(3/fan_in)) with gain = sqrt(2/(1+a^2)), i.e. U(+-1/sqrt(fan_in)); the bias is U(+-1/sqrt(fan_in)).
 * fan_in = in_features (Linear) or in_channels*kH*kW (Conv2d). The weight is drawn before the bias, as in PyTorch.
 */
export function pytorchDefaultInit(
  weightShape: readonly number[],
  fanIn: number,
  bias: boolean,
  rng: Rng,
): { weight: Parameter; bias: Parameter | null } {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  const weight = uniformParameter(weightShape, bound, rng);
  return { weight, bias: bias ? uniformParameter([weightShape[0]!], bound, rng) : null };
}
