import { DataError } from './errors.js';

/**
 * IDX, the file format of MNIST (LeCun et al.):
 *
 *   offset 0: 0x00 0x00            magic, always zero
 *   offset 2: type code            0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
 *   offset 3: rank r               number of dimensions
 *   offset 4: r x u32 big-endian   dimension sizes d0..d(r-1)
 *   offset 4+4r: d0*...*d(r-1) elements, big-endian, row-major
 *
 * The parser works on bytes only (no file system, no decompression; see gzip.ts). The element count must match the
 * remaining bytes exactly, and this is checked before anything is allocated, so a forged header with huge dimensions
 * costs nothing.
 */

export type IdxType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  dims: number[];
  /** Row-major elements. For u8/i8 a view into the input bytes (no copy); wider types are byte-swapped copies. */
  data: IdxData;
}

interface TypeInfo {
  readonly type: IdxType;
  readonly code: number;
  readonly size: number;
}

const TYPES: readonly TypeInfo[] = [
  { type: 'u8', code: 0x08, size: 1 },
  { type: 'i8', code: 0x09, size: 1 },
  { type: 'i16', code: 0x0b, size: 2 },
  { type: 'i32', code: 0x0c, size: 4 },
  { type: 'f32', code: 0x0d, size: 4 },
  { type: 'f64', code: 0x0e, size: 8 },
];

const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;
const CODES_TEXT = TYPES.map((t) => `${hex(t.code, 2)} ${t.type}`).join(', ');

/** Beyond this an array cannot be allocated in JS engines anyway; rejecting early gives a clear message. */
const MAX_IDX_ELEMENTS = 2 ** 32;

function infoByCode(code: number): TypeInfo | undefined {
  return TYPES.find((t) => t.code === code);
}

function infoByType(type: IdxType): TypeInfo {
  const info = TYPES.find((t) => t.type === type);
  if (info === undefined) throw new TypeError(`writeIdx: unknown IDX type '${String(type)}'`);
  return info;
}

export interface ParseIdxOptions {
  /** Name used in error messages (path, URL or role such as `trainImages`). */
  file?: string;
}

/** True when the bytes start like an IDX file (two zero bytes and a known type code). */
export function looksLikeIdx(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && infoByCode(bytes[2]!) !== undefined;
}

/** Reads the header only: type, dims, and the byte offset of the data. Validates sizes against `bytes.length`. */
export function parseIdxHeader(
  bytes: Uint8Array,
  options: ParseIdxOptions = {},
): { type: IdxType; dims: number[]; offset: number } {
  const file = options.file ?? 'IDX data';
  if (bytes.length === 0)
    throw new DataError(file, 'length', 'an IDX file (4-byte magic, dims, data)', 'an empty file (0 B)');
  if (bytes.length < 4) throw new DataError(file, 'magic', 'a 4-byte IDX magic number', `only ${bytes.length} B`);
  const magic = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (gzip data: decompress first or pass a gunzip)' : '';
    throw new DataError(file, 'magic', 'an IDX magic 0x0000TTRR (two zero bytes, type, rank)', `${hex(magic, 8)}${gz}`);
  }
  const info = infoByCode(bytes[2]!);
  if (info === undefined) throw new DataError(file, 'type', `an IDX type code (${CODES_TEXT})`, hex(bytes[2]!, 2));
  const rank = bytes[3]!;
  const offset = 4 + 4 * rank;
  if (bytes.length < offset) {
    throw new DataError(
      file,
      'header',
      `${offset} B of header for rank ${rank}`,
      `${bytes.length} B (truncated header)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  // The element count is checked against the available bytes before any allocation. A double product is exact up
  // to 2^53 and saturates to Infinity (never wraps) beyond, so a forged header cannot slip through; a zero dim is
  // handled first because Infinity * 0 is NaN.
  const count = dims.includes(0) ? 0 : dims.reduce((a, d) => a * d, 1);
  const available = bytes.length - offset;
  const dimsText = `[${dims.join(', ')}]`;
  if (count > MAX_IDX_ELEMENTS) {
    const product = count <= Number.MAX_SAFE_INTEGER ? String(count) : '> 2^53';
    throw new DataError(
      file,
      'dims',
      `dims with at most 2^32 elements`,
      `${dimsText} (product ${product}) with ${available} B of data`,
    );
  }
  const needed = count * info.size;
  if (needed > available) {
    throw new DataError(
      file,
      'data',
      `${needed} B of ${info.type} data for dims ${dimsText} (${count} x ${info.size} B)`,
      `${available} B after the ${offset}-byte header (truncated)`,
    );
  }
  if (needed < available) {
    throw new DataError(
      file,
      'dims',
      `dims whose product matches the data: ${dimsText} x ${info.size} B = ${needed} B`,
      `${available} B after the ${offset}-byte header (${available - needed} extra bytes)`,
    );
  }
  return { type: info.type, dims, offset };
}

/** Parses IDX bytes (already decompressed). Throws `DataError` for every malformed input. */
export function parseIdx(bytes: Uint8Array, options: ParseIdxOptions = {}): IdxArray {
  const { type, dims, offset } = parseIdxHeader(bytes, options);
  const info = infoByType(type);
  const count = (bytes.length - offset) / info.size;
  const start = bytes.byteOffset + offset;
  // Plain Uint8Array even when given a Node Buffer, so results compare and serialise the same everywhere.
  if (type === 'u8') return { type, dims, data: new Uint8Array(bytes.buffer, start, count) };
  if (type === 'i8') return { type, dims, data: new Int8Array(bytes.buffer, start, count) };
  const view = new DataView(bytes.buffer, start, count * info.size);
  switch (type) {
    case 'i16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, false);
      return { type, dims, data: out };
    }
    case 'i32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, false);
      return { type, dims, data: out };
    }
    case 'f32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, false);
      return { type, dims, data: out };
    }
    case 'f64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, false);
      return { type, dims, data: out };
    }
  }
}

/**
 * Serialises an array to IDX bytes (big-endian). `data` may be any array-like of numbers; values are converted with
 * the element type's typed-array semantics (wrap for integers, rounding to f32).
 */
export function writeIdx(array: { type: IdxType; dims: readonly number[]; data: ArrayLike<number> }): Uint8Array {
  const info = infoByType(array.type);
  const { dims, data } = array;
  if (dims.length > 255) throw new RangeError(`writeIdx: rank ${dims.length} exceeds 255`);
  let count = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new RangeError(`writeIdx: invalid dimension ${d}`);
    count *= d;
  }
  if (count !== data.length) {
    throw new RangeError(`writeIdx: dims [${dims.join(', ')}] need ${count} elements, data has ${data.length}`);
  }
  const offset = 4 + 4 * dims.length;
  const out = new Uint8Array(offset + count * info.size);
  const view = new DataView(out.buffer);
  out[2] = info.code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const v = data[i]!;
    const at = offset + i * info.size;
    switch (info.type) {
      case 'u8':
        view.setUint8(at, v);
        break;
      case 'i8':
        view.setInt8(at, v);
        break;
      case 'i16':
        view.setInt16(at, v, false);
        break;
      case 'i32':
        view.setInt32(at, v, false);
        break;
      case 'f32':
        view.setFloat32(at, v, false);
        break;
      case 'f64':
        view.setFloat64(at, v, false);
        break;
    }
  }
  return out;
}
