import { describe, expect, it } from 'vitest';
import { DataError, stratifiedSample } from '../../src/data/index.js';
import { mnist } from '../../src/node.js';

/** Samples per class of `chosen`. */
function classCounts(labels: Uint8Array, chosen: Int32Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const i of chosen) counts[labels[i]!]!++;
  return counts;
}

describe('stratifiedSample', () => {
  it("gives each class its share of MNIST's test set, distinct sorted indices, the same for the same seed", () => {
    const { labels } = mnist().test;
    const all = classCounts(labels, Int32Array.from({ length: 10_000 }, (_, i) => i));
    for (const n of [1000, 2000, 37]) {
      const chosen = stratifiedSample(labels, 10_000, n, 0);
      expect(chosen.length).toBe(n);
      expect(new Set(chosen).size).toBe(n);
      expect(Array.from(chosen)).toEqual(Array.from(chosen).sort((a, b) => a - b));
      // largest remainders: each class within one sample of its exact share
      classCounts(labels, chosen).forEach((c, k) => expect(Math.abs(c - (n * all[k]!) / 10_000)).toBeLessThan(1));
      expect(Array.from(stratifiedSample(labels, 10_000, n, 0))).toEqual(Array.from(chosen));
    }
    expect(Array.from(stratifiedSample(labels, 10_000, 1000, 1))).not.toEqual(
      Array.from(stratifiedSample(labels, 10_000, 1000, 0)),
    );
  });

  it('edges: only the first `total` samples, n = 0, n = total, a single class, remainders tie to the lower class', () => {
    const labels = Uint8Array.from([0, 1, 1, 2, 2, 2, 9, 9]);
    expect(Array.from(stratifiedSample(labels, 6, 6, 3))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stratifiedSample(labels, 6, 0, 3).length).toBe(0);
    const three = stratifiedSample(labels, 6, 3, 3); // shares 0.5 / 1 / 1.5: class 2 gets 1 + (0.5 tie: class 0 first)
    expect(classCounts(labels, three).slice(0, 3)).toEqual([1, 1, 1]);
    expect(Array.from(stratifiedSample(Uint8Array.from([4, 4, 4]), 3, 2, 0)).every((i) => i < 3)).toBe(true);
  });

  it('refuses a total or n out of range, naming the field', () => {
    const labels = new Uint8Array(5);
    expect(() => stratifiedSample(labels, 6, 1, 0)).toThrow(DataError);
    expect(() => stratifiedSample(labels, 6, 1, 0)).toThrow(/total/);
    expect(() => stratifiedSample(labels, 5, 6, 0)).toThrow(/\bn\b/);
    expect(() => stratifiedSample(labels, 5, 1.5, 0)).toThrow(/\bn\b/);
  });
});
