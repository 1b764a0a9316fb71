import { describe, expect, it } from 'vitest';
import { Rng, nn, ops, optim, tensor } from 'spikets';

/** A parameter with a fixed gradient, for hand-computed optimizer steps. */
function param(values: number[], grad: number[]): nn.Parameter {
  const p = new nn.Parameter(Float32Array.from(values), [values.length]);
  p.grad = tensor(grad);
  return p;
}

describe('SGD (PyTorch semantics)', () => {
  it('plain step: p -= lr * (g + wd * p)', () => {
    const p = param([1, -2], [0.5, 0.25]);
    new optim.SGD([p], { lr: 0.1, weightDecay: 0.01 }).step();
    expect(Array.from(p.values)).toEqual([1 - 0.1 * (0.5 + 0.01), -2 - 0.1 * (0.25 - 0.02)].map(Math.fround));
  });

  it('momentum with dampening: buf = g on the first step, then mu*buf + (1-d)*g', () => {
    const p = param([0], [1]);
    const sgd = new optim.SGD([p], { lr: 1, momentum: 0.9, dampening: 0.5 });
    sgd.step(); // buf = 1, p = -1
    sgd.step(); // buf = 0.9 + 0.5 = 1.4, p = -2.4
    expect(p.values[0]).toBeCloseTo(-2.4, 6);
  });

  it('nesterov: g + mu*buf', () => {
    const p = param([0], [1]);
    const sgd = new optim.SGD([p], { lr: 1, momentum: 0.5, nesterov: true });
    sgd.step(); // buf = 1, d = 1 + 0.5 = 1.5
    sgd.step(); // buf = 0.5 + 1 = 1.5, d = 1 + 0.75 = 1.75
    expect(p.values[0]).toBeCloseTo(-3.25, 6);
    expect(() => new optim.SGD([p], { lr: 1, nesterov: true })).toThrow(/nesterov/);
  });

  it('skips parameters without a gradient and zeroGrad clears them', () => {
    const a = param([1], [1]);
    const b = new nn.Parameter(Float32Array.of(5), [1]);
    const sgd = new optim.SGD([a, b], { lr: 1 });
    sgd.step();
    expect(b.values[0]).toBe(5);
    sgd.zeroGrad();
    expect(a.grad).toBeNull();
  });
});

describe('Adam', () => {
  it('reduces a quadratic loss and validates its options', () => {
    const w = new nn.Parameter(Float32Array.of(3, -4), [2]);
    const adam = new optim.Adam([w], { lr: 0.1 });
    for (let i = 0; i < 200; i++) {
      adam.zeroGrad();
      ops.sum(ops.square(w)).backward();
      adam.step();
    }
    expect(Math.hypot(w.values[0]!, w.values[1]!)).toBeLessThan(0.05);
    expect(() => new optim.Adam([w], { betas: [1, 0.9] })).toThrow(/betas/);
    expect(() => new optim.Adam([], {})).toThrow(/empty/);
  });
});

describe('nn.Module', () => {
  it('names parameters like PyTorch and switches train/eval recursively', () => {
    const rng = new Rng(1);
    const net = new nn.Sequential(
      new nn.Linear(3, 4, { rng }),
      new nn.ReLU(),
      new nn.Sequential(new nn.Linear(4, 2, { rng, bias: false })),
    );
    expect(net.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['0.weight', [4, 3]],
      ['0.bias', [4]],
      ['2.0.weight', [2, 4]],
    ]);
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
  });

  it('initialises like PyTorch: U(+-1/sqrt(fan_in)) for weights and biases, reproducible from the seed', () => {
    const a = new nn.Conv2d(12, 64, 5, { rng: new Rng(3) });
    const b = new nn.Conv2d(12, 64, 5, { rng: new Rng(3) });
    expect(Array.from(a.weight.values)).toEqual(Array.from(b.weight.values));
    const bound = 1 / Math.sqrt(12 * 25);
    const w = Array.from(a.weight.values);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    const mean = w.reduce((p, q) => p + q, 0) / w.length;
    const variance = w.reduce((p, q) => p + (q - mean) ** 2, 0) / w.length;
    expect(variance).toBeCloseTo(bound ** 2 / 3, 4);
    expect(Math.max(...Array.from(a.bias!.values).map(Math.abs))).toBeLessThanOrEqual(bound);
  });
});

describe('Rng', () => {
  it('restores its full state, including a pending normal deviate', () => {
    const a = new Rng(9);
    a.normal();
    const saved = a.getState();
    const next = [a.normal(), a.uniform(), a.normal()];
    const b = new Rng(0);
    b.setState(saved);
    expect([b.normal(), b.uniform(), b.normal()]).toEqual(next);
  });

  it('gives different streams for different seeds and a valid permutation', () => {
    expect(new Rng(1).uniform()).not.toBe(new Rng(2).uniform());
    const p = Array.from(new Rng(3).permutation(100)).sort((x, y) => x - y);
    expect(p).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
