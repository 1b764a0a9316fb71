/**
 * GFLOPS of the wasm engine on the seed network's conv2 shapes (not a test). Prints, for 1 and 2 threads:
 *  - the three GEMMs of conv2 written as one big product over all output pixels (M = T*B*8*8 = 409600 at T=50,
 *    B=128): forward [M x 300] x [300 x 64], backward-input [M x 64] x [64 x 300]^T, weight [300 x M] x [M x 64];
 *  - the three conv2 kernels themselves (per-image GEMMs with implicit im2col) on a batch of images;
 *  - the spike-sparse product of a 0/1 matrix against dense weights at 5/10/20% density, next to the dense GEMM;
 *  - section 'skinny' (not in 'all'): the SNN readout Linear(1024, 10) over 6400 rows (T=50 x batch 128), its
 *    forward, input gradient and weight gradient, the skinny kernels against the blocked GEMM run alternately.
 * Run (no tsx in the project; esbuild ships with vite); optional arguments: M (default 409600), images (default
 * 1280), section ('gemm' | 'conv' | 'sparse' | 'skinny' | 'all'):
 *   npx esbuild bench/gemm.ts 'src/backend/**\/*.ts' 'src/tensor/*.ts' --outdir=/tmp/benchout --outbase=. --format=esm --platform=node \
 *     && cp -r src/backend/wasm/generated /tmp/benchout/src/backend/wasm/ && node /tmp/benchout/bench/gemm.js [M] [images] [section]
 */
import { makeConv2dGeometry } from '../src/backend/geometry.js';
import { type Ptr, WasmEngine } from '../src/backend/wasm/index.js';
import { median } from './common.js';

const M = Number(process.argv[2] ?? 409600);
const IMAGES = Number(process.argv[3] ?? 1280);
const REPS = 3;

/** Fills `len` floats at `ptr` with uniform values in [-1, 1) from a fixed LCG (cheap for hundreds of MB). */
function fillRandom(e: WasmEngine, ptr: Ptr, len: number, seed: number): void {
  const v = e.f32(ptr, len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2147483648 - 1;
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

interface Timing {
  wall: number;
  /** CPU seconds of the whole process (all threads): on a shared, loaded machine wall time overstates the cost. */
  cpu: number;
}

/** Best of REPS runs after one warm-up run (the first call also tiers the wasm code up). */
function best(run: () => void): Timing {
  run();
  let t: Timing = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < REPS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    if (wall < t.wall) t = { wall, cpu: (c.user + c.system) / 1e6 };
  }
  return t;
}

function report(label: string, flops: number, t: Timing): void {
  const g = (s: number) => (flops / s / 1e9).toFixed(1).padStart(6);
  console.log(
    `  ${label.padEnd(44)} ${g(t.wall)} GFLOPS wall (${(t.wall * 1000).toFixed(0).padStart(5)} ms), ${g(t.cpu)} per CPU-second`,
  );
}

async function gemms(threads: number): Promise<void> {
  const e = await WasmEngine.create({ threads });
  console.log(`\n${threads} thread(s), ${e.simd} SIMD — conv2 GEMMs, M = ${M}`);
  console.log(`  f32x4 multiply-add peak of one thread, measured now: ${e.fmaPeakGflops().toFixed(1)} GFLOPS`);
  const K = 300;
  const N = 64;
  const a = e.alloc(M * K);
  const b = e.alloc(K * N);
  const c = e.alloc(M * N);
  const dA = e.alloc(M * K);
  const dB = e.alloc(K * N);
  fillRandom(e, a, M * K, 1);
  fillRandom(e, b, K * N, 2);
  fillRandom(e, c, M * N, 3);
  const flops = 2 * M * N * K;
  report(
    `forward  [${M}x${K}]x[${K}x${N}]`,
    flops,
    best(() => e.gemmPtr({ transA: false, transB: false, m: M, n: N, k: K, a, b, c, accumulate: false })),
  );
  report(
    `bwd-input [${M}x${N}]x[${K}x${N}]^T`,
    flops,
    best(() => e.gemmPtr({ transA: false, transB: true, m: M, n: K, k: N, a: c, b, c: dA, accumulate: false })),
  );
  report(
    `weight   [${M}x${K}]^T x [${M}x${N}]`,
    flops,
    best(() => e.gemmPtr({ transA: true, transB: false, m: K, n: N, k: M, a, b: c, c: dB, accumulate: false })),
  );
  e.dispose();
}

async function convs(threads: number): Promise<void> {
  const e = await WasmEngine.create({ threads });
  const g = makeConv2dGeometry({ batch: IMAGES, inC: 12, inH: 12, inW: 12, outC: 64, kernelSize: 5 });
  console.log(`${threads} thread(s) — conv2 kernels (implicit im2col), ${IMAGES} images [12,12,12] -> [64,8,8]`);
  const x = e.alloc(IMAGES * 12 * 144);
  const w = e.alloc(64 * 300);
  const bias = e.alloc(64);
  const out = e.alloc(IMAGES * 64 * 64);
  const dx = e.alloc(IMAGES * 12 * 144);
  const dw = e.alloc(64 * 300);
  fillSpikes(e, x, IMAGES * 12 * 144, 0.1, 4);
  fillRandom(e, w, 64 * 300, 5);
  fillRandom(e, bias, 64, 6);
  const flops = 2 * IMAGES * 64 * 64 * 300;
  report(
    'conv2dForward',
    flops,
    best(() => e.conv2dForwardPtr(g, x, w, bias, out)),
  );
  report(
    'conv2dBackwardInput',
    flops,
    best(() => e.conv2dBackwardInputPtr(g, out, w, dx)),
  );
  report(
    'conv2dBackwardWeight',
    flops,
    best(() => e.conv2dBackwardWeightPtr(g, x, out, dw, 0, false)),
  );
  e.dispose();
}

/** Dense vs spike-sparse at several densities: rates are dense-equivalent (2*m*n*k / time). */
async function sparse(threads: number): Promise<void> {
  const e = await WasmEngine.create({ threads });
  const rows = Math.min(M, 102400);
  console.log(`${threads} thread(s) — spike-sparse vs dense, dense-equivalent GFLOPS`);
  const K = 300;
  const N = 64;
  const s = e.alloc(rows * K);
  const w = e.alloc(K * N);
  const c = e.alloc(rows * N);
  const dw = e.alloc(K * N);
  fillRandom(e, w, K * N, 7);
  fillRandom(e, c, rows * N, 8);
  const flops = 2 * rows * N * K;
  const g = makeConv2dGeometry({ batch: IMAGES, inC: 12, inH: 12, inW: 12, outC: 64, kernelSize: 5 });
  const x = e.alloc(IMAGES * 12 * 144);
  const cw = e.alloc(64 * 300);
  const out = e.alloc(IMAGES * 64 * 64);
  const cdw = e.alloc(64 * 300);
  fillRandom(e, cw, 64 * 300, 9);
  fillRandom(e, out, IMAGES * 64 * 64, 10);
  const convFlops = 2 * IMAGES * 64 * 64 * 300;
  const lin = { m: Math.min(rows, 6400), n: 10, k: 1024 };
  const ls = e.alloc(lin.m * lin.k);
  const lw = e.alloc(lin.k * lin.n);
  const lc = e.alloc(lin.m * lin.n);
  fillRandom(e, lw, lin.k * lin.n, 11);
  for (const density of [0.05, 0.1, 0.2, 0.3, 0.5]) {
    fillSpikes(e, s, rows * K, density, 12);
    fillSpikes(e, x, IMAGES * 12 * 144, density, 13);
    fillSpikes(e, ls, lin.m * lin.k, density, 14);
    const d = `${(density * 100).toFixed(0)}%`.padStart(3);
    for (const mode of ['dense', 'sparse'] as const) {
      report(
        `${d} ${mode.padEnd(6)} S[${rows}x${K}] @ W[${K}x${N}]`,
        flops,
        best(() => e.spikeGemmPtr({ m: rows, n: N, k: K, s, w, c, accumulate: false }, mode)),
      );
      report(
        `${d} ${mode.padEnd(6)} S^T @ G -> dW[${K}x${N}]`,
        flops,
        best(() => e.spikeGemmWeightGradPtr({ m: rows, n: N, k: K, s, g: c, dw, accumulate: false }, mode)),
      );
      report(
        `${d} ${mode.padEnd(6)} linear S[${lin.m}x${lin.k}] @ W[${lin.k}x${lin.n}]`,
        2 * lin.m * lin.n * lin.k,
        best(() => e.spikeGemmPtr({ ...lin, s: ls, w: lw, c: lc, accumulate: false }, mode)),
      );
      report(
        `${d} ${mode.padEnd(6)} conv2 forward, ${IMAGES} images`,
        convFlops,
        best(() => e.spikeConv2dForwardPtr(g, x, cw, 0, out, mode)),
      );
      report(
        `${d} ${mode.padEnd(6)} conv2 weight gradient`,
        convFlops,
        best(() => e.spikeConv2dBackwardWeightPtr(g, x, out, cdw, 0, false, mode)),
      );
    }
  }
  e.dispose();
}

/**
 * Median wall times of gemmPtr 'auto' (skinny kernels) and 'blocked' on the readout layer's three products, the two
 * run alternately so that both see the same load of a shared machine.
 */
async function skinny(threads: number): Promise<void> {
  const e = await WasmEngine.create({ threads });
  const [rows, inF, outF] = [6400, 1024, 10];
  console.log(`${threads} thread(s) — Linear(${inF}, ${outF}) over ${rows} rows: median ms, skinny vs blocked`);
  const x = e.alloc(rows * inF);
  const w = e.alloc(outF * inF);
  const y = e.alloc(rows * outF);
  const dx = e.alloc(rows * inF);
  const dw = e.alloc(outF * inF);
  fillSpikes(e, x, rows * inF, 0.2, 15);
  fillRandom(e, w, outF * inF, 16);
  fillRandom(e, y, rows * outF, 17);
  const cases = [
    ['forward   y = x W^T', { transA: false, transB: true, m: rows, n: outF, k: inF, a: x, b: w, c: y }],
    ['input grad dx = dy W', { transA: false, transB: false, m: rows, n: inF, k: outF, a: y, b: w, c: dx }],
    ['weight grad dW = dy^T x', { transA: true, transB: false, m: outF, n: inF, k: rows, a: y, b: x, c: dw }],
  ] as const;
  for (const [label, p] of cases) {
    const t = { auto: [] as number[], blocked: [] as number[] };
    for (let r = 0; r < 41; r++) {
      for (const alg of ['auto', 'blocked'] as const) {
        const t0 = performance.now();
        e.gemmPtr({ ...p, accumulate: false }, alg);
        if (r > 0) t[alg].push(performance.now() - t0);
      }
    }
    const [s, b] = [median(t.auto), median(t.blocked)];
    console.log(
      `  ${label.padEnd(26)} skinny ${s.toFixed(2).padStart(6)} ms  blocked ${b.toFixed(2).padStart(6)} ms  ${(b / s).toFixed(2)}x`,
    );
  }
  e.dispose();
}

async function main(): Promise<void> {
  const only = process.argv[4] ?? 'all';
  for (const threads of [1, 2]) {
    if (only === 'skinny') await skinny(threads);
    if (only === 'all' || only === 'gemm') await gemms(threads);
    if (only === 'all' || only === 'conv') await convs(threads);
    if (only === 'all' || only === 'sparse') await sparse(threads);
  }
}

await main();
