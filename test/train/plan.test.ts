import { describe, expect, it } from 'vitest';
import { Rng, Tensor, functional, nn, noGrad, ops, optim, snn, surrogate, train } from 'spikets';
import { randomTensor, relL2 } from '../helpers/numeric.js';

/** A small feed-forward SNN with the seed's layer kinds (conv, pool, LIF, flatten, linear, LIF). */
function smallSnn(reset: 'subtract' | 'zero' | 'none'): nn.Sequential {
  const rng = new Rng(4);
  const lif = (): snn.Leaky =>
    new snn.Leaky({ beta: 0.8, threshold: 0.5, resetMechanism: reset, spikeGrad: surrogate.fastSigmoid({ slope: 5 }) });
  return new nn.Sequential(
    new nn.Conv2d(1, 3, 3, { rng, padding: 1 }),
    new nn.MaxPool2d(2),
    lif(),
    new nn.Conv2d(3, 4, 3, { rng }),
    lif(),
    new nn.Flatten(),
    new nn.Linear(4, 5, { rng }),
    lif(),
  );
}

/** Output spikes and all parameter gradients of `sum(spk * R)`, stepping the network T times. */
function stepped(
  net: nn.Sequential,
  x: Tensor,
  T: number,
  timeVarying: boolean,
  r: Tensor,
): { spk: Tensor; grads: Float32Array[] } {
  nn.resetState(net);
  net.zeroGrad();
  const spk = ops.stack(Array.from({ length: T }, (_, t) => net.forward(timeVarying ? ops.index(x, t) : x)));
  ops.sum(ops.mul(spk, r)).backward();
  return { spk, grads: net.parameters().map((p) => Float32Array.from(p.grad!.values)) };
}

function planned(net: nn.Sequential, x: Tensor, T: number, r: Tensor): { spk: Tensor; grads: Float32Array[] } {
  const plan = train.FeedForwardPlan.compile(net.layers, [1, 6, 6], train.leakyLifSpec)!;
  net.zeroGrad();
  const { spk } = plan.run(x, T);
  ops.sum(ops.mul(spk, r)).backward();
  return { spk, grads: net.parameters().map((p) => Float32Array.from(p.grad!.values)) };
}

describe('fused layer-by-layer plan = stepping the network', () => {
  it.each(['subtract', 'zero', 'none'] as const)(
    'reset %s: static and time-varying inputs, batch 1 and 5, reused buffers',
    (reset) => {
      const rng = new Rng(11);
      const net = smallSnn(reset);
      const T = 7;
      for (const [B, timeVarying] of [
        [5, false],
        [1, false],
        [5, true],
        [5, false],
      ] as const) {
        const x = randomTensor(timeVarying ? [T, B, 1, 6, 6] : [B, 1, 6, 6], rng, { low: 0, high: 2 });
        const r = randomTensor([T, B, 5], rng);
        const a = stepped(net, x, T, timeVarying, r);
        const b = planned(net, x, T, r);
        expect(Array.from(b.spk.values)).toEqual(Array.from(a.spk.values));
        expect(a.spk.values.some((v) => v > 0)).toBe(true);
        a.grads.forEach((g, i) => expect(relL2(b.grads[i]!, g), `param ${i}`).toBeLessThan(1e-5));
      }
    },
  );

  it('inference (no gradient) gives the same spikes and membranes; spike counts per layer and step', () => {
    const rng = new Rng(12);
    const net = new nn.Sequential(...smallSnn('subtract').layers, new nn.Flatten(), new snn.Leaky({ beta: 0.7 }));
    const plan = train.FeedForwardPlan.compile(net.layers, [1, 6, 6], train.leakyLifSpec)!;
    const x = randomTensor([4, 1, 6, 6], rng, { low: 0, high: 2 });
    const trained = plan.run(x, 6);
    const counts = plan.spikeCounts();
    const inferred = noGrad(() => plan.run(x, 6));
    expect(Array.from(inferred.spk.values)).toEqual(Array.from(trained.spk.values));
    expect(Array.from(inferred.mem.values)).toEqual(Array.from(trained.mem.values));
    expect(plan.spikeCounts()).toEqual(counts);
    // the last layer's count per step is the sum of the output spikes of that step
    const out = trained.spk.values;
    const perStep = Array.from({ length: 6 }, (_, t) => out.slice(t * 20, (t + 1) * 20).reduce((a, b) => a + b, 0));
    expect(Array.from(counts.at(-1))).toEqual(perStep);
    expect(counts.map((c) => c.length)).toEqual([6, 6, 6, 6]);
    // a segment of only a reshape between two spiking layers passes the gradient through
    const r = randomTensor([6, 4, 5], rng);
    const a = stepped(net, x, 6, false, r);
    const b = planned(net, x, 6, r);
    expect(Array.from(b.spk.values)).toEqual(Array.from(a.spk.values));
    a.grads.forEach((g, i) => expect(relL2(b.grads[i]!, g), `param ${i}`).toBeLessThan(1e-5));
  });

  it('refuses what it cannot fuse (learnable beta), and bpttStep then steps the network instead', () => {
    const rng = new Rng(5);
    const net = new nn.Sequential(
      new nn.Flatten(),
      new nn.Linear(36, 5, { rng }),
      new snn.Leaky({ beta: 0.9, learnBeta: true }),
    );
    expect(train.FeedForwardPlan.compile(net.layers, [1, 6, 6], train.leakyLifSpec)).toBeNull();
    const x = randomTensor([3, 1, 6, 6], rng, { low: 0, high: 3 });
    const y = new Tensor(Int32Array.of(0, 1, 2), [3]);
    const leaky = net.layers[2] as snn.Leaky;
    const before = leaky.beta.item();
    const { loss } = train.bpttStep(net, x, y, {
      numSteps: 5,
      loss: functional.ceRateLoss(),
      optimizer: new optim.Adam(net.parameters(), { lr: 0.01 }),
    });
    expect(Number.isFinite(loss)).toBe(true);
    expect(leaky.beta.item()).not.toBe(before);
  });
});
