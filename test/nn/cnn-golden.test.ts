import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Tensor,
  createWasmBackend,
  getBackend,
  nn,
  ops,
  optim,
  referenceBackend,
  train,
  useBackend,
  type Backend,
} from 'spikets';
import { golden, goldenTensor } from '../helpers/golden.js';
import { relL2, tol } from '../helpers/numeric.js';

const net = golden('network.json');
const layerNames = ['conv1', 'conv2', 'fc'] as const;

/** The study's CNN (seed topology with ReLU) loaded with the golden initial weights. */
function goldenCnn(): { model: nn.Sequential; byName: Record<string, nn.Parameter> } {
  const model = new nn.Sequential(
    new nn.Conv2d(1, 12, 5),
    new nn.MaxPool2d(2),
    new nn.ReLU(),
    new nn.Conv2d(12, 64, 5),
    new nn.MaxPool2d(2),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(1024, 10),
  );
  const params = model.parameters();
  const byName: Record<string, nn.Parameter> = {};
  layerNames.forEach((layer, i) => {
    for (const [j, kind] of (['weight', 'bias'] as const).entries()) {
      const p = params[2 * i + j]!;
      const w = goldenTensor(net.weight_sets.init_seed0.weights[`${layer}.${kind}`]);
      expect(p.shape).toEqual(w.shape);
      p.values.set(w.values);
      byName[`${layer}.${kind}`] = p;
    }
  });
  return { model, byName };
}

/** The tape (`model.forward`) and the fused CNN plan, on the reference backend (the specification) and the wasm engine. */
const runs = {
  tape: (model: nn.Sequential, x: Tensor) => model.forward(x),
  'fused CNN plan': (model: nn.Sequential, x: Tensor) => train.CnnPlan.compile(model.layers, [1, 28, 28])!.run(x),
};
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

  describe.each(Object.keys(runs) as (keyof typeof runs)[])(
    'CNN parity with PyTorch (network.json cnn_init_seed0) via the %s',
    (run) => {
      it('reproduces the logits, the loss and every parameter gradient', () => {
        const { model, byName } = goldenCnn();
        const x = goldenTensor(net.images);
        const y = new Tensor(Int32Array.from(net.labels as number[]), [4]);
        const logits = runs[run](model, x);
        const expected = goldenTensor(net.cnn_init_seed0.logits);
        expect(relL2(logits.values, expected.values)).toBeLessThan(1e-5);
        const loss = ops.crossEntropy(logits, y);
        expect(Math.abs(loss.item() - net.cnn_init_seed0.loss)).toBeLessThan(tol.loss);
        loss.backward();
        for (const [name, p] of Object.entries(byName)) {
          const g = goldenTensor(net.cnn_init_seed0.grads[name]);
          expect(relL2(p.grad!.values, g.values), name).toBeLessThan(tol.cnnGradRelL2);
        }
      });
    },
  );
});

describe('Adam parity with PyTorch (one step from stored gradients)', () => {
  it.each(['snn_init_seed0_T10'])('%s: params after one Adam step (lr 1e-2)', (caseName) => {
    const c = net.snn_cases[caseName];
    const weightSet = caseName.includes('after30') ? 'after30iters' : 'init_seed0';
    const params = Object.keys(c.grads).map((name) => {
      const w = goldenTensor(net.weight_sets[weightSet].weights[name]);
      const p = new nn.Parameter(w.values, w.shape);
      p.grad = goldenTensor(c.grads[name]);
      return [name, p] as const;
    });
    const adam = new optim.Adam(
      params.map(([, p]) => p),
      { lr: 1e-2 },
    );
    adam.step();
    for (const [name, p] of params) {
      const after = goldenTensor(c['params_after_one_adam_step_lr1e-2'][name]);
      let maxErr = 0;
      for (let i = 0; i < p.size; i++) maxErr = Math.max(maxErr, Math.abs(p.values[i]! - after.values[i]!));
      expect(maxErr, name).toBeLessThan(1e-6);
    }
  });
});
