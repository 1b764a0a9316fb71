import { IDX_ROLES, fromIdxAsync, type DatasetOptions, type IdxFileSet, type SplitDatasets } from './dataset.js';
import { DataError } from './errors.js';
import type { Gunzip } from './gzip.js';
import { gunzipBrowser } from './gzip-browser.js';

/**
 * Browser edge: MNIST-style data sets from URLs (fetch) or from user-picked files. Gzip files are detected by their
 * magic and decompressed with DecompressionStream, so `.gz` and raw files, and servers that already strip the
 * Content-Encoding, all work.
 */

export interface BrowserLoadOptions extends DatasetOptions {
  /** Defaults to the global `fetch` (injectable for tests and custom caching). */
  fetch?: (url: string) => Promise<Response>;
  /** Defaults to `gunzipBrowser` (DecompressionStream). */
  gunzip?: Gunzip;
}

async function fetchBytes(url: string, fetcher: (url: string) => Promise<Response>): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetcher(url);
  } catch (error) {
    throw new DataError(
      url,
      'fetch',
      'a reachable URL',
      `a network error (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!response.ok)
    throw new DataError(url, 'http', 'status 200', `status ${response.status} ${response.statusText}`.trim());
  return new Uint8Array(await response.arrayBuffer());
}

/** Fetches the four files and builds `{ train, test }`. */
export async function fromUrls(
  urls: IdxFileSet<string | URL>,
  options: BrowserLoadOptions = {},
): Promise<SplitDatasets> {
  const fetcher = options.fetch ?? ((url: string) => fetch(url));
  const names = {} as IdxFileSet<string>;
  for (const role of IDX_ROLES) names[role] = String(urls[role]);
  const fetched = await Promise.all(IDX_ROLES.map((role) => fetchBytes(names[role], fetcher)));
  const bytes = {} as IdxFileSet<Uint8Array>;
  IDX_ROLES.forEach((role, i) => (bytes[role] = fetched[i]!));
  return fromIdxAsync(bytes, { ...options, gunzip: options.gunzip ?? gunzipBrowser, fileNames: names });
}

export type FileSource = Blob | ArrayBuffer | Uint8Array;

/** Builds `{ train, test }` from File/Blob objects (e.g. an `<input type=file>`) or buffers already in memory. */
export async function fromFiles(
  files: IdxFileSet<FileSource>,
  options: BrowserLoadOptions = {},
): Promise<SplitDatasets> {
  const names = {} as IdxFileSet<string>;
  const bytes = {} as IdxFileSet<Uint8Array>;
  for (const role of IDX_ROLES) {
    const source = files[role];
    const named = source as { name?: unknown };
    names[role] = typeof named.name === 'string' && named.name !== '' ? named.name : role;
    if (source instanceof Uint8Array) bytes[role] = source;
    else if (source instanceof ArrayBuffer) bytes[role] = new Uint8Array(source);
    else if (typeof Blob !== 'undefined' && source instanceof Blob)
      bytes[role] = new Uint8Array(await source.arrayBuffer());
    else throw new DataError(role, 'source', 'a File, Blob, ArrayBuffer or Uint8Array', typeof source);
  }
  return fromIdxAsync(bytes, { ...options, gunzip: options.gunzip ?? gunzipBrowser, fileNames: names });
}
