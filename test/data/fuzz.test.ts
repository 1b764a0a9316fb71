import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipBrowser } from '../../src/data/gzip-browser.js';
import {
  DataError,
  IDX_ROLES,
  fromIdx,
  fromIdxAsync,
  parseIdx,
  ungzipSync,
  writeIdx,
  type IdxFileSet,
  type IdxType,
} from '../../src/data/index.js';
import { gunzipNode } from '../../src/data/node.js';
import { Rng } from '../../src/tensor/random.js';
import { tinyFiles } from './helpers.js';

/**
 * Seeded fuzzing: valid IDX files (raw and gzip) are mutated by truncation, bit flips, random headers, forged dims
 * and appended bytes. Each case must end in a valid result or a DataError, never another exception or a hang, and
 * within a time bound (no absurd allocation or long loop driven by a forged header).
 */

const CASE_LIMIT_MS = 250;
const TYPES: IdxType[] = ['u8', 'i8', 'i16', 'i32', 'f32', 'f64'];
const CODES = [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e];

function seeds(rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = Object.values(tinyFiles(6, 3, 4, 4));
  for (const type of TYPES) {
    const data = Array.from({ length: 12 }, () => Math.floor(rng.uniformRange(-100, 100)));
    out.push(writeIdx({ type, dims: [3, 4], data }));
  }
  return out;
}

function mutate(base: Uint8Array, rng: Rng): Uint8Array {
  const kind = rng.int(8);
  const b = base.slice();
  switch (kind) {
    case 0: // truncation
      return b.subarray(0, rng.int(b.length));
    case 1: {
      // bit flips
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return b;
    }
    case 2: {
      // random header, biased to a valid magic and type so that the deeper checks run
      const rank = rng.int(6);
      const header = new Uint8Array(4 + 4 * rank);
      for (let i = 0; i < header.length; i++) header[i] = rng.int(256);
      if (rng.uniform() < 0.7) header.set([0, 0, CODES[rng.int(CODES.length)]!, rank]);
      const body = b.subarray(Math.min(b.length, 4 + 4 * rng.int(4)));
      const out = new Uint8Array(header.length + body.length);
      out.set(header);
      out.set(body, header.length);
      return out;
    }
    case 3: {
      // forge one dimension: huge, zero, or off by one
      if (b.length < 8) return b;
      const rank = b[3]!;
      const at = 4 + 4 * rng.int(Math.max(1, rank));
      if (at + 4 > b.length) return b;
      const view = new DataView(b.buffer);
      const choice = rng.int(3);
      const value =
        choice === 0 ? rng.nextUint32() : choice === 1 ? 0 : view.getUint32(at) + (rng.uniform() < 0.5 ? 1 : -1);
      view.setUint32(at, value >>> 0);
      return b;
    }
    case 4: {
      // appended bytes
      const extra = new Uint8Array(1 + rng.int(16)).map(() => rng.int(256));
      const out = new Uint8Array(b.length + extra.length);
      out.set(b);
      out.set(extra, b.length);
      return out;
    }
    case 7: {
      // flips confined to the element data: usually still a valid file, so the success path is fuzzed too
      const start = b.length >= 4 ? Math.min(b.length, 4 + 4 * b[3]!) : b.length;
      if (start < b.length) b[start + rng.int(b.length - start)]! ^= 1 << rng.int(8);
      return b;
    }
    case 5: // random bytes
      return new Uint8Array(rng.int(64)).map(() => rng.int(256));
    default: {
      // mutate the gzip stream instead of the raw bytes
      const gz = gzipSync(b);
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips; i++) gz[rng.int(gz.length)]! ^= 1 << rng.int(8);
      return rng.uniform() < 0.3 ? gz.subarray(0, rng.int(gz.length)) : gz;
    }
  }
}

function expectValidOrDataError(fn: () => void, context: string): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof DataError)) throw new Error(`${context}: ${String(error)}`, { cause: error });
    expect(error.message).not.toContain('\n');
  }
}

describe('fuzz: mutated IDX files give a valid result or a DataError', () => {
  it('2400 seeded mutations through parseIdx and fromIdx, each within the time bound', () => {
    const rng = new Rng(20240601);
    const bases = seeds(rng);
    const valid = tinyFiles(6, 3, 4, 4);
    let parsedOk = 0;
    let ok = 0;
    let rejected = 0;
    let slowest = 0;
    for (let c = 0; c < 2400; c++) {
      const base = bases[rng.int(bases.length)]!;
      const input = rng.uniform() < 0.5 ? mutate(base, rng) : mutate(mutate(base, rng), rng);
      const t0 = performance.now();
      expectValidOrDataError(() => {
        const parsed = parseIdx(ungzipSync(input, 'fuzz', gunzipNode));
        const count = parsed.dims.reduce((a, d) => a * d, 1);
        expect(parsed.data.length).toBe(count);
        parsedOk += 1;
      }, `case ${c} parseIdx`);
      const role = IDX_ROLES[rng.int(4)]!;
      const files: IdxFileSet<Uint8Array> = { ...valid, [role]: input };
      try {
        const { train, test } = fromIdx(files, { gunzip: gunzipNode });
        for (const split of [train, test]) {
          expect(split.images.length).toBe(split.count * split.height * split.width);
          expect(split.labels.length).toBe(split.count);
          expect(split.labels.every((l) => l < split.numClasses)).toBe(true);
        }
        ok += 1;
      } catch (error) {
        if (!(error instanceof DataError))
          throw new Error(`case ${c} fromIdx(${role}): ${String(error)}`, { cause: error });
        rejected += 1;
      }
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      expect(ms, `case ${c}`).toBeLessThan(CASE_LIMIT_MS);
    }
    // Both outcomes must occur, otherwise the mutations are not exercising the parser.
    expect(parsedOk).toBeGreaterThan(150);
    expect(ok).toBeGreaterThan(5);
    expect(rejected).toBeGreaterThan(1000);
    console.log(
      `fuzz: ${parsedOk} parsed, ${ok} datasets built, ${rejected} DataErrors, slowest case ${slowest.toFixed(1)} ms`,
    );
  });

  it('200 gzip mutations through the async DecompressionStream path', async () => {
    const rng = new Rng(7);
    const valid = tinyFiles(6, 3, 4, 4);
    for (let c = 0; c < 200; c++) {
      const role = IDX_ROLES[rng.int(4)]!;
      const gz = gzipSync(valid[role]);
      const cut = rng.uniform() < 0.5;
      const input = cut ? gz.subarray(0, rng.int(gz.length)) : gz.slice();
      if (!cut) input[rng.int(input.length)]! ^= 1 << rng.int(8);
      const t0 = performance.now();
      try {
        await fromIdxAsync({ ...valid, [role]: input }, { gunzip: gunzipBrowser });
      } catch (error) {
        if (!(error instanceof DataError)) throw new Error(`case ${c}: ${String(error)}`, { cause: error });
      }
      expect(performance.now() - t0).toBeLessThan(CASE_LIMIT_MS);
    }
  });
});
