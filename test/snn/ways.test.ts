import { describe, expect, it } from 'vitest';
import { Linear } from '../../src/nn/layers.js';
import { Sequential, resetState } from '../../src/nn/sequential.js';
import { Alpha } from '../../src/snn/neurons/alpha.js';
import { Lapicque } from '../../src/snn/neurons/lapicque.js';
import { Leaky } from '../../src/snn/neurons/leaky.js';
import { detachState, type NeuronState, type SpikingNeuron } from '../../src/snn/neurons/neuron.js';
import { RLeaky } from '../../src/snn/neurons/rleaky.js';
import { RSynaptic } from '../../src/snn/neurons/rsynaptic.js';
import { Synaptic } from '../../src/snn/neurons/synaptic.js';
import { atan, fastSigmoid, sigmoid } from '../../src/snn/surrogate/functions.js';
import { add, mul } from '../../src/tensor/ops/elementwise.js';
import { sum } from '../../src/tensor/ops/reduce.js';
import { index, stack } from '../../src/tensor/ops/shape.js';
import { Rng } from '../../src/tensor/random.js';
import { Tensor, zeros } from '../../src/tensor/tensor.js';
import { randomTensor } from '../helpers/numeric.js';
import * as snn from '../../src/snn/index.js';
import * as surrogate from '../../src/snn/surrogate/index.js';
import { expectClose, expectExact } from './helpers.js';

/** The neurons under test, each in a configuration that spikes on inputs in [-0.3, 1.5). */
function zoo(): [string, () => SpikingNeuron<NeuronState>][] {
  return [
    ['Leaky (fused)', () => new Leaky({ beta: 0.8 })],
    [
      'Leaky (graded, zero, learnable)',
      () => new Leaky({ beta: 0.8, learnBeta: true, gradedSpikesFactor: 2, resetMechanism: 'zero' }),
    ],
    ['Leaky (resetDelay false)', () => new Leaky({ beta: 0.9, resetDelay: false, spikeGrad: sigmoid() })],
    ['Synaptic', () => new Synaptic({ alpha: 0.7, beta: 0.6, learnAlpha: true })],
    ['Alpha', () => new Alpha({ alpha: 0.8, beta: 0.5, threshold: 0.3 })],
    ['Lapicque', () => new Lapicque({ beta: 0.6, learnBeta: true })],
    ['RLeaky linear', () => new RLeaky({ beta: 0.8, linearFeatures: 5, rng: new Rng(1) })],
    ['RLeaky V', () => new RLeaky({ beta: 0.8, allToAll: false, V: 0.3, resetMechanism: 'zero' })],
    ['RSynaptic', () => new RSynaptic({ alpha: 0.7, beta: 0.6, linearFeatures: 5, rng: new Rng(2), threshold: 2 })],
  ];
}

const sequence = (seed: number, requiresGrad = true): Tensor =>
  randomTensor([10, 3, 5], new Rng(seed), { low: -0.3, high: 1.5, requiresGrad });

describe('the three ways to run a neuron give identical numbers', () => {
  for (const [name, make] of zoo()) {
    it(name, () => {
      const neuron = make();
      const runs: { spk: Tensor; mem: Tensor; grad: Float32Array; params: Float32Array[] }[] = [];
      const rng = new Rng(5);
      const wS = randomTensor([10, 3, 5], rng);
      const wM = randomTensor([10, 3, 5], rng);
      const finish = (x: Tensor, spk: Tensor, mem: Tensor): void => {
        for (const p of neuron.parameters()) p.grad = null;
        add(sum(mul(wS, spk)), sum(mul(wM, mem))).backward();
        runs.push({ spk, mem, grad: x.grad!.values, params: neuron.parameters().map((p) => p.grad!.values) });
      };
      // 1. explicit state
      let x = sequence(3);
      let state = neuron.initState();
      const spks: Tensor[] = [];
      const mems: Tensor[] = [];
      for (let t = 0; t < 10; t++) {
        const r = neuron.step(index(x, t), state);
        state = r.state;
        spks.push(r.spk);
        mems.push(r.state.mem);
      }
      finish(x, stack(spks), stack(mems));
      // 2. inside a Sequential (state in the network's store)
      x = sequence(3);
      const net = new Sequential(neuron);
      spks.length = 0;
      mems.length = 0;
      for (let t = 0; t < 10; t++) {
        spks.push(net.forward(index(x, t)));
        mems.push(neuron.stateIn(net.state)!.mem);
      }
      finish(x, stack(spks), stack(mems));
      // 3. a whole sequence
      x = sequence(3);
      const seq = neuron.forwardSequence(x);
      expect(seq.state.mem.values).toEqual(index(seq.mem, 9).values);
      finish(x, seq.spk, seq.mem);

      expect(runs[0]!.spk.values.some((v) => v !== 0)).toBe(true);
      for (const r of runs.slice(1)) {
        expect(r.spk.shape).toEqual([10, 3, 5]);
        expect(r.mem.shape).toEqual([10, 3, 5]);
        expectExact(r.spk.values, runs[0]!.spk.values, 'spk');
        expectClose(r.mem.values, runs[0]!.mem.values, 1e-6, 0, 'mem');
        expectClose(r.grad, runs[0]!.grad, 1e-5, 1e-5, 'input grad');
        r.params.forEach((p, i) => expectClose(p, runs[0]!.params[i]!, 1e-4, 1e-5, `param ${i} grad`));
      }
    });
  }
});

describe('fused Leaky kernel vs the step loop', () => {
  for (const surrogate of [atan(), atan({ alpha: 3 }), fastSigmoid(), fastSigmoid({ slope: 5 })]) {
    for (const resetMechanism of ['subtract', 'zero', 'none'] as const) {
      it(`${surrogate.name} ${JSON.stringify(surrogate.options)} reset=${resetMechanism}`, () => {
        const lif = new Leaky({ beta: 0.85, threshold: 0.7, spikeGrad: surrogate, resetMechanism });
        expect(lif.fusedConfig()).not.toBeNull();
        const rng = new Rng(9);
        const upS = randomTensor([12, 4, 5], rng);
        const upM = randomTensor([12, 4, 5], rng);
        const results = (['fused', 'loop'] as const).map((engine) => {
          const x = randomTensor([12, 4, 5], new Rng(4), { low: -0.4, high: 1.2, requiresGrad: true });
          const mem0 = randomTensor([4, 5], new Rng(6), { low: -0.5, high: 1.5, requiresGrad: true });
          const out = lif.forwardSequence(x, { mem: mem0 }, { engine });
          add(sum(mul(upS, out.spk)), add(sum(mul(upM, out.mem)), sum(out.state.mem))).backward();
          return { out, dx: x.grad!.values, dm0: mem0.grad!.values };
        });
        const [fused, loop] = results as [(typeof results)[0], (typeof results)[0]];
        expectExact(fused.out.spk.values, loop.out.spk.values, 'spk');
        expectExact(fused.out.mem.values, loop.out.mem.values, 'mem');
        expectClose(fused.dx, loop.dx, 1e-5, 1e-5, 'dx');
        expectClose(fused.dm0, loop.dm0, 1e-5, 1e-5, 'dmem0');
      });
    }
  }

  it("is one tape node: 'fused' refuses options it cannot run", () => {
    expect(() =>
      new Leaky({ beta: 0.5, learnBeta: true }).forwardSequence(sequence(1), undefined, { engine: 'fused' }),
    ).toThrow(/fused/);
    expect(new Leaky({ beta: 0.5, spikeGrad: sigmoid() }).fusedConfig()).toBeNull();
    expect(new Leaky({ beta: 0.5, inhibition: true }).fusedConfig()).toBeNull();
    expect(new Leaky({ beta: new Tensor(new Float32Array([0.5, 0.6]), [2]) }).fusedConfig()).toBeNull();
    expect(new Leaky({ beta: 1.7 }).fusedConfig()!.beta).toBe(1);
    const x = sequence(1);
    const out = new Leaky({ beta: 0.5 }).forwardSequence(x);
    // spk and mem are views of the halves of the one fused node [2, T, ...], whose parents are x and mem0
    const root = (t: Tensor): Tensor => t.node!.parents[0]!;
    expect(root(out.spk)).toBe(root(out.mem));
    expect(root(out.spk).shape).toEqual([2, 10, 3, 5]);
    expect(root(out.spk).node!.parents[0]).toBe(x);
  });
});

describe('state belongs to the network that runs it', () => {
  it('resetState(netA) leaves netB alone, even with a shared layer', () => {
    const shared = new Leaky({ beta: 0.9 });
    const netA = new Sequential(new Linear(5, 5, { rng: new Rng(1) }), shared);
    const netB = new Sequential(new Linear(5, 5, { rng: new Rng(2) }), shared);
    const x = sequence(2, false);
    for (let t = 0; t < 4; t++) {
      netA.forward(index(x, t));
      netB.forward(index(x, t));
    }
    const memB = shared.stateIn(netB.state)!.mem.values.slice();
    expect(memB).not.toEqual(shared.stateIn(netA.state)!.mem.values);
    resetState(netA);
    expect(shared.stateIn(netA.state)).toBeUndefined();
    expect(shared.stateIn(netB.state)!.mem.values).toEqual(memB);
    // netA restarts from zeros: its next step equals a fresh network's first step
    const fresh = new Sequential(new Linear(5, 5, { rng: new Rng(1) }), new Leaky({ beta: 0.9 }));
    expect(netA.forward(index(x, 0)).values).toEqual(fresh.forward(index(x, 0)).values);
  });

  it('a nested Sequential keeps its layers state in the outer network store', () => {
    const lif = new Leaky({ beta: 0.5 });
    const outer = new Sequential(new Sequential(lif));
    outer.forward(index(sequence(1, false), 0));
    expect(lif.stateIn(outer.state)).toBeDefined();
    resetState(outer);
    expect(lif.stateIn(outer.state)).toBeUndefined();
  });

  it('forward without a store is a clear error; mismatched state shapes are refused', () => {
    const lif = new Leaky({ beta: 0.5 });
    expect(() => lif.forward(zeros([2, 3]))).toThrow(/StateStore/);
    expect(() => lif.step(zeros([2, 3]), { mem: zeros([3, 3]) })).toThrow(/state mem has shape \[3, 3\]/);
    expect(lif.initState([2, 3]).mem.shape).toEqual([2, 3]);
    expect(lif.initState().mem.shape).toEqual([0]);
  });

  it('detachState cuts the history (truncated BPTT)', () => {
    const lif = new Synaptic({ alpha: 0.5, beta: 0.5 });
    const x = sequence(3);
    const { state } = lif.forwardSequence(x);
    expect(state.mem.requiresGrad).toBe(true);
    const d = detachState(state);
    expect(d.mem.requiresGrad).toBe(false);
    expect(d.syn.values).toEqual(state.syn.values);
  });
});

describe('options', () => {
  it('parameters are named as in snnTorch and frozen recurrent weights take no gradient', () => {
    const lif = new Leaky({ beta: 0.5, learnBeta: true, learnThreshold: true, learnGradedSpikesFactor: true });
    expect(lif.namedParameters().map(([n]) => n)).toEqual(['threshold', 'gradedSpikesFactor', 'beta']);
    const r = new RLeaky({ beta: 0.5, linearFeatures: 3 });
    expect(r.namedParameters().map(([n]) => n)).toEqual(['recurrent.weight', 'recurrent.bias']);
    const v = new RSynaptic({ alpha: 0.5, beta: 0.4, allToAll: false, V: 0.5, learnAlpha: true });
    expect(v.namedParameters().map(([n]) => n)).toEqual(['V', 'alpha']);
    const frozen = new RLeaky({ beta: 0.5, linearFeatures: 5, learnRecurrent: false, rng: new Rng(1) });
    const x = sequence(4);
    sum(frozen.forwardSequence(x).mem).backward();
    expect(frozen.recurrent!.weight.grad).toBeNull();
    expect(x.grad).not.toBeNull();
    expect(new RLeaky({ beta: 0.5, allToAll: false, learnRecurrent: false }).parameters()).toEqual([]);
  });

  it('conv2d recurrence keeps the spike map size', () => {
    const n = new RLeaky({ beta: 0.5, conv2dChannels: 2, kernelSize: [3, 5], rng: new Rng(1) });
    const out = n.forwardSequence(randomTensor([3, 2, 2, 4, 6], new Rng(2), { low: 0, high: 2 }));
    expect(out.spk.shape).toEqual([3, 2, 2, 4, 6]);
    expect(() => new RLeaky({ beta: 0.5, conv2dChannels: 2, kernelSize: 2 })).toThrow(/odd/);
  });

  it('inhibition: only the largest membrane of each sample fires; the reset still follows the membrane', () => {
    const lif = new Leaky({ beta: 1, inhibition: true, threshold: 1, gradedSpikesFactor: 3 });
    const x = new Tensor(new Float32Array([1.5, 2.0, 0.2, 1.2, /* sample 2 */ 0.1, 0.3, 0.5, 0.4]), [2, 4]);
    const s1 = lif.step(x, lif.initState());
    expect(Array.from(s1.spk.values)).toEqual([0, 3, 0, 0, 0, 0, 0, 0]);
    // neurons 0 and 3 of sample 1 were above threshold but inhibited: snnTorch still resets them
    const s2 = lif.step(zeros([2, 4]), s1.state);
    expect(Array.from(s2.state.mem.values.slice(0, 4))).toEqual([0.5, 1, Math.fround(0.2), Math.fround(1.2) - 1]);
    expect(() => lif.step(zeros([4]), lif.initState())).toThrow(/feature axis/);
  });

  it('stateQuant quantises the state after each update', () => {
    const q = (t: Tensor): Tensor =>
      new Tensor(
        t.values.map((v) => Math.round(v * 4) / 4),
        t.shape,
      );
    const lif = new Leaky({ beta: 0.9, stateQuant: q });
    const x = sequence(7, false);
    const out = lif.forwardSequence(x);
    for (const v of out.mem.values) expect(v * 4).toBe(Math.round(v * 4));
    expect(lif.fusedConfig()).toBeNull();
  });

  it('refuses invalid configurations with errors that name the field', () => {
    expect(() => new Leaky({ beta: 0.5, resetMechanism: 'soft' as never })).toThrow(/resetMechanism/);
    expect(() => new Leaky({} as never)).toThrow(/beta/);
    expect(() => new Leaky(undefined as never)).toThrow(/options object/);
    expect(() => new Leaky({ beta: Number.NaN })).toThrow(/beta/);
    expect(() => new Alpha({ alpha: 0.5, beta: 0.8 })).toThrow(/greater than beta/);
    expect(() => new Lapicque({ R: 2 })).toThrow(/R and C/);
    expect(() => new Lapicque({ beta: 0.5, R: 1, C: 1 })).toThrow(/over-determined/);
    expect(() => new Lapicque({ R: 1, C: 1, learnBeta: true })).toThrow(/learnBeta/);
    expect(() => new Lapicque({ beta: 1.5 })).toThrow(/\(0, 1\)/);
    expect(() => new RLeaky({ beta: 0.5 })).toThrow(/linearFeatures/);
    expect(() => new RLeaky({ beta: 0.5, allToAll: false, linearFeatures: 3 })).toThrow(/allToAll/);
    expect(() => new RLeaky({ beta: 0.5, linearFeatures: 3, kernelSize: 3 })).toThrow(/not both/);
    expect(() => new Leaky({ beta: 0.5 }).forwardSequence(zeros([]))).toThrow(/\[T, B/);
  });

  it('Lapicque in the beta form decays by 1 + ln(beta), as snnTorch codes it', () => {
    const n = new Lapicque({ beta: 0.5, resetMechanism: 'none' });
    const s = n.step(new Tensor(new Float32Array([1]), [1]), { mem: new Tensor(new Float32Array([0.5]), [1]) });
    const rc = 1 / Math.log(2);
    expect(s.state.mem.item()).toBeCloseTo(1 / rc + (1 - 1 / rc) * 0.5, 6);
  });
});

describe('public surface (src/snn/index.ts and src/snn/surrogate/index.ts)', () => {
  it('exports the neurons, their step functions, spike and every surrogate', () => {
    for (const name of ['Leaky', 'Synaptic', 'Alpha', 'Lapicque', 'RLeaky', 'RSynaptic', 'SpikingNeuron']) {
      expect(typeof (snn as Record<string, unknown>)[name], name).toBe('function');
    }
    for (const name of ['leakyStep', 'synapticStep', 'alphaStep', 'lapicqueStep', 'rleakyStep', 'rsynapticStep']) {
      expect(typeof (snn as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(snn.spike).toBe(surrogate.spike);
    const names = [
      'atan',
      'fastSigmoid',
      'sigmoid',
      'sparseFastSigmoid',
      'triangular',
      'straightThroughEstimator',
      'heaviside',
      'spikeRateEscape',
      'leakySpikeOperator',
    ] as const;
    for (const n of names) expect(surrogate[n]().name).toBe(n);
    expect(surrogate.stochasticSpikeOperator({ rng: new Rng(1) }).name).toBe('stochasticSpikeOperator');
    expect(surrogate.custom({ derivative: () => 1 }).name).toBe('custom');
    const lif = new snn.Leaky({ beta: 0.5, spikeGrad: surrogate.fastSigmoid({ slope: 25 }) });
    expect(lif.fusedConfig()).toEqual({
      beta: 0.5,
      threshold: 1,
      reset: 'subtract',
      surrogate: { kind: 'fastSigmoid', slope: 25 },
    });
  });
});
