import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { fromFiles, fromUrls } from '../../src/data/browser.js';
import {
  DataError,
  FASHION_MNIST_CLASSES,
  datasetFromIdx,
  fromIdx,
  fromIdxAsync,
  imageAt,
  writeIdx,
  type IdxFileSet,
} from '../../src/data/index.js';
import { IDX_FILE_NAMES, fashionMnist, fashionMnistDir, fromDir, gunzipNode } from '../../src/data/node.js';
import { dataError, splitBytes, tinyFiles } from './helpers.js';

const temp = mkdtempSync(join(tmpdir(), 'spikets-data-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('fromIdx', () => {
  it('builds train and test splits with raw u8 pixels and labels', () => {
    const files = tinyFiles(12, 5, 4, 3);
    const { train, test } = fromIdx(files);
    expect([train.count, train.height, train.width, train.numClasses]).toEqual([12, 4, 3, 10]);
    expect(test.count).toBe(5);
    expect(train.images).toBeInstanceOf(Uint8Array);
    expect(train.images.length).toBe(12 * 4 * 3);
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(Array.from(imageAt(train, 1))).toEqual(Array.from(files.trainImages.subarray(16 + 12, 16 + 24)));
    expect(train.names).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('accepts gzip files with a gunzip, sync and async', async () => {
    const files = tinyFiles();
    const gz: IdxFileSet<Uint8Array> = {
      trainImages: gzipSync(files.trainImages),
      trainLabels: files.trainLabels,
      testImages: gzipSync(files.testImages),
      testLabels: gzipSync(files.testLabels),
    };
    const a = fromIdx(gz, { gunzip: gunzipNode });
    const b = await fromIdxAsync(gz, { gunzip: async (bytes) => Promise.resolve(gunzipNode(bytes)) });
    const c = fromIdx(files);
    expect(a.train.images).toEqual(c.train.images);
    expect(b.test.labels).toEqual(c.test.labels);
    expect(dataError(() => fromIdx(gz)).file).toBe('trainImages');
  });

  it('image and label counts that differ', () => {
    const files = tinyFiles(12, 5);
    const e = dataError(() =>
      fromIdx({ ...files, testLabels: splitBytes(4, 4, 3, 9).labels }, { fileNames: { testLabels: 't10k-labels' } }),
    );
    expect(e.file).toBe('t10k-labels');
    expect(e.field).toBe('count');
    expect(e.message).toContain('5 labels');
  });

  it('labels out of range, with a configurable numClasses', () => {
    const { images, labels } = splitBytes(6, 2, 2, 3, 6); // labels 0..5
    expect(datasetFromIdx(images, labels, { numClasses: 6 }).numClasses).toBe(6);
    const e = dataError(() => datasetFromIdx(images, labels, { numClasses: 5, labelsFile: 'l.idx' }));
    expect(e.field).toBe('labels');
    expect(e.expected).toContain('0..4');
    expect(e.actual).toBe('5 at index 5');
    expect(dataError(() => datasetFromIdx(images, labels, { numClasses: 0 })).field).toBe('numClasses');
    expect(dataError(() => datasetFromIdx(images, labels, { numClasses: 6, names: ['a'] })).field).toBe('names');
  });

  it('wrong element type, rank, empty sets and mismatched image sizes', () => {
    const { labels } = splitBytes(2, 2, 2, 0);
    const f32 = writeIdx({ type: 'f32', dims: [2, 2, 2], data: new Array<number>(8).fill(0) });
    expect(dataError(() => datasetFromIdx(f32, labels)).field).toBe('type');
    const rank2 = writeIdx({ type: 'u8', dims: [2, 4], data: new Array<number>(8).fill(0) });
    expect(dataError(() => datasetFromIdx(rank2, labels)).field).toBe('dims');
    const none = writeIdx({ type: 'u8', dims: [0, 2, 2], data: [] });
    expect(dataError(() => datasetFromIdx(none, writeIdx({ type: 'u8', dims: [0], data: [] }))).field).toBe('count');
    const flat = writeIdx({ type: 'u8', dims: [2, 0, 2], data: [] });
    expect(dataError(() => datasetFromIdx(flat, labels)).field).toBe('dims');
    const labels2d = writeIdx({ type: 'u8', dims: [2, 1], data: [0, 1] });
    expect(dataError(() => datasetFromIdx(splitBytes(2, 2, 2, 0).images, labels2d)).field).toBe('dims');
    const files = tinyFiles(4, 4, 4, 3);
    const other = splitBytes(4, 3, 4, 1);
    const e = dataError(() => fromIdx({ ...files, testImages: other.images, testLabels: other.labels }));
    expect([e.file, e.field]).toEqual(['testImages', 'dims']);
  });

  it('empty file names the file', () => {
    const e = dataError(() => fromIdx({ ...tinyFiles(), trainLabels: new Uint8Array(0) }));
    expect([e.file, e.field]).toEqual(['trainLabels', 'length']);
  });
});

describe('fromDir (node edge)', () => {
  function writeSet(dir: string, names: IdxFileSet<string>, gzip: boolean): IdxFileSet<Uint8Array> {
    mkdirSync(dir, { recursive: true });
    const files = tinyFiles(10, 3, 5, 5);
    for (const role of Object.keys(files) as (keyof IdxFileSet<unknown>)[]) {
      writeFileSync(join(dir, names[role]), gzip ? gzipSync(files[role]) : files[role]);
    }
    return files;
  }

  it('reads the standard names, raw', () => {
    const dir = join(temp, 'raw');
    const files = writeSet(dir, IDX_FILE_NAMES, false);
    const { train, test } = fromDir(dir);
    expect(train.count).toBe(10);
    expect(test.count).toBe(3);
    expect(Array.from(train.images)).toEqual(Array.from(files.trainImages.subarray(16)));
  });

  it('reads .gz files with the dot variant names', () => {
    const dir = join(temp, 'gz');
    const dotted: IdxFileSet<string> = {
      trainImages: 'train-images.idx3-ubyte.gz',
      trainLabels: 'train-labels.idx1-ubyte.gz',
      testImages: 't10k-images.idx3-ubyte.gz',
      testLabels: 't10k-labels-idx1-ubyte.gz',
    };
    const files = writeSet(dir, dotted, true);
    const { train, test } = fromDir(dir, { names: FASHION_MNIST_CLASSES });
    expect(Array.from(test.images)).toEqual(Array.from(files.testImages.subarray(16)));
    expect(train.names[9]).toBe('Ankle boot');
  });

  it('a missing file names the file and the folder; a missing folder is named too', () => {
    const dir = join(temp, 'partial');
    writeSet(dir, { ...IDX_FILE_NAMES, testLabels: 'something-else' }, false);
    const e = dataError(() => fromDir(dir));
    expect(e.field).toBe('file');
    expect(e.file).toBe(join(dir, 't10k-labels-idx1-ubyte'));
    expect(e.message).toContain(`in folder ${dir}`);
    expect(dataError(() => fromDir(join(temp, 'nope'))).field).toBe('folder');
    writeFileSync(join(temp, 'plain-file'), 'x');
    expect(dataError(() => fromDir(join(temp, 'plain-file'))).actual).toBe('a file');
  });

  it('corrupt file content in a folder names the file path', () => {
    const dir = join(temp, 'corrupt');
    writeSet(dir, IDX_FILE_NAMES, false);
    writeFileSync(join(dir, IDX_FILE_NAMES.trainLabels), Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 10, 1, 2]));
    const e = dataError(() => fromDir(dir));
    expect([e.file, e.field]).toEqual([join(dir, IDX_FILE_NAMES.trainLabels), 'data']);
  });

  it('fashionMnist: loads Debian dataset-fashion-mnist when installed, else a clear DataError', () => {
    if (fashionMnistDir() === null) {
      const e = dataError(() => fashionMnist());
      expect(e.field).toBe('package');
      expect(e.message).toContain('apt-get install dataset-fashion-mnist');
      expect(e.message).toContain('fashionMnist(dir)');
    } else {
      const { train, test } = fashionMnist();
      expect([train.count, test.count, train.height, train.width]).toEqual([60000, 10000, 28, 28]);
    }
    const dir = join(temp, 'fashion');
    writeSet(dir, IDX_FILE_NAMES, true);
    expect(fashionMnist(dir).train.names).toEqual(FASHION_MNIST_CLASSES);
  });
});

describe('browser edge (fetch + DecompressionStream, run in Node)', () => {
  const files = tinyFiles(8, 4, 3, 3);
  const gz = Object.fromEntries(
    Object.entries(files).map(([k, v]) => [k, gzipSync(v)]),
  ) as unknown as IdxFileSet<Uint8Array>;

  it('fromUrls with an injected fetch, gzip and raw mixed', async () => {
    const served: Record<string, Uint8Array> = {
      '/a.gz': gz.trainImages,
      '/b': files.trainLabels,
      '/c.gz': gz.testImages,
      '/d.gz': gz.testLabels,
    };
    const fetcher = (url: string): Promise<Response> =>
      Promise.resolve(
        served[url]
          ? new Response(new Uint8Array(served[url]))
          : new Response('missing', { status: 404, statusText: 'Not Found' }),
      );
    const { train, test } = await fromUrls(
      { trainImages: '/a.gz', trainLabels: '/b', testImages: '/c.gz', testLabels: '/d.gz' },
      { fetch: fetcher },
    );
    expect(Array.from(train.images)).toEqual(Array.from(files.trainImages.subarray(16)));
    expect(test.count).toBe(4);
    const err = await fromUrls(
      { trainImages: '/a.gz', trainLabels: '/zz', testImages: '/c.gz', testLabels: '/d.gz' },
      { fetch: fetcher },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err).toMatchObject({ file: '/zz', field: 'http' });
  });

  it('fromFiles with File, Blob, ArrayBuffer and Uint8Array; bad files are named', async () => {
    const { train } = await fromFiles({
      trainImages: new File([new Uint8Array(gz.trainImages)], 'train-images-idx3-ubyte.gz'),
      trainLabels: new Blob([new Uint8Array(files.trainLabels)]),
      testImages: files.testImages.slice().buffer,
      testLabels: files.testLabels,
    });
    expect(train.count).toBe(8);
    const bad = new File([new Uint8Array(gz.trainImages.subarray(0, 20))], 'cut.gz');
    await expect(fromFiles({ ...files, trainImages: bad })).rejects.toMatchObject({
      name: 'DataError',
      file: 'cut.gz',
      field: 'gzip',
    });
  });
});
