import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { TorchGenerator } from '../tensor/torch-generator.js';
import type { ImageDataset } from './dataset.js';

/**
 * Mini-batches over an ImageDataset, deterministic and resumable.
 *
 * Order: the epoch's example order is `subset[perm_e]` when shuffling, and `subset` otherwise. perm_e is PyTorch's:
 * the (e+1)-th `torch.randperm(n, generator=g)` of a generator `g = torch.Generator().manual_seed(seed)`
 * (`TorchGenerator`), so epoch 0 of seed s is the order a PyTorch study shuffling with that generator sees first (the
 * snnTorch reference run's order for s = 0). It depends on (seed, epoch) only, never on how many epochs ran before,
 * so a run resumed at epoch e sees exactly the batches of an uninterrupted run; a stored order can also be replayed.
 *
 * Pixels: `x = (p / 255 - mean) / std` per pixel p (the scale by 255 only with `scale: 'unit'`, the default; the
 * normalisation only when given), each step rounded to float32 as torchvision's ToTensor + Normalize do. Only the
 * batch is converted (via a 256-entry table); the dataset stays u8.
 *
 * Encoding: `encode(x, rng)` (e.g. spikegen rate/latency/delta) runs on each batch with an Rng seeded from
 * (seed, epoch, batch), so encoded spikes are reproducible too.
 */

export interface Batch {
  /** float32 `[B, 1, H, W]` pixels, or whatever `encode` returns (e.g. `[T, B, 1, H, W]` spikes). */
  x: Tensor;
  /** int32 `[B]` class ids. */
  y: Tensor;
  /** Dataset indices of the batch's examples, in batch order. */
  indices: Int32Array;
  epoch: number;
  /** Position of this batch within its epoch. */
  batch: number;
}

export interface DataLoaderOptions {
  batchSize: number;
  /** Shuffle each epoch (order a function of seed and epoch). Default false. */
  shuffle?: boolean;
  /** Seed for shuffling and for the encode hook's Rng; an integer in [0, 2^32). Default 0. */
  seed?: number;
  /** Drop the final batch when it is smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Use these dataset indices (in this order) instead of all examples. */
  indices?: ArrayLike<number>;
  /** Use the index range [start, end) instead of all examples (ignored when `indices` is given). */
  range?: readonly [number, number];
  /** Keep only the first `limit` examples of the subset. */
  limit?: number;
  /** 'unit' maps pixels 0..255 to [0, 1] (default); 'raw' keeps 0..255. */
  scale?: 'unit' | 'raw';
  /** Optional normalisation applied after scaling: (x - mean) / std. */
  normalize?: { mean: number; std: number };
  /** Per-batch input encoding hook, e.g. `(x, rng) => spikegen.rate(x, { numSteps: 25, rng })`. */
  encode?: (x: Tensor, rng: Rng) => Tensor;
}

/** A 32-bit hash of a few integers (murmur3 finaliser per word), used to derive per-epoch and per-batch seeds. */
function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

const ENCODE_STREAM = 0x454e;

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`DataLoader: ${name} must be an integer >= ${min}, got ${value}`);
}

export class DataLoader implements Iterable<Batch> {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** The epoch the next `for..of` will use; each iteration advances it. `batches(epoch)` ignores it. */
  epoch = 0;
  private readonly subset: Int32Array;
  private readonly table: Float32Array;
  private readonly encode: ((x: Tensor, rng: Rng) => Tensor) | undefined;

  constructor(dataset: ImageDataset, options: DataLoaderOptions) {
    this.dataset = dataset;
    checkCount('batchSize', options.batchSize, 1);
    this.batchSize = options.batchSize;
    this.shuffle = options.shuffle ?? false;
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) {
      throw new RangeError(`DataLoader: seed must be an integer in [0, 2^32), got ${this.seed}`);
    }
    this.dropLast = options.dropLast ?? false;
    this.subset = this.selectSubset(options);
    this.table = pixelTable(options.scale ?? 'unit', options.normalize);
    this.encode = options.encode;
  }

  private selectSubset(options: DataLoaderOptions): Int32Array {
    const n = this.dataset.count;
    let subset: Int32Array;
    if (options.indices !== undefined) {
      subset = Int32Array.from(options.indices);
      this.checkIndices(subset, options.indices, 'indices');
    } else if (options.range !== undefined) {
      const [start, end] = options.range;
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
        throw new RangeError(`DataLoader: range must satisfy 0 <= start <= end <= ${n}, got [${start}, ${end})`);
      }
      subset = new Int32Array(end - start);
      for (let i = 0; i < subset.length; i++) subset[i] = start + i;
    } else {
      subset = new Int32Array(n);
      for (let i = 0; i < n; i++) subset[i] = i;
    }
    if (options.limit !== undefined) {
      checkCount('limit', options.limit, 0);
      if (options.limit < subset.length) subset = subset.slice(0, options.limit);
    }
    return subset;
  }

  /** Dataset indices must be integers in range; Int32Array.from would silently truncate 1.5 or wrap 2^32. */
  private checkIndices(converted: Int32Array, original: ArrayLike<number>, what: string): void {
    const n = this.dataset.count;
    for (let i = 0; i < converted.length; i++) {
      const v = original[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= n)
        throw new RangeError(`DataLoader: ${what}[${i}] = ${v} is not an index in 0..${n - 1}`);
    }
  }

  /** Examples per epoch before dropLast. */
  get subsetSize(): number {
    return this.subset.length;
  }

  /** Batches per epoch. */
  get numBatches(): number {
    const n = this.subset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Examples actually served per epoch (after dropLast). */
  get numExamples(): number {
    return this.dropLast ? this.numBatches * this.batchSize : this.subset.length;
  }

  /** Dataset indices in the order epoch `epoch` serves them (all of the subset; dropLast cuts the tail). */
  batchOrder(epoch: number): Int32Array {
    checkCount('epoch', epoch, 0);
    if (!this.shuffle) return this.subset.slice();
    const generator = new TorchGenerator(this.seed);
    let perm = generator.randperm(this.subset.length);
    for (let e = 0; e < epoch; e++) perm = generator.randperm(this.subset.length);
    const order = new Int32Array(perm.length);
    for (let i = 0; i < perm.length; i++) order[i] = this.subset[perm[i]!]!;
    return order;
  }

  /**
   * The batches of `epoch`. With `order` (e.g. a stored `batchOrder` result) that order is replayed instead of the
   * computed one; the encode hook's Rng still follows (seed, epoch, batch).
   */
  *batches(epoch: number, order?: ArrayLike<number>): Generator<Batch, void, undefined> {
    checkCount('epoch', epoch, 0);
    let served: Int32Array;
    if (order === undefined) served = this.batchOrder(epoch);
    else {
      served = Int32Array.from(order);
      this.checkIndices(served, order, 'order');
    }
    const n = served.length;
    const count = this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
    for (let b = 0; b < count; b++) {
      const indices = served.slice(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize));
      yield this.makeBatch(indices, epoch, b);
    }
  }

  /** Iterates epoch `this.epoch`, then advances it (PyTorch-style `for batch of loader` each epoch). */
  [Symbol.iterator](): Iterator<Batch> {
    const epoch = this.epoch;
    this.epoch += 1;
    return this.batches(epoch);
  }

  /** Builds one batch from dataset indices (also usable directly, e.g. for evaluation of chosen examples). */
  makeBatch(indices: Int32Array, epoch = 0, batch = 0): Batch {
    const { images, labels, height, width } = this.dataset;
    const size = height * width;
    const b = indices.length;
    const x = new Float32Array(b * size);
    const y = new Int32Array(b);
    const table = this.table;
    for (let i = 0; i < b; i++) {
      const src = indices[i]! * size;
      const dst = i * size;
      for (let k = 0; k < size; k++) x[dst + k] = table[images[src + k]!]!;
      y[i] = labels[indices[i]!]!;
    }
    let input = new Tensor(x, [b, 1, height, width]);
    if (this.encode !== undefined) input = this.encode(input, new Rng(mixSeed(this.seed, ENCODE_STREAM, epoch, batch)));
    return { x: input, y: new Tensor(y, [b]), indices, epoch, batch };
  }
}

/** Float32 value of each u8 pixel, rounded step by step like torch's ToTensor then Normalize. */
function pixelTable(scale: 'unit' | 'raw', normalize?: { mean: number; std: number }): Float32Array {
  if (
    normalize !== undefined &&
    (!Number.isFinite(normalize.mean) || !Number.isFinite(normalize.std) || normalize.std === 0)
  ) {
    throw new RangeError(
      `DataLoader: normalize needs a finite mean and a finite non-zero std, got ${normalize.mean}, ${normalize.std}`,
    );
  }
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    let x = scale === 'unit' ? Math.fround(v / 255) : v;
    if (normalize !== undefined)
      x = Math.fround(Math.fround(x - Math.fround(normalize.mean)) / Math.fround(normalize.std));
    table[v] = x;
  }
  return table;
}
