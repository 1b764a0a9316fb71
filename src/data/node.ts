/** Node edge of the data layer: loading from the file system and gzip via node:zlib. Not imported by the core. */
export {
  mnist,
  fashionMnist,
  fromDir,
  findIdxFiles,
  fileNameVariants,
  mnistDataDir,
  fashionMnistDir,
  IDX_FILE_NAMES,
} from './mnist-node.js';
export { gunzipNode, createGunzipNode } from './gzip-node.js';
