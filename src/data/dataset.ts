import { DataError } from './errors.js';
import { ungzip, ungzipSync, type Gunzip } from './gzip.js';
import { parseIdx } from './idx.js';

/**
 * A labelled set of single-channel images, kept as the raw u8 pixels of the IDX file (N*H*W bytes, 47 MB for
 * MNIST's 60k training images). Batches are converted to float32 on the fly by the DataLoader, so there is never a
 * float copy of the whole set.
 */
export interface ImageDataset {
  /** Row-major pixels, image i at `[i*H*W, (i+1)*H*W)`. May be a view into the loaded file bytes. */
  readonly images: Uint8Array;
  /** Class ids in `0..numClasses-1`, one per image. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly numClasses: number;
  /** Human-readable class names, `names[label]`; length `numClasses`. */
  readonly names: readonly string[];
}

export const MNIST_CLASSES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** The four files of an MNIST-style data set, by role. */
export interface IdxFileSet<T> {
  trainImages: T;
  trainLabels: T;
  testImages: T;
  testLabels: T;
}

export const IDX_ROLES = [
  'trainImages',
  'trainLabels',
  'testImages',
  'testLabels',
] as const satisfies readonly (keyof IdxFileSet<unknown>)[];

export interface DatasetOptions {
  /** Class names; their count is the default `numClasses`. Defaults to the digits '0'..'9'. */
  names?: readonly string[];
  /** Number of classes; labels must lie in `0..numClasses-1`. Default: `names.length`, or 10. */
  numClasses?: number;
}

export interface FromIdxOptions extends DatasetOptions {
  /** Decompressor for gzip inputs (detected by their 1f 8b magic). Raw IDX bytes need none. */
  gunzip?: Gunzip;
  /** Names used in error messages (file paths or URLs); default: the role, e.g. `trainImages`. */
  fileNames?: Partial<IdxFileSet<string>>;
}

export interface SplitDatasets {
  train: ImageDataset;
  test: ImageDataset;
}

function resolveClasses(options: DatasetOptions): { numClasses: number; names: readonly string[] } {
  const numClasses = options.numClasses ?? options.names?.length ?? 10;
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) {
    throw new DataError('options', 'numClasses', 'an integer in 1..256 (labels are u8)', String(numClasses));
  }
  const names =
    options.names ?? (numClasses === 10 ? MNIST_CLASSES : Array.from({ length: numClasses }, (_, i) => String(i)));
  if (names.length !== numClasses) {
    throw new DataError('options', 'names', `${numClasses} class names (numClasses)`, `${names.length} names`);
  }
  return { numClasses, names: Object.freeze([...names]) };
}

/**
 * Builds one split from decompressed IDX bytes: images must be u8 of rank 3 `[N, H, W]`, labels u8 of rank 1
 * `[N]` with values below `numClasses`.
 */
export function datasetFromIdx(
  imagesBytes: Uint8Array,
  labelsBytes: Uint8Array,
  options: DatasetOptions & { imagesFile?: string; labelsFile?: string } = {},
): ImageDataset {
  const imagesFile = options.imagesFile ?? 'images';
  const labelsFile = options.labelsFile ?? 'labels';
  const { numClasses, names } = resolveClasses(options);
  const images = parseIdx(imagesBytes, { file: imagesFile });
  if (images.type !== 'u8') throw new DataError(imagesFile, 'type', 'u8 pixels (type code 0x08)', images.type);
  if (images.dims.length !== 3) {
    throw new DataError(
      imagesFile,
      'dims',
      'rank 3 [count, height, width] (idx3)',
      `rank ${images.dims.length} [${images.dims.join(', ')}]`,
    );
  }
  const [count, height, width] = images.dims as [number, number, number];
  if (count === 0) throw new DataError(imagesFile, 'count', 'at least 1 image', '0 images');
  if (height === 0 || width === 0) {
    throw new DataError(imagesFile, 'dims', 'positive height and width', `${height} x ${width}`);
  }
  const labels = parseIdx(labelsBytes, { file: labelsFile });
  if (labels.type !== 'u8') throw new DataError(labelsFile, 'type', 'u8 labels (type code 0x08)', labels.type);
  if (labels.dims.length !== 1) {
    throw new DataError(
      labelsFile,
      'dims',
      'rank 1 [count] (idx1)',
      `rank ${labels.dims.length} [${labels.dims.join(', ')}]`,
    );
  }
  if (labels.dims[0] !== count) {
    throw new DataError(
      labelsFile,
      'count',
      `${count} labels, one per image in ${imagesFile}`,
      `${labels.dims[0]} labels`,
    );
  }
  const labelData = labels.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    const v = labelData[i]!;
    if (v >= numClasses) {
      throw new DataError(
        labelsFile,
        'labels',
        `class ids in 0..${numClasses - 1} (numClasses ${numClasses})`,
        `${v} at index ${i}`,
      );
    }
  }
  return { images: images.data as Uint8Array, labels: labelData, count, height, width, numClasses, names };
}

function buildSplits(raw: IdxFileSet<Uint8Array>, options: FromIdxOptions): SplitDatasets {
  const name = (role: keyof IdxFileSet<unknown>): string => options.fileNames?.[role] ?? role;
  const train = datasetFromIdx(raw.trainImages, raw.trainLabels, {
    ...options,
    imagesFile: name('trainImages'),
    labelsFile: name('trainLabels'),
  });
  const test = datasetFromIdx(raw.testImages, raw.testLabels, {
    ...options,
    imagesFile: name('testImages'),
    labelsFile: name('testLabels'),
  });
  if (test.height !== train.height || test.width !== train.width) {
    throw new DataError(
      name('testImages'),
      'dims',
      `${train.height} x ${train.width} images like ${name('trainImages')}`,
      `${test.height} x ${test.width}`,
    );
  }
  return { train, test };
}

/**
 * Builds `{ train, test }` from the four files' bytes (raw IDX, or gzip with a synchronous `gunzip`).
 * Every malformed input throws a `DataError` naming the file and field.
 */
export function fromIdx(files: IdxFileSet<Uint8Array>, options: FromIdxOptions = {}): SplitDatasets {
  const name = (role: keyof IdxFileSet<unknown>): string => options.fileNames?.[role] ?? role;
  const raw = {} as IdxFileSet<Uint8Array>;
  for (const role of IDX_ROLES) raw[role] = ungzipSync(files[role], name(role), options.gunzip);
  return buildSplits(raw, options);
}

/** As `fromIdx`, but also accepts an asynchronous `gunzip` (the browser's DecompressionStream). */
export async function fromIdxAsync(
  files: IdxFileSet<Uint8Array>,
  options: FromIdxOptions = {},
): Promise<SplitDatasets> {
  const name = (role: keyof IdxFileSet<unknown>): string => options.fileNames?.[role] ?? role;
  const raw = {} as IdxFileSet<Uint8Array>;
  for (const role of IDX_ROLES) raw[role] = await ungzip(files[role], name(role), options.gunzip);
  return buildSplits(raw, options);
}

/** The pixels of image `i` (a view, no copy). */
export function imageAt(dataset: ImageDataset, i: number): Uint8Array {
  if (!Number.isInteger(i) || i < 0 || i >= dataset.count)
    throw new RangeError(`imageAt: index ${i} outside 0..${dataset.count - 1}`);
  const size = dataset.height * dataset.width;
  return dataset.images.subarray(i * size, (i + 1) * size);
}
