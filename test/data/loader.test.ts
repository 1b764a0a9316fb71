import { describe, expect, it } from 'vitest';
import { DataLoader, fromIdx, type Batch } from '../../src/data/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { Rng } from '../../src/tensor/random.js';
import { tinyFiles } from './helpers.js';

const { train } = fromIdx(tinyFiles(23, 2, 2, 3));

function orderOf(batches: Iterable<Batch>): number[] {
  return [...batches].flatMap((b) => Array.from(b.indices));
}

describe('DataLoader', () => {
  it('serves every example once per epoch, in dataset order without shuffle', () => {
    const loader = new DataLoader(train, { batchSize: 5 });
    const batches = [...loader.batches(0)];
    expect(batches.map((b) => b.indices.length)).toEqual([5, 5, 5, 5, 3]);
    expect(orderOf(batches)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(loader.numBatches).toBe(5);
    expect(loader.numExamples).toBe(23);
  });

  it('converts a batch to float32 [B,1,H,W] with scale and normalise, labels to int32 [B]', () => {
    const size = train.height * train.width;
    const plain = new DataLoader(train, { batchSize: 4, indices: [3, 0] });
    const [b] = plain.batches(0);
    expect(b!.x.shape).toEqual([2, 1, 2, 3]);
    expect(b!.x.dtype).toBe('float32');
    expect(b!.y.dtype).toBe('int32');
    expect(Array.from(b!.y.ints)).toEqual([train.labels[3], train.labels[0]]);
    const pixel = train.images[3 * size + 1]!;
    expect(b!.x.values[1]).toBe(Math.fround(pixel / 255));
    const raw = [...new DataLoader(train, { batchSize: 2, indices: [3], scale: 'raw' }).batches(0)][0]!;
    expect(raw.x.values[1]).toBe(pixel);
    const norm = [
      ...new DataLoader(train, { batchSize: 2, indices: [3], normalize: { mean: 0.1307, std: 0.3081 } }).batches(0),
    ][0]!;
    const expected = Math.fround(Math.fround(Math.fround(pixel / 255) - Math.fround(0.1307)) / Math.fround(0.3081));
    expect(norm.x.values[1]).toBe(expected);
    expect(() => new DataLoader(train, { batchSize: 2, normalize: { mean: 0, std: 0 } })).toThrow(RangeError);
  });

  it('same seed gives identical orders; different seeds and epochs differ; order depends only on (seed, epoch)', () => {
    const a = new DataLoader(train, { batchSize: 4, shuffle: true, seed: 7 });
    const b = new DataLoader(train, { batchSize: 4, shuffle: true, seed: 7 });
    const c = new DataLoader(train, { batchSize: 4, shuffle: true, seed: 8 });
    expect(orderOf(a.batches(3))).toEqual(orderOf(b.batches(3)));
    expect(Array.from(a.batchOrder(0))).not.toEqual(Array.from(c.batchOrder(0)));
    expect(Array.from(a.batchOrder(0))).not.toEqual(Array.from(a.batchOrder(1)));
    expect([...a.batchOrder(2)].sort((x, y) => x - y)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    // Resume: a fresh loader asked for epoch 2 directly matches the third epoch of a for..of run.
    const run = new DataLoader(train, { batchSize: 4, shuffle: true, seed: 7 });
    const epochs = [orderOf(run), orderOf(run), orderOf(run)];
    expect(run.epoch).toBe(3);
    expect(epochs[2]).toEqual(orderOf(b.batches(2)));
    expect(epochs[0]).toEqual(Array.from(b.batchOrder(0)));
  });

  it('replays an explicit stored order', () => {
    const a = new DataLoader(train, { batchSize: 4, shuffle: true, seed: 1 });
    const stored = [5, 4, 3, 22, 0];
    expect(orderOf(a.batches(9, stored))).toEqual(stored);
    expect(orderOf(a.batches(0, a.batchOrder(5)))).toEqual(Array.from(a.batchOrder(5)));
    expect(() => [...a.batches(0, [0, 23])]).toThrow(RangeError);
    expect(() => [...a.batches(0, [1.5])]).toThrow(RangeError);
  });

  it('dropLast, limit, range and indices select the right examples', () => {
    const drop = new DataLoader(train, { batchSize: 5, dropLast: true });
    expect([...drop.batches(0)].map((b) => b.indices.length)).toEqual([5, 5, 5, 5]);
    expect(drop.numExamples).toBe(20);
    const limited = new DataLoader(train, { batchSize: 4, limit: 6, shuffle: true, seed: 3 });
    expect([...orderOf(limited.batches(0))].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5]);
    const ranged = new DataLoader(train, { batchSize: 10, range: [10, 14] });
    expect(orderOf(ranged.batches(0))).toEqual([10, 11, 12, 13]);
    const picked = new DataLoader(train, { batchSize: 2, indices: [9, 2, 7], limit: 2 });
    expect(orderOf(picked.batches(0))).toEqual([9, 2]);
    expect(new DataLoader(train, { batchSize: 2, limit: 0 }).numBatches).toBe(0);
    expect(() => new DataLoader(train, { batchSize: 0 })).toThrow(RangeError);
    expect(() => new DataLoader(train, { batchSize: 2, indices: [23] })).toThrow(RangeError);
    expect(() => new DataLoader(train, { batchSize: 2, range: [5, 24] })).toThrow(RangeError);
    expect(() => new DataLoader(train, { batchSize: 2, seed: -1 })).toThrow(RangeError);
  });

  it('the encode hook runs per batch with an Rng seeded by (seed, epoch, batch)', () => {
    const steps = 3;
    const encode = (x: Tensor, rng: Rng): Tensor => {
      const out = new Float32Array(steps * x.size);
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform() < x.values[i % x.size]! ? 1 : 0;
      return new Tensor(out, [steps, ...x.shape]);
    };
    const a = new DataLoader(train, { batchSize: 4, shuffle: true, seed: 11, encode });
    const b = new DataLoader(train, { batchSize: 4, shuffle: true, seed: 11, encode });
    const first = [...a.batches(1)];
    expect(first[0]!.x.shape).toEqual([3, 4, 1, 2, 3]);
    expect([...b.batches(1)].map((x) => Array.from(x.x.values))).toEqual(first.map((x) => Array.from(x.x.values)));
    const other = [...a.batches(2)];
    expect(Array.from(other[0]!.x.values)).not.toEqual(Array.from(first[0]!.x.values));
  });
});
