/**
 * The backward of the seed network's [conv2, pool2] segment, old kernels against new (not a test): conv 12->64,
 * 5x5 on 12x12 spike maps, 2x2 max-pool, one chunk of time steps x batch (default 2048 images).
 *  - input gradient: poolConv2dBackwardInput, the old kernel (bench/kernels/pool-conv-old.ts, compiled here into a
 *    benchmark-only module that an otherwise identical engine loads) against the current one;
 *  - weight gradient: maxPool2dBackward + spikeConv2dBackwardWeight (the old route through a dense conv-output
 *    gradient, sparse or dense by density as the engine picks) against the fused spikePoolConv2dBackwardWeight;
 *  - the same spikes through the CNN's pool-fed weight gradient (poolConv2dBackwardWeight: one input patch per
 *    nonzero pooled gradient, blind to spikes) against spikePoolConv2dBackwardWeight: which of the two suits spikes.
 * Spikes at each --densities value; argmax from a max-pool over the conv of those spikes; dPool dense. Old and new
 * run alternately within each repetition (the machine is shared), and each row reports the median wall time.
 *
 *   npm run bench:build && node build/bench/pool-conv.js [--chunk 2048] [--reps 9] [--threads 1,2]
 *                                                       [--densities 0.09,0.25]
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import asc from 'assemblyscript/asc';
import { makeConv2dGeometry, makePool2dGeometry } from '../src/backend/geometry.js';
import { type Ptr, WasmEngine } from '../src/backend/wasm/index.js';
import { median, repoRoot, table } from './common.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const CHUNK = Number(option('chunk', '2048'));
const REPS = Number(option('reps', '9'));
const THREADS = option('threads', '1,2').split(',').map(Number);
const DENSITIES = option('densities', '0.09,0.25').split(',').map(Number);

const conv = makeConv2dGeometry({ batch: CHUNK, inC: 12, inH: 12, inW: 12, outC: 64, kernelSize: 5 });
const pool = makePool2dGeometry({ batch: CHUNK, channels: 64, inH: 8, inW: 8, kernelSize: 2 });
const X = CHUNK * 12 * 144;
const W = 64 * 300;
const CONV_OUT = CHUNK * 64 * 64;
const POOLED = CHUNK * 64 * 16;

/**
 * Builds the old-kernel module and a copy of the compiled engine next to it (build/bench-old/), so that loading
 * the copy's `WasmEngine` gives the current engine running the old poolConvBackwardInput.
 */
async function oldEngineClass(): Promise<typeof WasmEngine> {
  const root = repoRoot();
  const built = join(root, 'build', 'src');
  const dir = join(root, 'build', 'bench-old');
  rmSync(dir, { recursive: true, force: true });
  cpSync(built, join(dir, 'src'), { recursive: true });
  const generated = join(dir, 'src', 'backend', 'wasm', 'generated');
  mkdirSync(generated, { recursive: true });
  for (const [name, relaxed] of [
    ['spikets-kernels-relaxed', true],
    ['spikets-kernels-simd128', false],
  ] as const) {
    // the flags of scripts/build-kernels.mjs (shared-memory variants: the engine runs threads)
    const stderr = asc.createMemoryStream();
    const { error } = await asc.main(
      [
        join(root, 'bench', 'kernels', 'index-old.ts'),
        ...['--outFile', join(generated, `${name}.wasm`), '--runtime', 'stub', '--noAssert', '--use', 'abort='],
        ...['--optimizeLevel', '3', '--shrinkLevel', '0', '--importMemory', '--noExportMemory', '--initialMemory', '1'],
        ...['--maximumMemory', '65536', '--enable', 'simd', '--enable', 'threads', '--sharedMemory'],
        ...(relaxed ? ['--enable', 'relaxed-simd'] : []),
      ],
      { stderr },
    );
    if (error)
      throw new Error(`bench/pool-conv.ts: compiling the old kernels failed: ${error.message}\n${stderr.toString()}`);
  }
  const mod = (await import(pathToFileURL(join(dir, 'src', 'backend', 'wasm', 'index.js')).href)) as {
    WasmEngine: typeof WasmEngine;
  };
  return mod.WasmEngine;
}

/** A fixed LCG, so both engines get identical data. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

interface Buffers {
  x: Ptr;
  w: Ptr;
  dPool: Ptr;
  argmax: Ptr;
  dConv: Ptr;
  dx: Ptr;
  dw: Ptr;
  db: Ptr;
}

function allocate(e: WasmEngine): Buffers {
  return {
    x: e.alloc(X),
    w: e.alloc(W),
    dPool: e.alloc(POOLED),
    argmax: e.alloc(POOLED),
    dConv: e.alloc(CONV_OUT),
    dx: e.alloc(X),
    dw: e.alloc(W),
    db: e.alloc(64),
  };
}

/** Spikes at `density`, conv weights, dPool; argmax of the pool over the conv of the spikes (computed on `e`). */
function fill(e: WasmEngine, b: Buffers, density: number): void {
  const r = lcg(1234);
  const x = e.f32(b.x, X);
  for (let i = 0; i < X; i++) x[i] = r() < density ? 1 : 0;
  const w = e.f32(b.w, W);
  for (let i = 0; i < W; i++) w[i] = (r() * 2 - 1) / Math.sqrt(300);
  const dPool = e.f32(b.dPool, POOLED);
  for (let i = 0; i < POOLED; i++) dPool[i] = (r() * 2 - 1) * 1e-3;
  e.conv2dForwardPtr(conv, b.x, b.w, 0, b.dConv);
  e.maxPool2dForwardPtr(pool, b.dConv, b.dx, b.argmax);
}

/** Largest |a - b| relative to the largest |b|. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m > 0 ? d / m : d;
}

function time(fn: () => void, into: number[]): void {
  const t0 = performance.now();
  fn();
  into.push(performance.now() - t0);
}

async function main(): Promise<void> {
  const OldEngine = await oldEngineClass();
  const rows: string[][] = [];
  for (const threads of THREADS) {
    const ne = await WasmEngine.create({ threads });
    const oe = await OldEngine.create({ threads });
    console.log(
      `${threads} thread(s), ${ne.simd} SIMD, chunk ${CHUNK} images; f32x4 FMA peak of one thread now: ` +
        `${ne.fmaPeakGflops().toFixed(1)} GFLOPS`,
    );
    const nb = allocate(ne);
    const ob = allocate(oe);
    for (const density of DENSITIES) {
      fill(ne, nb, density);
      fill(oe, ob, density);
      const oldIn = () => oe.poolConvBackwardInputPtr(conv, pool, ob.dPool, ob.argmax, ob.w, ob.dx);
      const newIn = () => ne.poolConvBackwardInputPtr(conv, pool, nb.dPool, nb.argmax, nb.w, nb.dx);
      let oldPath = '';
      const oldW = () => {
        ne.maxPool2dBackwardPtr(pool, nb.dPool, nb.argmax, nb.dConv);
        oldPath = ne.spikeConv2dBackwardWeightPtr(conv, nb.x, nb.dConv, nb.dw, nb.db, false);
      };
      let newPath = '';
      const newW = () => {
        newPath = ne.spikePoolConv2dBackwardWeightPtr(conv, pool, nb.x, nb.dPool, nb.argmax, nb.dw, nb.db, false);
      };
      const cnnW = () => ne.poolConvBackwardWeightPtr(conv, pool, nb.x, nb.dPool, nb.argmax, nb.dw, nb.db, false);
      // agreement (summation order only) and warm-up
      oldIn();
      newIn();
      const dxDiff = relDiff(ne.f32(nb.dx, X), oe.f32(ob.dx, X));
      oldW();
      const dwOld = ne.f32(nb.dw, W).slice();
      newW();
      const dwDiff = relDiff(ne.f32(nb.dw, W), dwOld);
      cnnW();
      const cnnDiff = relDiff(ne.f32(nb.dw, W), dwOld);
      const t = { oldIn: [] as number[], newIn: [] as number[], oldW: [] as number[], newW: [] as number[] };
      const cnn: number[] = [];
      for (let r = 0; r < REPS; r++) {
        time(oldIn, t.oldIn);
        time(newIn, t.newIn);
        time(oldW, t.oldW);
        time(newW, t.newW);
        time(cnnW, cnn);
      }
      const d = `${(density * 100).toFixed(0)}%`;
      const flops = 2 * POOLED * 300;
      const row = (what: string, o: number[], n: number[], diff: number, extra: string): string[] => [
        what,
        `${threads}`,
        d,
        median(o).toFixed(1),
        median(n).toFixed(1),
        (median(o) / median(n)).toFixed(2),
        diff.toExponential(1),
        extra,
      ];
      const gf = (ms: number[]) => (flops / (median(ms) / 1000) / 1e9).toFixed(1);
      rows.push(row('input gradient', t.oldIn, t.newIn, dxDiff, `${gf(t.oldIn)} -> ${gf(t.newIn)} GFLOPS`));
      rows.push(row('weight gradient', t.oldW, t.newW, dwDiff, `old path ${oldPath}, new ${newPath}`));
      rows.push(row('  vs the CNN kernel', cnn, t.newW, cnnDiff, 'old = poolConv2dBackwardWeight on the spikes'));
    }
    ne.dispose();
    oe.dispose();
  }
  console.log(
    `\nmedians of ${REPS} alternating repetitions, ms per chunk of ${CHUNK} images (ratio = old / new)\n` +
      table(['kernel', 'threads', 'spikes', 'old ms', 'new ms', 'ratio', 'rel. diff', ''], rows),
  );
}

await main();
