import { CheckpointError, describeValue as describe, quoteName } from './checkpoint-error.js';
import { Tensor, shapeToString, type TensorData } from './tensor.js';

/**
 * Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), bytes in and bytes out, so the
 * same code serves Node (files) and the browser (downloads, IndexedDB).
 *
 * Layout:
 * ```
 * [0, 8)        N, the header length, unsigned 64-bit little-endian
 * [8, 8+N)      UTF-8 JSON object, padded at the end with spaces (0x20) so that N is a multiple of 8:
 *                 { "__metadata__": { "<key>": "<string>", ... },            (optional)
 *                   "<name>": { "dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end] }, ... }
 * [8+N, EOF)    the data buffer: every tensor's elements, row-major, little-endian, at [begin, end) of the buffer
 * ```
 * A valid file satisfies `end - begin = product(shape) * itemsize(dtype)` for every tensor (a scalar has shape `[]`
 * and one element; a zero dimension gives an empty span), and the spans sorted by offset tile the data buffer
 * exactly: the first starts at 0, each starts where the previous ended, the last ends at the end of the file.
 *
 * Writing: float32 tensors are stored as `F32`, int32 tensors as `I32`, in name order (code-unit order), so the
 * same tensors always give the same bytes; `__metadata__` is written first and only when non-empty.
 *
 * Reading converts every dtype to one of spikets' two dtypes:
 * - exact: F32, F16, BF16 -> float32 (NaN payloads of F16 are not kept); I32, I16, U16, I8, U8 -> int32;
 *   BOOL -> int32 (0, or 1 for any non-zero byte);
 * - exact or error: I64, U64, U32 -> int32 when every element fits in [-2^31, 2^31), otherwise a CheckpointError
 *   naming the tensor and the first element that does not fit;
 * - lossy, by design: F64 -> float32 rounded to nearest-even (finite values above float32's range become +-Infinity);
 * - unsupported (a CheckpointError that says so): the 8-, 6- and 4-bit floats and C64. Any other dtype string is
 *   reported as unknown.
 * The reader rejects what the reference implementation (safetensors 0.8) rejects: a header over 100 MB, offsets
 * that overlap, leave gaps or miss the end; and also, per the spec, a header whose first byte is not `{` (the
 * reference tolerates leading whitespace), duplicate keys (JSON.parse would keep the last) and headers nested deeper
 * than MAX_HEADER_DEPTH. Like the reference it ignores unknown fields in an entry. Every failure is a
 * CheckpointError whose one-line message names the source, the tensor and the field.
 */

/** Header size limit of the reference implementation (MAX_HEADER_SIZE): a larger length means a corrupt file. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Deepest JSON nesting accepted in a header (a valid one nests 3 deep: object, entry, shape array). */
export const MAX_HEADER_DEPTH = 64;

const ITEM_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  U64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const;

/** The dtypes `decodeSafetensors` reads (see the conversions above). */
export type SafetensorsDType = keyof typeof ITEM_BYTES;

/** Dtypes of the format that spikets recognises but does not read. */
const UNSUPPORTED_DTYPES: readonly string[] = ['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64'];

export interface SafetensorsContents {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';

/** Serialises tensors (float32 as F32, int32 as I32) and string metadata to a safetensors byte image. */
export function encodeSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const source = 'encodeSafetensors';
  const names = Object.keys(tensors).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // The header is assembled by hand: assigning a key such as "__proto__" to a plain object would not create it.
  const entries: string[] = [];
  const metaKeys = Object.keys(metadata);
  if (metaKeys.length > 0) {
    const fields = metaKeys.map((key) => {
      const value: unknown = metadata[key];
      if (typeof value !== 'string') {
        throw new CheckpointError(source, `expected a string value, got ${typeof value}`, {
          field: `${METADATA_KEY}.${key}`,
        });
      }
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    entries.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(',')}}`);
  }
  let dataBytes = 0;
  const datas: TensorData[] = [];
  for (const name of names) {
    const t: unknown = tensors[name];
    if (name === METADATA_KEY) throw new CheckpointError(source, 'reserved for the metadata', { tensor: name });
    if (!(t instanceof Tensor)) {
      throw new CheckpointError(source, `expected a Tensor, got ${describe(t)}`, { tensor: name });
    }
    const dtype = t.dtype === 'float32' ? 'F32' : 'I32';
    const end = dataBytes + t.data.byteLength;
    entries.push(
      `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${dataBytes},${end}]}`,
    );
    datas.push(t.data);
    dataBytes = end;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerBytes = Math.ceil(json.length / 8) * 8;
  if (headerBytes > MAX_HEADER_BYTES) {
    const detail = `header would be ${headerBytes} bytes, over the ${MAX_HEADER_BYTES}-byte limit readers enforce`;
    throw new CheckpointError(source, detail, { field: 'header length' });
  }
  const out = new Uint8Array(8 + headerBytes + dataBytes);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes);
  // DataView writes little-endian whatever the host's byte order.
  let pos = 8 + headerBytes;
  for (const data of datas) {
    const float = data instanceof Float32Array;
    for (let i = 0; i < data.length; i++, pos += 4) {
      if (float) view.setFloat32(pos, data[i]!, true);
      else view.setInt32(pos, data[i]!, true);
    }
  }
  return out;
}

interface Entry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses and validates a safetensors byte image; `source` (a path, say) is named in every error. */
export function decodeSafetensors(bytes: Uint8Array, source = '<bytes>'): SafetensorsContents {
  const fail = (detail: string, where: { tensor?: string; field?: string } = {}): CheckpointError =>
    new CheckpointError(source, detail, where);
  const [lengthField, headerField] = [{ field: 'header length' }, { field: 'header' }];
  if (!(bytes instanceof Uint8Array)) throw fail(`expected a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length < 8) {
    throw fail(`file is ${bytes.length} bytes, expected at least 8 (the u64 little-endian header length)`, lengthField);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    const detail = `${headerLength} bytes is over the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`;
    throw fail(detail, lengthField);
  }
  const n = Number(headerLength);
  if (n > bytes.length - 8) {
    throw fail(`${n} bytes runs past the end of the ${bytes.length}-byte file (truncated?)`, lengthField);
  }
  if (n === 0 || bytes[8] !== 0x7b) {
    const got = n === 0 ? 'an empty header' : `byte 0x${bytes[8]!.toString(16).padStart(2, '0')}`;
    throw fail(`expected a JSON object starting with "{", got ${got}`, headerField);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw fail('expected UTF-8 text, found an invalid byte sequence', headerField);
  }
  const scan = scanHeader(text);
  if (scan.tooDeep) {
    throw fail(
      `nested deeper than ${MAX_HEADER_DEPTH} levels, expected {name: {dtype, shape, data_offsets}}`,
      headerField,
    );
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw fail(`expected valid JSON (${e instanceof Error ? e.message.slice(0, 200) : String(e)})`, headerField);
  }
  if (scan.duplicate !== null) {
    throw fail(`key ${quoteName(scan.duplicate)} appears more than once, expected unique keys`, headerField);
  }

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: [string, string][] = [];
  const entries: Entry[] = [];
  for (const name of Object.keys(parsed)) {
    const info = parsed[name];
    if (name === METADATA_KEY) {
      if (info === null) continue;
      if (!isObject(info)) throw fail(`expected an object of strings, got ${describe(info)}`, { field: METADATA_KEY });
      for (const key of Object.keys(info)) {
        const value = info[key];
        if (typeof value !== 'string') {
          throw fail(`expected a string, got ${describe(value)}`, { field: `${METADATA_KEY}.${quoteName(key)}` });
        }
        metadata.push([key, value]);
      }
      continue;
    }
    entries.push(parseEntry(name, info, dataLength, fail));
  }

  // The spans, in file order, must tile [0, dataLength) exactly (as the reference reader requires).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | null = null;
  for (const e of entries) {
    const at = { tensor: e.name, field: 'data_offsets' };
    if (e.begin < covered) {
      const other = `${quoteName(previous!.name)} at [${previous!.begin}, ${previous!.end}]`;
      throw fail(`[${e.begin}, ${e.end}] overlaps tensor ${other}`, at);
    }
    if (e.begin > covered) {
      throw fail(`starts at ${e.begin}, expected ${covered} (bytes [${covered}, ${e.begin}) belong to no tensor)`, at);
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    const detail = `tensors cover ${covered} bytes but the data buffer has ${dataLength} (trailing bytes belong to no tensor)`;
    throw fail(detail, { field: 'data_offsets' });
  }

  // Object.fromEntries defines own properties, so a name such as "__proto__" stays a name (from untrusted files).
  const tensors: [string, Tensor][] = [];
  for (const e of entries) {
    const span = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    const data = convert(e, span, (detail) => fail(detail, { tensor: e.name, field: 'data' }));
    tensors.push([e.name, new Tensor(data, e.shape)]);
  }
  return { tensors: Object.fromEntries(tensors), metadata: Object.fromEntries(metadata) };
}

function parseEntry(
  name: string,
  info: unknown,
  dataLength: number,
  fail: (detail: string, where: { tensor?: string; field?: string }) => CheckpointError,
): Entry {
  const at = (field: string) => ({ tensor: name, field });
  if (!isObject(info)) {
    throw fail(`expected an object {dtype, shape, data_offsets}, got ${describe(info)}`, at('entry'));
  }
  const dtype = info.dtype;
  if (typeof dtype !== 'string') throw fail(`expected a string, got ${describe(dtype)}`, at('dtype'));
  if (!Object.hasOwn(ITEM_BYTES, dtype)) {
    const known = Object.keys(ITEM_BYTES).join(', ');
    if (UNSUPPORTED_DTYPES.includes(dtype)) {
      throw fail(`${dtype} is not supported, expected one of ${known}`, at('dtype'));
    }
    throw fail(`unknown dtype ${quoteName(dtype, 20)}, expected one of ${known}`, at('dtype'));
  }
  const itemBytes = ITEM_BYTES[dtype as SafetensorsDType];
  const shape = info.shape;
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw fail(`expected an array of non-negative integers, got ${describe(shape)}`, at('shape'));
  }
  let count = 1;
  for (const d of shape) {
    count *= d;
    // Checked like the reference's checked_mul, so that later products (Tensor's sizeOf) stay exact.
    if (count > Number.MAX_SAFE_INTEGER) throw fail(`${describe(shape)} has too many elements`, at('shape'));
  }
  const offsets = info.data_offsets;
  const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? (offsets as unknown[]) : [];
  if (!isCount(begin) || !isCount(end) || begin > end) {
    throw fail(`expected [begin, end] with 0 <= begin <= end, got ${describe(offsets)}`, at('data_offsets'));
  }
  if (end > dataLength) {
    throw fail(`[${begin}, ${end}] runs past the end of the ${dataLength}-byte data buffer`, at('data_offsets'));
  }
  if (end - begin !== count * itemBytes) {
    const expected = `${count * itemBytes} for ${dtype} of shape ${shapeToString(shape)}`;
    throw fail(`[${begin}, ${end}] spans ${end - begin} bytes, expected ${expected}`, at('data_offsets'));
  }
  return { name, dtype: dtype as SafetensorsDType, shape, begin, end };
}

/** Element conversion, little-endian by DataView; the doc comment at the top lists what is exact. */
function convert(e: Entry, span: Uint8Array, fail: (detail: string) => CheckpointError): TensorData {
  const v = new DataView(span.buffer, span.byteOffset, span.byteLength);
  const count = span.length / ITEM_BYTES[e.dtype];
  const floats = (read: (i: number) => number): Float32Array => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = read(i);
    return out;
  };
  const ints = (read: (i: number) => number): Int32Array => {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = read(i);
    return out;
  };
  const tooWide = (i: number, value: bigint) =>
    fail(`element ${i} of the ${e.dtype} data is ${value}, outside the int32 range spikets stores integers in`);
  switch (e.dtype) {
    case 'F32':
      return floats((i) => v.getFloat32(4 * i, true));
    case 'F64':
      return floats((i) => v.getFloat64(8 * i, true));
    case 'F16':
      return floats((i) => halfToFloat(v.getUint16(2 * i, true)));
    case 'BF16': {
      // bfloat16 is the top half of a float32: shifting the bits back is exact, NaN payloads included.
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'I32':
      return ints((i) => v.getInt32(4 * i, true));
    case 'I16':
      return ints((i) => v.getInt16(2 * i, true));
    case 'U16':
      return ints((i) => v.getUint16(2 * i, true));
    case 'I8':
      return ints((i) => v.getInt8(i));
    case 'U8':
      return ints((i) => span[i]!);
    case 'BOOL':
      return ints((i) => (span[i] !== 0 ? 1 : 0));
    case 'U32':
      return ints((i) => {
        const x = v.getUint32(4 * i, true);
        if (x > 0x7fffffff) throw tooWide(i, BigInt(x));
        return x;
      });
    case 'I64':
    case 'U64':
      return ints((i) => {
        const lo = v.getInt32(8 * i, true);
        const hi = v.getInt32(8 * i + 4, true);
        // Fits in int32 when the high word is the sign extension of the low word (and, unsigned, is zero).
        if (hi !== lo >> 31 || (e.dtype === 'U64' && hi !== 0)) {
          throw tooWide(i, e.dtype === 'I64' ? v.getBigInt64(8 * i, true) : v.getBigUint64(8 * i, true));
        }
        return lo;
      });
  }
}

/** IEEE 754 binary16 -> number (exact: every half value is a float32 value). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/**
 * One linear pass over the header text, before JSON.parse: the nesting depth (a valid header is 3 deep; a garbage
 * one 10 million deep would make JSON.parse and error reporting take seconds) and the first key repeated within
 * one object (JSON.parse keeps the last value of a repeated key; two tensors of one name mean a corrupt file).
 * The text may be invalid JSON here: `duplicate` is only trusted once JSON.parse has accepted the text.
 */
function scanHeader(text: string): { tooDeep: boolean; duplicate: string | null } {
  const stack: (Set<string> | null)[] = []; // a key set per open object, null per open array
  let expectKey = false;
  let duplicate: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys instanceof Set && duplicate === null) {
        const raw = text.slice(i, j + 1);
        let key = raw;
        try {
          key = JSON.parse(raw) as string;
        } catch {
          // an invalid string: JSON.parse of the whole header reports it
        }
        if (keys.has(key)) duplicate = key;
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (stack.length >= MAX_HEADER_DEPTH) return { tooDeep: true, duplicate };
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return { tooDeep: false, duplicate };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
