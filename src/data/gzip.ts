import { DataError } from './errors.js';

/**
 * Gzip handling for the core, without any platform import: the core only detects the gzip magic (1f 8b) and calls
 * a decompressor that the edge injects (`gunzipNode` from gzip-node.ts, `gunzipBrowser` from gzip-browser.ts).
 */

/** A decompressor: gzip bytes in, raw bytes out. Sync in Node (zlib), async in browsers (DecompressionStream). */
export type Gunzip = (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** A synchronous decompressor, for the sync loaders. */
export type GunzipSync = (bytes: Uint8Array) => Uint8Array;

/**
 * Upper bound on decompressed bytes (1 GiB). MNIST's largest file is 47 MB and EMNIST's about 550 MB; a larger
 * output is treated as a corrupt file or a decompression bomb rather than allocated.
 */
export const DEFAULT_MAX_GUNZIP_BYTES = 2 ** 30;

/** True when `bytes` start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function decodeError(file: string, error: unknown): DataError {
  if (error instanceof DataError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new DataError(file, 'gzip', 'a valid gzip stream', `a decompression error (${reason})`);
}

/** Returns raw bytes: decompresses with `gunzip` when `bytes` are gzip, passes them through otherwise. */
export function ungzipSync(bytes: Uint8Array, file: string, gunzip?: Gunzip): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  if (gunzip === undefined) {
    throw new DataError(
      file,
      'gzip',
      'raw IDX bytes, or a gunzip function for gzip data',
      'gzip data (1f 8b) and no gunzip',
    );
  }
  let out: Uint8Array | Promise<Uint8Array>;
  try {
    out = gunzip(bytes);
  } catch (error) {
    throw decodeError(file, error);
  }
  if (!(out instanceof Uint8Array)) {
    // Do not leave a rejected promise unobserved.
    Promise.resolve(out).catch(() => undefined);
    throw new DataError(
      file,
      'gzip',
      'a synchronous gunzip here (use the async loader for DecompressionStream)',
      'a Promise',
    );
  }
  return out;
}

/** Async variant of `ungzipSync`; accepts sync and async decompressors. */
export async function ungzip(bytes: Uint8Array, file: string, gunzip?: Gunzip): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  if (gunzip === undefined) {
    throw new DataError(
      file,
      'gzip',
      'raw IDX bytes, or a gunzip function for gzip data',
      'gzip data (1f 8b) and no gunzip',
    );
  }
  try {
    return await gunzip(bytes);
  } catch (error) {
    throw decodeError(file, error);
  }
}
