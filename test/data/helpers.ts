import { expect } from 'vitest';
import { DataError, writeIdx, type IdxFileSet } from '../../src/data/index.js';
import { Rng } from '../../src/tensor/random.js';

/** Runs `fn` and returns the DataError it throws (fails the test otherwise). */
export function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return error as DataError;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

/** Image and label IDX bytes for `count` random h x w images with labels `i % numClasses`. */
export function splitBytes(
  count: number,
  h: number,
  w: number,
  seed: number,
  numClasses = 10,
): { images: Uint8Array; labels: Uint8Array } {
  const rng = new Rng(seed);
  const pixels = Array.from({ length: count * h * w }, () => rng.int(256));
  const labels = Array.from({ length: count }, (_, i) => i % numClasses);
  return {
    images: writeIdx({ type: 'u8', dims: [count, h, w], data: pixels }),
    labels: writeIdx({ type: 'u8', dims: [count], data: labels }),
  };
}

/** A small four-file MNIST-style set: `train` train images and `test` test images of h x w. */
export function tinyFiles(train = 12, test = 5, h = 4, w = 3): IdxFileSet<Uint8Array> {
  const tr = splitBytes(train, h, w, 1);
  const te = splitBytes(test, h, w, 2);
  return { trainImages: tr.images, trainLabels: tr.labels, testImages: te.images, testLabels: te.labels };
}
