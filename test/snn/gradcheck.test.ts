import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/tensor/autograd.js';
import { add, mul } from '../../src/tensor/ops/elementwise.js';
import { sum } from '../../src/tensor/ops/reduce.js';
import { Rng } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Alpha } from '../../src/snn/neurons/alpha.js';
import { Lapicque } from '../../src/snn/neurons/lapicque.js';
import { Leaky } from '../../src/snn/neurons/leaky.js';
import type { NeuronState, SpikingNeuron } from '../../src/snn/neurons/neuron.js';
import { RLeaky } from '../../src/snn/neurons/rleaky.js';
import { RSynaptic } from '../../src/snn/neurons/rsynaptic.js';
import { Synaptic } from '../../src/snn/neurons/synaptic.js';
import { randomTensor } from '../helpers/numeric.js';

/*
 * Finite-difference checks of the neurons' smooth gradient paths. The spikes are piecewise constant, so the true
 * derivative treats them as constants: the neurons run with `surrogateDisable` (no surrogate path) and the check
 * asserts that no spike flips under the perturbation. The objective is sum(wM * mem) + sum(wS * spk) with random
 * weights (the spike term reaches the graded factor and, through the recurrence, the recurrent weights).
 */

interface Case {
  name: string;
  neuron: SpikingNeuron<NeuronState>;
  x: Tensor;
  params: [string, Tensor][];
}

function objectiveOf(neuron: SpikingNeuron<NeuronState>, x: Tensor, wM: Tensor, wS: Tensor) {
  const { spk, mem } = neuron.forwardSequence(x);
  return { value: add(sum(mul(wM, mem)), sum(mul(wS, spk))), spk: spk.values };
}

function check(c: Case): void {
  const rng = new Rng(11);
  const wM = randomTensor([...c.x.shape], rng);
  const wS = randomTensor([...c.x.shape], rng);
  for (const [, p] of c.params) p.grad = null;
  const base = objectiveOf(c.neuron, c.x, wM, wS);
  expect(
    base.spk.some((v) => v !== 0),
    `${c.name}: some spikes`,
  ).toBe(true);
  base.value.backward();
  const evaluate = (): { value: number; spk: Float32Array } =>
    noGrad(() => {
      const r = objectiveOf(c.neuron, c.x, wM, wS);
      return { value: r.value.item(), spk: r.spk };
    });
  const flips = (r: { spk: Float32Array }): boolean => r.spk.some((s, k) => (s !== 0) !== (base.spk[k] !== 0));
  for (const [name, p] of c.params) {
    const analytic = p.grad ? p.grad.values : new Float32Array(p.size);
    const v = p.values;
    for (let i = 0; i < v.length; i++) {
      const orig = v[i]!;
      // the largest step that flips no spike; float32 noise in the objective is ~1e-5, hence atol ~ 1e-5 / h
      let numeric: number | null = null;
      let h = 2e-3;
      for (; h >= 2.4e-4 && numeric === null; h /= 2) {
        v[i] = orig + h;
        const up = evaluate();
        v[i] = orig - h;
        const down = evaluate();
        v[i] = orig;
        if (!flips(up) && !flips(down)) numeric = (up.value - down.value) / (2 * h);
      }
      if (numeric === null) throw new Error(`${c.name}: ${name}[${i}] flips a spike even at h=2.5e-4; pick other data`);
      const atol = 1e-5 / (2 * h);
      if (!(Math.abs(numeric - analytic[i]!) <= atol + 1e-2 * Math.abs(numeric))) {
        throw new Error(
          `${c.name}: d/d${name}[${i}]: analytic ${analytic[i]}, finite difference ${numeric} (h ${2 * h})`,
        );
      }
    }
  }
}

const input = (shape: number[], seed: number): Tensor =>
  randomTensor(shape, new Rng(seed), { low: -0.3, high: 1.2, requiresGrad: true });

describe('neuron gradchecks (finite differences on the smooth paths)', () => {
  const off = { surrogateDisable: true } as const;

  it('Leaky: beta (scalar and per-neuron), threshold, graded factor, input; each reset', () => {
    for (const resetMechanism of ['subtract', 'zero', 'none'] as const) {
      for (const resetDelay of [true, false]) {
        const lif = new Leaky({
          ...off,
          beta: new Tensor(new Float32Array([0.6, 0.85, 0.3]), [3]),
          learnBeta: true,
          threshold: 0.8,
          learnThreshold: true,
          gradedSpikesFactor: 1.5,
          learnGradedSpikesFactor: true,
          resetMechanism,
          resetDelay,
        });
        const x = input([8, 2, 3], 1);
        check({
          name: `Leaky ${resetMechanism} delay=${resetDelay}`,
          neuron: lif,
          x,
          params: [
            ['beta', lif.beta],
            ['threshold', lif.threshold],
            ['graded', lif.gradedSpikesFactor],
            ['x', x],
          ],
        });
      }
    }
    const scalar = new Leaky({ ...off, beta: 0.7, learnBeta: true });
    check({ name: 'Leaky scalar beta', neuron: scalar, x: input([8, 2, 3], 2), params: [['beta', scalar.beta]] });
  });

  it('Synaptic: alpha, beta, threshold, input', () => {
    for (const resetMechanism of ['subtract', 'zero'] as const) {
      const n = new Synaptic({
        ...off,
        alpha: 0.7,
        beta: 0.5,
        learnAlpha: true,
        learnBeta: true,
        learnThreshold: true,
        resetMechanism,
      });
      const x = input([8, 2, 3], 3);
      check({
        name: `Synaptic ${resetMechanism}`,
        neuron: n,
        x,
        params: [
          ['alpha', n.alpha],
          ['beta', n.beta],
          ['threshold', n.threshold],
          ['x', x],
        ],
      });
    }
  });

  it('Alpha: alpha and beta (through tau and the decays), threshold', () => {
    for (const resetMechanism of ['zero', 'subtract', 'none'] as const) {
      const n = new Alpha({
        ...off,
        alpha: 0.8,
        beta: 0.5,
        learnAlpha: true,
        learnBeta: true,
        learnThreshold: true,
        resetMechanism,
        threshold: 0.3,
      });
      const x = input([8, 2, 3], 4);
      check({
        name: `Alpha ${resetMechanism}`,
        neuron: n,
        x,
        params: [
          ['alpha', n.alpha],
          ['beta', n.beta],
          ['threshold', n.threshold],
          ['x', x],
        ],
      });
    }
  });

  it('Lapicque: beta with C derived and with R derived', () => {
    const a = new Lapicque({ ...off, beta: 0.6, learnBeta: true, learnThreshold: true, threshold: 0.5 });
    check({
      name: 'Lapicque beta/C',
      neuron: a,
      x: input([8, 2, 3], 5),
      params: [
        ['beta', a.beta],
        ['threshold', a.threshold],
      ],
    });
    const b = new Lapicque({ ...off, beta: 0.8, C: 2, learnBeta: true, threshold: 0.5 });
    expect(b.derived).toBe('R');
    check({ name: 'Lapicque beta/R', neuron: b, x: input([8, 2, 3], 6), params: [['beta', b.beta]] });
  });

  it('RLeaky: linear recurrence weight/bias, one-to-one V, graded factor through the recurrence', () => {
    const lin = new RLeaky({
      ...off,
      beta: 0.7,
      learnBeta: true,
      linearFeatures: 3,
      rng: new Rng(1),
      gradedSpikesFactor: 1.2,
      learnGradedSpikesFactor: true,
    });
    const w = lin.recurrent as unknown as { weight: Tensor; bias: Tensor };
    check({
      name: 'RLeaky linear',
      neuron: lin,
      x: input([8, 2, 3], 14),
      params: [
        ['beta', lin.beta],
        ['recurrent.weight', w.weight],
        ['recurrent.bias', w.bias],
        ['graded', lin.gradedSpikesFactor],
      ],
    });
    const v = new RLeaky({
      ...off,
      beta: 0.7,
      allToAll: false,
      V: new Tensor(new Float32Array([0.5, -0.3, 0.2]), [3]),
    });
    check({ name: 'RLeaky V', neuron: v, x: input([8, 2, 3], 8), params: [['V', v.V!]] });
  });

  it('RLeaky: conv2d recurrence weight and bias', () => {
    const n = new RLeaky({
      ...off,
      beta: 0.6,
      conv2dChannels: 2,
      kernelSize: 3,
      rng: new Rng(2),
      resetMechanism: 'zero',
    });
    const w = n.recurrent as unknown as { weight: Tensor; bias: Tensor };
    check({
      name: 'RLeaky conv2d',
      neuron: n,
      x: input([5, 1, 2, 4, 4], 9),
      params: [
        ['recurrent.weight', w.weight],
        ['recurrent.bias', w.bias],
      ],
    });
  });

  it('RSynaptic: alpha, beta, linear recurrence', () => {
    const n = new RSynaptic({
      ...off,
      alpha: 0.6,
      beta: 0.5,
      learnAlpha: true,
      learnBeta: true,
      linearFeatures: 3,
      rng: new Rng(3),
      threshold: 1.5,
    });
    const w = n.recurrent as unknown as { weight: Tensor; bias: Tensor };
    check({
      name: 'RSynaptic linear',
      neuron: n,
      x: input([8, 2, 3], 10),
      params: [
        ['alpha', n.alpha],
        ['beta', n.beta],
        ['recurrent.weight', w.weight],
        ['recurrent.bias', w.bias],
      ],
    });
  });
});
