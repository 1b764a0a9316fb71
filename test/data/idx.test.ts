import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DataError,
  parseIdx,
  parseIdxHeader,
  ungzip,
  ungzipSync,
  writeIdx,
  type IdxType,
} from '../../src/data/index.js';
import { createGunzipBrowser, gunzipBrowser } from '../../src/data/gzip-browser.js';
import { createGunzipNode, gunzipNode } from '../../src/data/gzip-node.js';
import { dataError } from './helpers.js';

const SAMPLES: Record<IdxType, number[]> = {
  u8: [0, 1, 127, 128, 255, 42],
  i8: [-128, -1, 0, 1, 127, -42],
  i16: [-32768, -1, 0, 258, 32767, -300],
  i32: [-2147483648, -1, 0, 16909060, 2147483647, 123456],
  f32: [0, -1.5, 3.25, 1e-30, -65504, 0.1],
  f64: [0, -1.5, Math.PI, 1e-300, -1e300, 0.1],
};

describe('IDX parse/write', () => {
  for (const [type, values] of Object.entries(SAMPLES) as [IdxType, number[]][]) {
    it(`round-trips ${type} values, raw and gzip (node and DecompressionStream)`, async () => {
      const bytes = writeIdx({ type, dims: [2, 3], data: values });
      const parsed = parseIdx(bytes);
      expect(parsed.type).toBe(type);
      expect(parsed.dims).toEqual([2, 3]);
      const expected = type === 'f32' ? values.map(Math.fround) : values;
      expect(Array.from(parsed.data)).toEqual(expected);
      const gz = gzipSync(bytes);
      expect(Array.from(parseIdx(ungzipSync(gz, 'x.gz', gunzipNode)).data)).toEqual(expected);
      expect(Array.from(parseIdx(await ungzip(gz, 'x.gz', gunzipBrowser)).data)).toEqual(expected);
    });
  }

  it('gives the typed array of the element type', () => {
    const kinds = {
      u8: Uint8Array,
      i8: Int8Array,
      i16: Int16Array,
      i32: Int32Array,
      f32: Float32Array,
      f64: Float64Array,
    };
    for (const type of Object.keys(kinds) as IdxType[]) {
      expect(parseIdx(writeIdx({ type, dims: [1], data: [1] })).data).toBeInstanceOf(kinds[type]);
    }
  });

  it('reads big-endian headers and values as the spec lays them out', () => {
    // Hand-built: i16, rank 2, dims [1, 2], values 0x0102 and 0xFFFE (-2).
    const bytes = Uint8Array.from([0, 0, 0x0b, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
    const parsed = parseIdx(bytes);
    expect(parsed).toEqual({ type: 'i16', dims: [1, 2], data: Int16Array.from([258, -2]) });
    expect(writeIdx(parsed)).toEqual(bytes);
  });

  it('parses from an offset view (Node Buffer slices) and returns a plain Uint8Array view', () => {
    const inner = writeIdx({ type: 'u8', dims: [3], data: [7, 8, 9] });
    const big = new Uint8Array(inner.length + 5);
    big.set(inner, 5);
    const parsed = parseIdx(Buffer.from(big.buffer, 5, inner.length));
    expect(parsed.data.constructor).toBe(Uint8Array);
    expect(Array.from(parsed.data)).toEqual([7, 8, 9]);
  });

  it('accepts scalars and zero-sized dims, even when the other dims multiply past 2^53', () => {
    expect(parseIdx(writeIdx({ type: 'f64', dims: [], data: [2.5] })).data[0]).toBe(2.5);
    const header = new Uint8Array(4 + 4 * 255).fill(0xff);
    header.set([0, 0, 0x08, 255]);
    header.set([0, 0, 0, 0], 4 + 4 * 254); // last dim 0: product 0, not Infinity * 0 = NaN
    const parsed = parseIdx(header);
    expect(parsed.dims.length).toBe(255);
    expect(parsed.data.length).toBe(0);
    const withData = new Uint8Array(header.length + 3);
    withData.set(header);
    expect(dataError(() => parseIdx(withData)).field).toBe('dims');
  });
});

describe('IDX bad inputs give a DataError naming the field', () => {
  const valid = writeIdx({ type: 'u8', dims: [2, 2], data: [1, 2, 3, 4] });

  it('empty file', () => {
    const e = dataError(() => parseIdx(new Uint8Array(0), { file: 'empty.idx' }));
    expect(e.file).toBe('empty.idx');
    expect(e.field).toBe('length');
    expect(e.message).toMatch(/^empty\.idx: length: expected .*, got an empty file/);
    expect(e.message).not.toContain('\n');
  });

  it('wrong magic number (and hints at gzip)', () => {
    const bad = valid.slice();
    bad[0] = 0x12;
    expect(dataError(() => parseIdx(bad)).field).toBe('magic');
    expect(dataError(() => parseIdx(valid.subarray(0, 3))).field).toBe('magic');
    expect(dataError(() => parseIdx(gzipSync(valid))).message).toContain('gzip');
  });

  it('unsupported type code', () => {
    const bad = valid.slice();
    bad[2] = 0x0a;
    const e = dataError(() => parseIdx(bad, { file: 'f' }));
    expect(e.field).toBe('type');
    expect(e.actual).toBe('0x0a');
  });

  it('truncated header', () => {
    expect(dataError(() => parseIdx(valid.subarray(0, 9))).field).toBe('header');
  });

  it('truncated data', () => {
    const e = dataError(() => parseIdx(valid.subarray(0, valid.length - 1)));
    expect(e.field).toBe('data');
    expect(e.actual).toContain('truncated');
  });

  it('dimension product not matching the byte length (extra bytes)', () => {
    const longer = new Uint8Array(valid.length + 3);
    longer.set(valid);
    expect(dataError(() => parseIdx(longer)).field).toBe('dims');
  });

  it('huge dims are rejected before allocating, in microseconds', () => {
    const huge = Uint8Array.from([
      0, 0, 0x0e, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 1, 2,
    ]);
    const t0 = performance.now();
    const e = dataError(() => parseIdx(huge));
    expect(e.field).toBe('dims');
    expect(e.actual).toContain('> 2^53');
    // Large but representable: 2^31 u8 elements claimed with 2 bytes present.
    const large = Uint8Array.from([0, 0, 0x08, 1, 0x80, 0, 0, 0, 1, 2]);
    expect(dataError(() => parseIdx(large)).field).toBe('data');
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('header-only parse validates the same way', () => {
    expect(parseIdxHeader(valid)).toEqual({ type: 'u8', dims: [2, 2], offset: 12 });
    expect(dataError(() => parseIdxHeader(valid.subarray(0, 13))).field).toBe('data');
  });

  it('gzip: missing decompressor, corrupt stream, bomb cap, async decompressor in the sync path', async () => {
    const gz = gzipSync(valid);
    expect(dataError(() => ungzipSync(gz, 'a.gz')).field).toBe('gzip');
    const corrupt = gz.slice(0, gz.length - 6);
    const e = dataError(() => ungzipSync(corrupt, 'a.gz', gunzipNode));
    expect(e.field).toBe('gzip');
    expect(e.file).toBe('a.gz');
    await expect(ungzip(corrupt, 'a.gz', gunzipBrowser)).rejects.toBeInstanceOf(DataError);
    const bomb = gzipSync(new Uint8Array(1 << 20));
    expect(dataError(() => ungzipSync(bomb, 'bomb.gz', createGunzipNode({ maxBytes: 1000 }))).field).toBe('gzip');
    await expect(ungzip(bomb, 'bomb.gz', createGunzipBrowser({ maxBytes: 1000 }))).rejects.toMatchObject({
      field: 'gzip',
    });
    expect(dataError(() => ungzipSync(gz, 'a.gz', gunzipBrowser)).actual).toBe('a Promise');
    expect(ungzipSync(valid, 'raw', undefined)).toBe(valid); // raw bytes pass through untouched
  });

  it('writeIdx rejects inconsistent arrays', () => {
    expect(() => writeIdx({ type: 'u8', dims: [2, 2], data: [1, 2, 3] })).toThrow(RangeError);
    expect(() => writeIdx({ type: 'u8', dims: [1.5], data: [1] })).toThrow(RangeError);
  });
});
