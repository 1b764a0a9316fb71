import { expect } from 'vitest';
import { add } from '../../src/tensor/ops/elementwise.js';
import { sum } from '../../src/tensor/ops/reduce.js';
import { index, stack } from '../../src/tensor/ops/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { SpikingNeuron, NeuronState } from '../../src/snn/neurons/neuron.js';
import { goldenTensor } from '../helpers/golden.js';

/** Golden tolerances (../shared/golden/README.md): spikes exact, membranes 1e-4, Leaky grads 1e-4 / 1e-2 abs or 1e-4 rel. */
export const snnTol = { membrane: 1e-4, inputGrad: 1e-4, paramGradAbs: 1e-2, paramGradRel: 1e-4 } as const;

/** A golden nested list (or b64 array) as a float32 tensor, optionally reshaped. */
export function g(value: unknown, shape?: number[]): Tensor {
  return goldenTensor(value, shape);
}

/** Max |a - b| <= atol + rtol*|b| elementwise, with a message naming the first offending element. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol = 0,
  what = '',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`${what}: element ${i}: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** Exact equality of spike trains. */
export function expectExact(actual: ArrayLike<number>, expected: ArrayLike<number>, what = ''): void {
  expectClose(actual, expected, 0, 0, what);
}

/** A scalar parameter gradient within 1e-2 absolute or 1e-4 relative (the README's rule for summed gradients). */
export function expectParamGrad(actual: number, expected: number, what: string): void {
  const ok =
    Math.abs(actual - expected) <= snnTol.paramGradAbs ||
    Math.abs(actual - expected) <= snnTol.paramGradRel * Math.abs(expected);
  if (!ok) throw new Error(`${what}: got ${actual}, expected ${expected}`);
}

/** Steps `neuron` over `x [T, ...]` from `initState()`, recording every state field over time. */
export function runSteps<S extends NeuronState>(
  neuron: SpikingNeuron<S>,
  x: Tensor,
): { spk: Tensor; states: Record<string, Tensor>; objective: Tensor } {
  let state = neuron.initState();
  const spks: Tensor[] = [];
  const rec: Record<string, Tensor[]> = {};
  for (const n of neuron.stateNames) rec[n] = [];
  for (let t = 0; t < x.shape[0]!; t++) {
    const r = neuron.step(index(x, t), state);
    state = r.state;
    spks.push(r.spk);
    for (const n of neuron.stateNames) rec[n]!.push((state as unknown as Record<string, Tensor>)[n]!);
  }
  const spk = stack(spks);
  const states: Record<string, Tensor> = {};
  for (const n of neuron.stateNames) states[n] = stack(rec[n]!);
  // the golden objective: sum(mem_rec) + sum(spk_rec)
  const objective = add(sum(states.mem!), sum(spk));
  return { spk, states, objective };
}
