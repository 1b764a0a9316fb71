import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../../src/tensor/tensor.js';

/**
 * The project's shared reference data (`../shared` next to the checkout, or SPIKETS_SHARED_DIR). When it is absent
 * vitest.config.ts leaves out the tests that need it and says so.
 */
export const sharedDir = process.env.SPIKETS_SHARED_DIR ?? fileURLToPath(new URL('../../../shared/', import.meta.url));
const goldenDir = join(sharedDir, 'golden') + '/';

/** Parsed JSON of `../shared/golden/<name>` (cached). */
const cache = new Map<string, any>();
export function golden(name: string): any {
  if (!cache.has(name)) cache.set(name, JSON.parse(readFileSync(goldenDir + name, 'utf8')));
  return cache.get(name);
}

export function decodeF32(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

export function decodeI32(b64: string): Int32Array {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Int32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt32LE(i * 4);
  return out;
}

/** A golden array: `{dtype, shape, b64}` or nested lists. */
export function goldenTensor(value: any, shape?: number[]): Tensor {
  if (value && typeof value === 'object' && 'b64' in value) return new Tensor(decodeF32(value.b64), value.shape);
  if (value && typeof value === 'object' && 'f32_b64' in value)
    return new Tensor(decodeF32(value.f32_b64), value.shape);
  const flat: number[] = [];
  const dims: number[] = [];
  const walk = (v: any, d: number): void => {
    if (Array.isArray(v)) {
      if (dims.length <= d) dims.push(v.length);
      v.forEach((e) => walk(e, d + 1));
    } else flat.push(Number(v));
  };
  walk(value, 0);
  return new Tensor(Float32Array.from(flat), shape ?? dims);
}
