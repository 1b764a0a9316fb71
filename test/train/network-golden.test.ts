import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, createWasmBackend, getBackend, nn, ops, referenceBackend, useBackend, type Backend } from 'spikets';
import { buildSnnNet } from '../../src/experiment/models.js';
import { leakyLifSpec } from '../../src/train/snn-runner.js';
import { ceRateLoss } from '../../src/functional/index.js';
import { Leaky } from '../../src/snn/neurons/leaky.js';
import { FeedForwardPlan } from '../../src/train/plan/feedforward.js';
import { golden, goldenTensor } from '../helpers/golden.js';
import { maxAbsDiff, relL2, tol } from '../helpers/numeric.js';

const net = golden('network.json');
const names = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', 'fc.bias'];
const images = goldenTensor(net.images);
const labels = new Tensor(Int32Array.from(net.labels as number[]), [4]);

/** The seed SNN (beta 0.5, fastSigmoid 25) with the golden weights of `weightSet`. */
function goldenSnn(weightSet: string): nn.Sequential {
  const model = buildSnnNet({ beta: 0.5, surrogate: { kind: 'fastSigmoid', slope: 25 }, seed: 0 });
  model
    .parameters()
    .forEach((p, i) => p.values.set(goldenTensor(net.weight_sets[weightSet].weights[names[i]!]).values));
  return model;
}

/** Steps the network T times like snnTorch (utils.reset then T calls): output spikes and membranes [T, 4, 10]. */
function stepApi(model: nn.Sequential, T: number): { spk: Tensor; mem: Tensor } {
  nn.resetState(model);
  const out = model.layers[model.layers.length - 1] as Leaky;
  const spks: Tensor[] = [];
  const mems: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    spks.push(model.forward(images));
    mems.push(out.stateIn(model.state)!.mem);
  }
  return { spk: ops.stack(spks), mem: ops.stack(mems) };
}

function fusedPlan(model: nn.Sequential, T: number): { spk: Tensor; mem: Tensor } {
  const plan = FeedForwardPlan.compile(model.layers, [1, 28, 28], leakyLifSpec);
  expect(plan).not.toBeNull();
  const { spk, mem } = plan!.run(images, T);
  return { spk, mem };
}

const cases = Object.entries(net.snn_cases as Record<string, any>);

/** The same golden cases on every backend: the reference (the specification) and the wasm engine. */
const backends: Record<string, () => Promise<Backend & { dispose?: () => void }>> = {
  reference: () => Promise.resolve(referenceBackend),
  wasm: () => createWasmBackend(),
};

describe.each(Object.keys(backends))('on the %s backend', (backendName) => {
  let backend: Backend & { dispose?: () => void };
  const previous = getBackend();
  beforeAll(async () => {
    backend = await backends[backendName]!();
    useBackend(backend);
  });
  afterAll(() => {
    useBackend(previous);
    backend.dispose?.();
  });

  describe.each([
    ['step API', stepApi],
    ['fused layer-by-layer plan', fusedPlan],
  ] as const)('seed conv-SNN parity with snnTorch (network.json) via the %s', (_name, run) => {
    it.each(cases)('%s', (caseName, c) => {
      const model = goldenSnn(caseName.includes('after30') ? 'after30iters' : 'init_seed0');
      const { spk, mem } = run(model, c.T);
      expect(Array.from(spk.values)).toEqual(Array.from(goldenTensor(c.spk_out).values));
      expect(maxAbsDiff(mem.values, goldenTensor(c.mem_out).values)).toBeLessThan(tol.networkMem);
      const loss = ceRateLoss()(spk, labels);
      expect(Math.abs(loss.item() - c.loss)).toBeLessThan(tol.loss);
      loss.backward();
      model.parameters().forEach((p, i) => {
        const err = relL2(p.grad!.values, goldenTensor(c.grads[names[i]!]).values);
        expect(err, names[i]).toBeLessThan(tol.networkGradRelL2);
      });
    });
  });
});

describe('the fused plan over several chunks of time steps (T*B above one chunk): wasm = reference', () => {
  it('after30iters weights, 48 MNIST test images (repeated golden images), T = 50: spikes exact, gradients close', async () => {
    // 50 * 48 = 2400 samples: the conv segments run in two chunks, the sparse kernels at trained densities
    const B = 48;
    const x = new Tensor(new Float32Array(B * 784), [B, 1, 28, 28]);
    for (let b = 0; b < B; b++) x.values.set(images.values.subarray((b % 4) * 784, ((b % 4) + 1) * 784), b * 784);
    for (let i = 0; i < x.size; i++) x.values[i] = Math.min(1, x.values[i]! * (1 + (i % 7) / 10)); // no two alike
    const y = new Tensor(
      Int32Array.from({ length: B }, (_, b) => labels.ints[b % 4]!),
      [B],
    );
    const previous = getBackend();
    const wasm = await createWasmBackend({ threads: 2 });
    const results = [referenceBackend, wasm].map((backend) => {
      useBackend(backend);
      const model = goldenSnn('after30iters');
      const { spk } = FeedForwardPlan.compile(model.layers, [1, 28, 28], leakyLifSpec)!.run(x, 50);
      ceRateLoss()(spk, y).backward();
      return { spk: Array.from(spk.values), grads: model.parameters().map((p) => p.grad!.values) };
    });
    useBackend(previous);
    wasm.dispose();
    const [ref, fast] = results as [(typeof results)[0], (typeof results)[0]];
    expect(fast.spk).toEqual(ref.spk);
    expect(ref.spk.some((v) => v > 0)).toBe(true);
    fast.grads.forEach((g, i) => expect(relL2(g, ref.grads[i]!), names[i]).toBeLessThan(tol.networkGradRelL2));
  });
});
