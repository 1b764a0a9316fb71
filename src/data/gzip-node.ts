import { gunzipSync } from 'node:zlib';
import { DEFAULT_MAX_GUNZIP_BYTES, type GunzipSync } from './gzip.js';

/**
 * Node edge: gzip decompression with node:zlib. The output is capped (`maxBytes`, default 1 GiB) by zlib itself, so
 * a decompression bomb fails with an error (turned into a DataError by the core) instead of exhausting memory.
 */
export function createGunzipNode(options: { maxBytes?: number } = {}): GunzipSync {
  const maxOutputLength = options.maxBytes ?? DEFAULT_MAX_GUNZIP_BYTES;
  return (bytes) => {
    const out = gunzipSync(bytes, { maxOutputLength });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  };
}

/** Decompresses gzip bytes with node:zlib (1 GiB output cap). */
export const gunzipNode: GunzipSync = createGunzipNode();
