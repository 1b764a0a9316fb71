import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Rng,
  Tensor,
  createWasmBackend,
  getBackend,
  nn,
  ops,
  optim,
  referenceBackend,
  snn,
  train,
  useBackend,
  type Backend,
} from 'spikets';
import { randomTensor, relL2 } from '../helpers/numeric.js';

/** Small CNNs that exercise every stage kind and fusion of the plan, with odd sizes, padding and strides. */
const nets: Record<string, { input: number[]; build: (rng: Rng) => nn.Sequential }> = {
  'seed topology, small (conv-pool-relu twice, linear)': {
    input: [1, 12, 12],
    build: (rng) =>
      new nn.Sequential(
        new nn.Conv2d(1, 4, 3, { rng }),
        new nn.MaxPool2d(2),
        new nn.ReLU(),
        new nn.Conv2d(4, 6, 3, { rng }),
        new nn.MaxPool2d(2),
        new nn.ReLU(),
        new nn.Flatten(),
        new nn.Linear(6, 5, { rng }),
      ),
  },
  'padding, stride, relu before pool, conv without pool, overlapping pool, hidden linear': {
    input: [2, 9, 7],
    build: (rng) =>
      new nn.Sequential(
        new nn.Conv2d(2, 3, [3, 2], { rng, padding: 1, stride: [1, 2] }),
        new nn.ReLU(),
        new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
        new nn.Conv2d(3, 4, 2, { rng, bias: false }),
        new nn.ReLU(),
        new nn.Flatten(),
        new nn.Linear(16, 7, { rng }),
        new nn.ReLU(),
        new nn.Linear(7, 3, { rng, bias: false }),
      ),
  },
  'pool first (no parameters before it), 7x6 kernel': {
    input: [1, 18, 16],
    build: (rng) =>
      new nn.Sequential(
        new nn.MaxPool2d(2),
        new nn.Conv2d(1, 2, [7, 6], { rng }),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(2, 4, { rng }),
      ),
  },
};

/** Output and every parameter gradient of `sum(out * r)`, from the tape or from the plan. */
function outputAndGrads(
  net: nn.Sequential,
  x: Tensor,
  r: Tensor,
  plan: train.CnnPlan | null,
): { out: Float32Array; grads: Float32Array[] } {
  net.zeroGrad();
  const out = plan ? plan.run(x) : net.forward(x);
  ops.sum(ops.mul(out, r)).backward();
  return { out: out.values.slice(), grads: net.parameters().map((p) => p.grad!.values.slice()) };
}

const backends: Record<string, () => Promise<Backend & { dispose?: () => void }>> = {
  reference: () => Promise.resolve(referenceBackend),
  'wasm, 2 threads': () => createWasmBackend({ threads: 2, split: 'always' }),
  'wasm, 3 threads': () => createWasmBackend({ threads: 3, split: 'always' }),
};

describe.each(Object.keys(backends))('CNN plan = the tape on the reference backend (%s)', (backendName) => {
  let backend: Backend & { dispose?: () => void };
  const previous = getBackend();
  beforeAll(async () => {
    backend = await backends[backendName]!();
  });
  afterAll(() => {
    useBackend(previous);
    backend.dispose?.();
  });

  it.each(Object.keys(nets))('%s: batches 5, 1, 3 with reused buffers', (name) => {
    const { input, build } = nets[name]!;
    const rng = new Rng(17);
    const net = build(rng);
    const plan = train.CnnPlan.compile(net.layers, input);
    expect(plan).not.toBeNull();
    for (const B of [5, 1, 3]) {
      const x = randomTensor([B, ...input], rng);
      useBackend(referenceBackend);
      const outShape = net.forward(x).shape;
      const r = randomTensor([...outShape], rng);
      const want = outputAndGrads(net, x, r, null);
      useBackend(backend);
      const got = outputAndGrads(net, x, r, plan);
      expect(relL2(got.out, want.out)).toBeLessThan(1e-5);
      want.grads.forEach((g, i) => expect(relL2(got.grads[i]!, g), `param ${i}, batch ${B}`).toBeLessThan(1e-5));
    }
    plan!.release();
  });

  it('the loss and gradients of the seed CNN with cross-entropy match the tape', () => {
    const rng = new Rng(3);
    const net = new nn.Sequential(
      new nn.Conv2d(1, 12, 5, { rng }),
      new nn.MaxPool2d(2),
      new nn.ReLU(),
      new nn.Conv2d(12, 64, 5, { rng }),
      new nn.MaxPool2d(2),
      new nn.ReLU(),
      new nn.Flatten(),
      new nn.Linear(1024, 10, { rng }),
    );
    const x = randomTensor([6, 1, 28, 28], rng, { low: 0, high: 1 });
    const y = new Tensor(Int32Array.of(0, 3, 9, 1, 4, 4), [6]);
    const run = (usePlan: boolean): { loss: number; grads: Float32Array[] } => {
      net.zeroGrad();
      const plan = usePlan ? train.CnnPlan.compile(net.layers, [1, 28, 28])! : null;
      const loss = ops.crossEntropy(plan ? plan.run(x) : net.forward(x), y);
      loss.backward();
      plan?.release();
      return { loss: loss.item(), grads: net.parameters().map((p) => p.grad!.values.slice()) };
    };
    useBackend(referenceBackend);
    const want = run(false);
    useBackend(backend);
    const got = run(true);
    expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-5);
    want.grads.forEach((g, i) => expect(relL2(got.grads[i]!, g), `param ${i}`).toBeLessThan(1e-5));
  });
});

describe('CNN plan memory', () => {
  it('training steps on the wasm engine keep its memory flat (buffers reused, nothing copied per op)', async () => {
    const wasm = await createWasmBackend({ threads: 2 });
    const previous = getBackend();
    useBackend(wasm);
    try {
      const rng = new Rng(9);
      const net = nets['seed topology, small (conv-pool-relu twice, linear)']!.build(rng);
      const plan = train.CnnPlan.compile(net.layers, [1, 12, 12])!;
      const opt = new optim.Adam(net.parameters(), { lr: 0.01 });
      const y = new Tensor(Int32Array.of(0, 1, 2, 3, 4, 0, 1, 2), [8]);
      const step = (): void => {
        const loss = ops.crossEntropy(plan.run(randomTensor([8, 1, 12, 12], rng)), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      };
      step();
      step();
      const heap = wasm.engine.heap.highWater;
      const bytes = wasm.engine.memory.buffer.byteLength;
      for (let i = 0; i < 5; i++) step();
      expect(wasm.engine.heap.highWater).toBe(heap);
      expect(wasm.engine.memory.buffer.byteLength).toBe(bytes);
      plan.release();
    } finally {
      useBackend(previous);
      wasm.dispose();
    }
  });
});

describe('CNN plan boundaries', () => {
  it('refuses layers it does not know and repeated modules', () => {
    const rng = new Rng(1);
    const lin = new nn.Linear(4, 4, { rng });
    expect(train.CnnPlan.compile([new nn.Flatten(), lin, lin], [4])).toBeNull();
    expect(
      train.CnnPlan.compile([new nn.Flatten(), new nn.Linear(4, 2, { rng }), new snn.Leaky({ beta: 0.5 })], [4]),
    ).toBeNull();
    expect(train.CnnPlan.compile([new nn.AvgPool2d(2), new nn.Flatten()], [1, 4, 4])).toBeNull();
    expect(train.CnnPlan.compile([], [4])).toBeNull();
    expect(train.CnnPlan.compile([new nn.Linear(4, 2, { rng })], [3, 4])).toBeNull();
    expect(train.CnnPlan.compile([new nn.Flatten(2)], [3, 4])).toBeNull();
  });

  it('checks the input shape, refuses an input that requires grad, and a stale backward', () => {
    const rng = new Rng(2);
    const net = new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 2, { rng }));
    const plan = train.CnnPlan.compile(net.layers, [1, 2, 2])!;
    expect(() => plan.run(randomTensor([3, 1, 2, 3], rng))).toThrow(/is not \[B, 1, 2, 2\]/);
    expect(() => plan.run(randomTensor([3, 1, 2, 2], rng, { requiresGrad: true }))).toThrow(/requires grad/);
    const first = plan.run(randomTensor([3, 1, 2, 2], rng));
    plan.run(randomTensor([3, 1, 2, 2], rng));
    expect(() => ops.sum(first).backward()).toThrow(/newer run/);
  });
});
