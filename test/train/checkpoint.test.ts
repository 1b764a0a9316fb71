import { describe, expect, it } from 'vitest';
import { Rng, Tensor, decodeSafetensors, nn, ops, optim, train } from 'spikets';

function model(seed: number): nn.Sequential {
  const rng = new Rng(seed);
  return new nn.Sequential(new nn.Linear(4, 3, { rng }), new nn.ReLU(), new nn.Linear(3, 2, { rng }));
}

function step(net: nn.Sequential, opt: optim.Optimizer): void {
  const x = new Tensor(
    Float32Array.from({ length: 8 }, (_, i) => Math.sin(i)),
    [2, 4],
  );
  opt.zeroGrad();
  ops.crossEntropy(net.forward(x), new Tensor(Int32Array.of(0, 1), [2])).backward();
  opt.step();
}

describe('saveState / loadState (safetensors checkpoints)', () => {
  it('stores parameters under PyTorch names with the optimizer state, and a restored run continues identically', () => {
    const a = model(1);
    const optA = new optim.Adam(a.parameters(), { lr: 0.01 });
    step(a, optA);
    const bytes = train.saveState(a, optA, { note: 'test' });
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toContain('0.weight');
    expect(Object.keys(tensors)).toContain('optim.2.bias.exp_avg_sq');
    expect(metadata).toMatchObject({ format: 'spikets', note: 'test', 'optim.step': '1' });

    const b = model(2);
    const optB = new optim.Adam(b.parameters(), { lr: 0.01 });
    train.loadState(bytes, b, optB);
    step(a, optA);
    step(b, optB);
    a.parameters().forEach((p, i) => expect(Array.from(b.parameters()[i]!.values)).toEqual(Array.from(p.values)));
  });

  it('refuses a checkpoint of another architecture, naming the tensor, and changes nothing', () => {
    const a = model(1);
    const bytes = train.saveState(a);
    const other = new nn.Sequential(
      new nn.Linear(4, 5, { rng: new Rng(0) }),
      new nn.ReLU(),
      new nn.Linear(5, 2, { rng: new Rng(0) }),
    );
    const before = Array.from(other.parameters()[0]!.values);
    expect(() => train.loadState(bytes, other, undefined, 'a.safetensors')).toThrow(/a\.safetensors.*0\.weight.*shape/);
    expect(Array.from(other.parameters()[0]!.values)).toEqual(before);
    expect(() => train.loadState(bytes.subarray(0, 20), a, undefined, 'cut.safetensors')).toThrow(/cut\.safetensors/);
  });
});
