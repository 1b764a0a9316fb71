import { describe, expect, it } from 'vitest';
import { TorchGenerator } from 'spikets';

describe('TorchGenerator (PyTorch CPU generator: MT19937 and its uniform_/randperm draws)', () => {
  it('is the standard MT19937', () => {
    // values every conforming std::mt19937 gives: the first output for seeds 0 and 5489, and the 10000th for 5489
    expect(new TorchGenerator(0).random()).toBe(2357136044);
    const g = new TorchGenerator(5489);
    expect(g.random()).toBe(3499211612);
    let last = 0;
    for (let i = 1; i < 10000; i++) last = g.random();
    expect(last).toBe(4123659995);
  });

  it('uniformRange is float32, inside [low, high], and reproducible', () => {
    const a = new TorchGenerator(7);
    const b = new TorchGenerator(7);
    for (let i = 0; i < 2000; i++) {
      const v = a.uniformRange(-0.2, 0.2);
      expect(v).toBe(b.uniformRange(-0.2, 0.2));
      expect(Math.fround(v)).toBe(v);
      expect(v).toBeGreaterThanOrEqual(Math.fround(-0.2));
      expect(v).toBeLessThanOrEqual(Math.fround(0.2));
    }
    // a zero-width range: x * 0 + low is low exactly, whatever the draw
    expect(new TorchGenerator(1).uniformRange(3, 3)).toBe(3);
  });

  it('randperm is a permutation, deterministic per seed, and handles n = 0, 1, 2', () => {
    for (const n of [0, 1, 2, 17, 1000]) {
      const p = new TorchGenerator(3).randperm(n);
      expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(p).toEqual(new TorchGenerator(3).randperm(n));
    }
    expect(new TorchGenerator(3).randperm(1000)).not.toEqual(new TorchGenerator(4).randperm(1000));
    // successive calls continue the stream (a DataLoader's later epochs)
    const g = new TorchGenerator(3);
    expect(g.randperm(1000)).not.toEqual(g.randperm(1000));
  });

  it('rejects a bad seed or size by name', () => {
    expect(() => new TorchGenerator(-1)).toThrow(/seed must be an integer in \[0, 2\^32\), got -1/);
    expect(() => new TorchGenerator(1.5)).toThrow(/seed/);
    expect(() => new TorchGenerator(0).randperm(-3)).toThrow(/randperm: n must be an integer/);
  });
});
