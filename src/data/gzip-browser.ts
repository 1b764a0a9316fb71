import { DEFAULT_MAX_GUNZIP_BYTES, type Gunzip } from './gzip.js';

/**
 * Browser edge (also works in Node >= 18): gzip decompression with the standard `DecompressionStream('gzip')`.
 * The stream is read chunk by chunk and cancelled once the output passes `maxBytes` (default 1 GiB), so a
 * decompression bomb fails instead of exhausting memory.
 */
export function createGunzipBrowser(options: { maxBytes?: number } = {}): Gunzip {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_GUNZIP_BYTES;
  return async (bytes) => {
    // Copy into a fresh ArrayBuffer-backed array: Blob needs ArrayBuffer (not SharedArrayBuffer) backing.
    const input = new Uint8Array(bytes.byteLength);
    input.set(bytes);
    const stream = new Blob([input]).stream().pipeThrough(new DecompressionStream('gzip'));
    const reader = stream.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw new RangeError(`decompressed size exceeds ${maxBytes} B`);
      }
      chunks.push(value);
    }
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  };
}

/** Decompresses gzip bytes with DecompressionStream (1 GiB output cap). */
export const gunzipBrowser: Gunzip = createGunzipBrowser();
