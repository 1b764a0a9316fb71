/**
 * The seed network's conv2 + pool2 forward on one chunk of spike maps (not a test): the unfused path
 * (`spikeConv2dForwardPtr` into a [N,64,8,8] buffer, then `maxPool2dForwardPtr`) against the fused
 * `spikeConv2dPoolForwardPtr`, for 1 and 2 threads at several spike densities. The two are timed alternately within
 * one run (the order flips every round), so that load from other processes on the shared machine hits both alike;
 * the figures are medians, and the ratio is fused / unfused. Both must give the same bits: checked before timing.
 * `--dense` adds the dense paths (mode 'dense') of both, to find the densities where the sparse ones stop paying
 * (SPARSE_DENSITY_MAX in src/backend/wasm/engine.ts).
 *
 *   npm run bench:build && node build/bench/spike-conv.js [--images 2048] [--reps 21] [--densities 0.086,0.25]
 *                                                        [--threads 1,2] [--mode sparse|auto] [--dense]
 */
import { makeConv2dGeometry, makePool2dGeometry } from '../src/backend/geometry.js';
import { type Ptr, type SpikeMode, WasmEngine } from '../src/backend/wasm/index.js';
import { median } from './common.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const IMAGES = Number(option('images', '2048'));
const REPS = Number(option('reps', '21'));
const DENSITIES = option('densities', '0.086,0.25').split(',').map(Number);
const THREADS = option('threads', '1,2').split(',').map(Number);
const MODE = option('mode', 'sparse') as SpikeMode;
const DENSE = process.argv.includes('--dense');

/** Uniform values in [-0.1, 0.1) (conv2's init scale) from a fixed LCG. */
function fillRandom(e: WasmEngine, ptr: Ptr, len: number, seed: number): void {
  const v = e.f32(ptr, len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 2147483648 - 1) * 0.1;
  }
}

function fillSpikes(e: WasmEngine, ptr: Ptr, len: number, density: number, seed: number): void {
  const v = e.f32(ptr, len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 4294967296 < density ? 1 : 0;
  }
}

function ms(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function sameBits(e: WasmEngine, a: Ptr, b: Ptr, n: number): boolean {
  const x = e.i32(a, n);
  const y = e.i32(b, n);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
  return true;
}

async function run(threads: number): Promise<void> {
  const e = await WasmEngine.create({ threads });
  const conv = makeConv2dGeometry({ batch: IMAGES, inC: 12, inH: 12, inW: 12, outC: 64, kernelSize: 5 });
  const pool = makePool2dGeometry({ batch: IMAGES, channels: 64, inH: 8, inW: 8, kernelSize: 2 });
  const xN = IMAGES * 12 * 144;
  const convN = IMAGES * 64 * 64;
  const poolN = IMAGES * 64 * 16;
  const x = e.alloc(xN);
  const w = e.alloc(64 * 300);
  const bias = e.alloc(64);
  const convOut = e.alloc(convN);
  const out = [e.alloc(poolN), e.alloc(poolN)];
  const arg = [e.alloc(poolN), e.alloc(poolN)];
  fillRandom(e, w, 64 * 300, 5);
  fillRandom(e, bias, 64, 6);
  console.log(`\n${threads} thread(s), ${e.simd} SIMD — conv2 [${IMAGES},12,12,12] -> [64,8,8] -> pool 2x2, median ms`);
  for (const density of DENSITIES) {
    fillSpikes(e, x, xN, density, 13);
    const unfused = (): void => {
      e.spikeConv2dForwardPtr(conv, x, w, bias, convOut, MODE);
      e.maxPool2dForwardPtr(pool, convOut, out[0]!, arg[0]!);
    };
    const fused = (): void => {
      e.spikeConv2dPoolForwardPtr(conv, pool, x, w, bias, out[1]!, arg[1]!, MODE);
    };
    unfused();
    fused();
    const same = sameBits(e, out[0]!, out[1]!, poolN) && sameBits(e, arg[0]!, arg[1]!, poolN);
    const t = { conv: [] as number[], pool: [] as number[], unfused: [] as number[], fused: [] as number[] };
    const dense = { conv: [] as number[], fused: [] as number[] };
    for (let r = 0; r < REPS; r++) {
      const timeUnfused = (): void => {
        const a = ms(() => e.spikeConv2dForwardPtr(conv, x, w, bias, convOut, MODE));
        const b = ms(() => e.maxPool2dForwardPtr(pool, convOut, out[0]!, arg[0]!));
        t.conv.push(a);
        t.pool.push(b);
        t.unfused.push(a + b);
      };
      const timeFused = (): void => {
        t.fused.push(ms(fused));
      };
      if (r % 2 === 0) {
        timeUnfused();
        timeFused();
      } else {
        timeFused();
        timeUnfused();
      }
      if (DENSE) {
        dense.conv.push(ms(() => e.spikeConv2dForwardPtr(conv, x, w, bias, convOut, 'dense')));
        dense.fused.push(ms(() => e.spikeConv2dPoolForwardPtr(conv, pool, x, w, bias, out[1]!, arg[1]!, 'dense')));
      }
    }
    const f = (v: number): string => v.toFixed(1).padStart(6);
    const ratio = median(t.fused) / median(t.unfused);
    console.log(
      `  density ${(density * 100).toFixed(1).padStart(5)}%: unfused ${f(median(t.unfused))} (conv ${f(median(t.conv))} + pool ${f(median(t.pool))})` +
        `   fused ${f(median(t.fused))}   fused/unfused ${ratio.toFixed(3)}` +
        (DENSE ? `   dense: conv ${f(median(dense.conv))}, fused op ${f(median(dense.fused))}` : '') +
        (same ? '' : '   RESULTS DIFFER'),
    );
  }
  e.dispose();
}

for (const threads of THREADS) await run(threads);
