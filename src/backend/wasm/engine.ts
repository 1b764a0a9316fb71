import type { Conv2dGeometry, Pool2dGeometry } from '../backend.js';
import { KernelArgumentError } from '../reference/check.js';
import {
  EngineCore,
  GRAIN_ELEMENTS,
  GRAIN_FLOPS,
  type Ptr,
  type WasmEngineOptions,
  checkConv,
  checkPoolReadsConv,
  count,
} from './engine-core.js';
import { DenseKernels } from './engine-dense.js';

/**
 * The low-level wasm engine: one (shared) `WebAssembly.Memory`, a persistent heap and a per-step arena in it, and
 * synchronous pointer-based kernel calls that run on `threads` threads. Tensors that live here are passed by byte
 * offset (`Ptr`), so a training plan built on the engine copies nothing per op. Pointers are trusted: a wrong one
 * traps (out of the memory) or silently overwrites other data, like a C pointer; the Float32Array backend
 * (`createWasmBackend`) is the checked layer.
 */

export type { Ptr, WasmEngineOptions } from './engine-core.js';
export type { ConvAlgorithm, GemmAlgorithm, GemmPtrArgs } from './engine-dense.js';

/** `C = (accumulate ? C : 0) + alpha * S @ W`, S `[m,k]` of spikes (0/1; other values weight their row), W `[k,n]`. */
export interface SpikeGemmPtrArgs {
  m: number;
  n: number;
  k: number;
  s: Ptr;
  w: Ptr;
  c: Ptr;
  accumulate: boolean;
  alpha?: number;
  /** Leading dimensions; default packed (k, n, n). */
  lds?: number;
  ldw?: number;
  ldc?: number;
}

/** `dW = (accumulate ? dW : 0) + alpha * S^T @ G`, S `[m,k]` spikes, G `[m,n]`, dW `[k,n]`. */
export interface SpikeWeightGradPtrArgs {
  m: number;
  n: number;
  k: number;
  s: Ptr;
  g: Ptr;
  dw: Ptr;
  accumulate: boolean;
  alpha?: number;
  /** Leading dimensions; default packed (k, n, n). */
  lds?: number;
  ldg?: number;
  lddw?: number;
}

/**
 * 'auto' measures the spike density first (`spikeDensityPtr`) and goes sparse up to `SPARSE_DENSITY_MAX[kernel]` (a
 * strided spike operand, `lds` != k, is not measured and goes dense); 'sparse' and 'dense' force a path.
 */
export type SpikeMode = 'auto' | 'sparse' | 'dense';

/**
 * Spike density (nonzero fraction) up to which each sparse kernel beats its dense counterpart, from bench/gemm.ts
 * on the seed network's shapes (sparse is 3-7x faster at 5-10%, about even at these limits).
 */
export const SPARSE_DENSITY_MAX = {
  gemm: 0.3,
  gemmWeightGrad: 0.25,
  // also spikeConv2dPoolForwardPtr's, so that it takes the path spikeConv2dForwardPtr takes (same bits even where
  // the two paths differ: K > 384, or Inf/NaN weights). bench/spike-conv.ts --dense, after the pixel-table rewrite
  // of the sparse kernel: sparse about even with dense near 50% on the 2-core Xeon (25% before the rewrite)
  conv2dForward: 0.4,
  conv2dBackwardWeight: 0.15,
  // fused with the pool's backward (seed conv2 + 2x2 pool, 1024 images): sparse 2.5-3.5x faster at 25%, even at ~70%
  poolConv2dBackwardWeight: 0.6,
} as const;

/**
 * Above this many elements `spikeDensityPtr` counts DENSITY_WINDOWS evenly spaced windows of DENSITY_WINDOW floats
 * (64 Ki of them) instead of everything: a whole count of the seed SNN's conv2 input (6400 spike maps, 44 MB) took
 * 3.4-6 ms per call (2-3% of a forward pass) to choose between paths whose crossover is a broad 25-60%; the windows
 * take 0.26 ms.
 */
const DENSITY_SAMPLE_ABOVE = 1 << 20;
const DENSITY_WINDOWS = 64;
const DENSITY_WINDOW = 1024;

/** Conv-output floats per sub-batch of the dense path of spikeConv2dPoolForwardPtr (1 MiB: stays in L2). */
const DENSE_POOL_FLOATS = 1 << 18;

export class WasmEngine extends DenseKernels {
  /** Starts an engine: loads the kernel module, makes the memory and the thread pool. */
  static async create(options: WasmEngineOptions = {}): Promise<WasmEngine> {
    return new WasmEngine(...(await EngineCore.start(options)));
  }

  /** Nonzero entries of x[0, n) (float32). */
  countNonzeroPtr(x: Ptr, n: number): number {
    count('countNonzeroPtr', 'n', n);
    const slots = this.threadSlots();
    const nth = this.pick(n, GRAIN_ELEMENTS * 4);
    this.exec('countNonzero', nth, [x, n, slots]);
    const counts = this.i32(slots, nth);
    let total = 0;
    for (let t = 0; t < nth; t++) total += counts[t]!;
    return total;
  }

  /**
   * Nonzero fraction of x[0, n): exact up to DENSITY_SAMPLE_ABOVE elements, else over evenly spaced windows (spread
   * over every time step and image of a spike tensor; deterministic, so a path choice is reproducible).
   */
  spikeDensityPtr(x: Ptr, n: number): number {
    count('spikeDensityPtr', 'n', n);
    if (n === 0) return 0;
    if (n <= DENSITY_SAMPLE_ABOVE) return this.countNonzeroPtr(x, n) / n;
    const v = this.f32(x, n);
    const gap = Math.floor((n - DENSITY_WINDOW) / (DENSITY_WINDOWS - 1));
    let nonzero = 0;
    for (let w = 0; w < DENSITY_WINDOWS; w++) {
      const start = w * gap;
      for (let i = start; i < start + DENSITY_WINDOW; i++) if (v[i] !== 0) nonzero++;
    }
    return nonzero / (DENSITY_WINDOWS * DENSITY_WINDOW);
  }

  private sparse(mode: SpikeMode, where: keyof typeof SPARSE_DENSITY_MAX, x: Ptr, n: number): boolean {
    if (mode === 'sparse') return true;
    if (mode === 'dense') return false;
    if (mode !== 'auto') {
      throw new KernelArgumentError(
        `WasmEngine (src/backend/wasm/engine.ts): spike kernel mode must be 'auto', 'sparse' or 'dense', got ${String(mode)}`,
      );
    }
    return n > 0 && this.spikeDensityPtr(x, n) <= SPARSE_DENSITY_MAX[where];
  }

  /** `C (+)= alpha * S @ W` for a spike matrix S; returns the path taken. Dense path: `gemmPtr`. */
  spikeGemmPtr(p: SpikeGemmPtrArgs, mode: SpikeMode = 'auto'): 'sparse' | 'dense' {
    const m = count('spikeGemmPtr', 'm', p.m);
    const n = count('spikeGemmPtr', 'n', p.n);
    const k = count('spikeGemmPtr', 'k', p.k);
    const lds = p.lds ?? k;
    const ldw = p.ldw ?? n;
    const ldc = p.ldc ?? n;
    const alpha = p.alpha ?? 1;
    if (!this.sparse(mode, 'gemm', p.s, lds === k ? m * k : 0)) {
      this.gemmPtr({
        transA: false,
        transB: false,
        m,
        n,
        k,
        a: p.s,
        b: p.w,
        c: p.c,
        accumulate: p.accumulate,
        alpha,
        lda: lds,
        ldb: ldw,
        ldc,
      });
      return 'dense';
    }
    this.ensureWorkspace(this.exports.spikeGemmWorkspace(k));
    const nth = this.pick((m * n * k) / 4, GRAIN_FLOPS, m);
    this.exec('spikeGemm', nth, [m, n, k, alpha, p.s, lds, p.w, ldw, p.c, ldc, +p.accumulate]);
    return 'sparse';
  }

  /** `dW (+)= alpha * S^T @ G` for a spike matrix S (the weight gradient of `S @ W`); returns the path taken. */
  spikeGemmWeightGradPtr(p: SpikeWeightGradPtrArgs, mode: SpikeMode = 'auto'): 'sparse' | 'dense' {
    const m = count('spikeGemmWeightGradPtr', 'm', p.m);
    const n = count('spikeGemmWeightGradPtr', 'n', p.n);
    const k = count('spikeGemmWeightGradPtr', 'k', p.k);
    const lds = p.lds ?? k;
    const ldg = p.ldg ?? n;
    const lddw = p.lddw ?? n;
    const alpha = p.alpha ?? 1;
    if (!this.sparse(mode, 'gemmWeightGrad', p.s, lds === k ? m * k : 0)) {
      this.gemmPtr({
        transA: true,
        transB: false,
        m: k,
        n,
        k: m,
        a: p.s,
        b: p.g,
        c: p.dw,
        accumulate: p.accumulate,
        alpha,
        lda: lds,
        ldb: ldg,
        ldc: lddw,
      });
      return 'dense';
    }
    this.ensureWorkspace(this.exports.spikeGemmWorkspace(k));
    const nth = this.pick((m * n * k) / 4, GRAIN_FLOPS, Math.ceil(k / 4));
    this.exec('spikeGemmWeightGrad', nth, [m, n, k, alpha, p.s, lds, p.g, ldg, p.dw, lddw, +p.accumulate]);
    return 'sparse';
  }

  private spikeConvPrepare(where: string, g: Conv2dGeometry): number {
    checkConv(where, g);
    this.ensureWorkspace(this.exports.spikeConv2dWorkspace(g.inC, g.inW, g.outC, g.kH, g.kW, g.outH, g.outW));
    return this.pick((2 * g.batch * g.outC * g.outH * g.outW * g.inC * g.kH * g.kW) / 8, GRAIN_FLOPS, g.batch);
  }

  /** conv2dForward for a spike input x (implicit im2col over its nonzeros); returns the path taken. */
  spikeConv2dForwardPtr(
    g: Conv2dGeometry,
    x: Ptr,
    w: Ptr,
    bias: Ptr,
    out: Ptr,
    mode: SpikeMode = 'auto',
  ): 'sparse' | 'dense' {
    if (!this.sparse(mode, 'conv2dForward', x, g.batch * g.inC * g.inH * g.inW)) {
      this.conv2dForwardPtr(g, x, w, bias, out);
      return 'dense';
    }
    checkConv('spikeConv2dForwardPtr', g);
    this.ensureWorkspace(this.spikeForwardWorkspace(g, 0));
    this.exec('spikeConv2dForward', this.spikeForwardThreads(g), [x, w, bias, out, ...this.convArgs(g)]);
    return 'sparse';
  }

  /**
   * `maxPool2dForwardPtr(pool, spikeConv2dForwardPtr(conv, x, w, bias))`, bit for bit, without the conv output in
   * memory: each thread convolves one image in its scratch and pools it from there. out/argmax `[B,outC,pool.outH,
   * pool.outW]`. The dense path (density above SPARSE_DENSITY_MAX.conv2dForward, as for spikeConv2dForwardPtr, or
   * mode 'dense') is the dense conv and the pool over sub-batches through a small buffer. Returns the path taken.
   */
  spikeConv2dPoolForwardPtr(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Ptr,
    w: Ptr,
    bias: Ptr,
    out: Ptr,
    argmax: Ptr,
    mode: SpikeMode = 'auto',
  ): 'sparse' | 'dense' {
    checkPoolReadsConv('spikeConv2dPoolForwardPtr', conv, pool);
    const g = conv;
    if (!this.sparse(mode, 'conv2dForward', x, g.batch * g.inC * g.inH * g.inW)) {
      this.denseConvPool(conv, pool, x, w, bias, out, argmax);
      return 'dense';
    }
    this.ensureWorkspace(this.spikeForwardWorkspace(g, pool.outH * pool.outW));
    const p = pool;
    this.exec('spikeConv2dPoolForward', this.spikeForwardThreads(g), [
      ...[this.workCounter(), x, w, bias, out, argmax, ...this.convArgs(g)],
      ...[p.kH, p.kW, p.strideH, p.strideW, p.padH, p.padW, p.outH, p.outW],
    ]);
    return 'sparse';
  }

  /** The dense conv then the pool, `DENSE_POOL_FLOATS` of conv output at a time through a heap buffer. */
  private denseConvPool(c: Conv2dGeometry, p: Pool2dGeometry, x: Ptr, w: Ptr, bias: Ptr, out: Ptr, argmax: Ptr): void {
    const convPlane = c.outC * c.outH * c.outW;
    const poolPlane = c.outC * p.outH * p.outW;
    const step = Math.max(1, Math.min(c.batch, Math.floor(DENSE_POOL_FLOATS / Math.max(1, convPlane))));
    const buf = this.alloc(step * convPlane);
    try {
      for (let b0 = 0; b0 < c.batch; b0 += step) {
        const n = Math.min(step, c.batch - b0);
        this.conv2dForwardPtr({ ...c, batch: n }, x + 4 * b0 * c.inC * c.inH * c.inW, w, bias, buf);
        const o = 4 * b0 * poolPlane;
        this.maxPool2dForwardPtr({ ...p, batch: n }, buf, out + o, argmax + o);
      }
    } finally {
      this.free(buf);
    }
  }

  private spikeForwardWorkspace(g: Conv2dGeometry, pooled: number): number {
    return this.exports.spikeConv2dPoolWorkspace(g.inC, g.inH, g.inW, g.outC, g.kH, g.kW, g.outH, g.outW, pooled);
  }

  private spikeForwardThreads(g: Conv2dGeometry): number {
    return this.pick((2 * g.batch * g.outC * g.outH * g.outW * g.inC * g.kH * g.kW) / 8, GRAIN_FLOPS, g.batch);
  }

  /** conv2dBackwardWeight for a spike input x; returns the path taken. */
  spikeConv2dBackwardWeightPtr(
    g: Conv2dGeometry,
    x: Ptr,
    dOut: Ptr,
    dw: Ptr,
    dBias: Ptr,
    accumulate: boolean,
    mode: SpikeMode = 'auto',
  ): 'sparse' | 'dense' {
    if (!this.sparse(mode, 'conv2dBackwardWeight', x, g.batch * g.inC * g.inH * g.inW)) {
      this.conv2dBackwardWeightPtr(g, x, dOut, dw, dBias, accumulate);
      return 'dense';
    }
    const nth = this.spikeConvPrepare('spikeConv2dBackwardWeightPtr', g);
    const rest = [x, dOut, dw, dBias, +accumulate, ...this.convArgs(g)];
    this.exec('spikeConv2dBackwardWeight', nth, [0, ...rest]);
    this.exec('spikeConv2dBackwardWeight', nth, [1, ...rest]);
    return 'sparse';
  }

  /**
   * spikeConv2dBackwardWeight(conv, x, maxPool2dBackward(pool, dPool, argmax), dw, dBias, accumulate) for a spike
   * input x, without the dense conv-output gradient: the sparse kernel builds it per image from dPool and argmax
   * (kernels/pool-conv-weight.ts). The dense path (inputs denser than SPARSE_DENSITY_MAX.poolConv2dBackwardWeight)
   * routes the gradient into a temporary buffer and runs conv2dBackwardWeightPtr. Returns the path taken.
   */
  spikePoolConv2dBackwardWeightPtr(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Ptr,
    dPool: Ptr,
    argmax: Ptr,
    dw: Ptr,
    dBias: Ptr,
    accumulate: boolean,
    mode: SpikeMode = 'auto',
  ): 'sparse' | 'dense' {
    const where = 'spikePoolConv2dBackwardWeightPtr';
    checkPoolReadsConv(where, conv, pool);
    const g = conv;
    if (!this.sparse(mode, 'poolConv2dBackwardWeight', x, g.batch * g.inC * g.inH * g.inW)) {
      const dOut = this.alloc(Math.max(1, g.batch * g.outC * g.outH * g.outW));
      try {
        this.maxPool2dBackwardPtr(pool, dPool, argmax, dOut);
        this.conv2dBackwardWeightPtr(g, x, dOut, dw, dBias, accumulate);
      } finally {
        this.free(dOut);
      }
      return 'dense';
    }
    this.ensureWorkspace(
      this.exports.spikePoolConv2dWorkspace(g.inC, g.inH, g.inW, g.outC, g.kH, g.kW, g.outH, g.outW),
    );
    const nth = this.pick((2 * g.batch * g.outC * g.outH * g.outW * g.inC * g.kH * g.kW) / 8, GRAIN_FLOPS, g.batch);
    // one partial per fixed block of images (claimed by the threads of phase 0), summed in block order by phase 1
    const parts = this.sharedScratch(this.exports.spikePoolConv2dPartials(g.inC, g.kH, g.kW, g.outC));
    const rest = [parts, x, dPool, argmax, dw, dBias, +accumulate, ...this.convArgs(g), pool.outH * pool.outW];
    this.exec('spikePoolConv2dBackwardWeight', nth, [0, this.workCounter(), ...rest]);
    this.exec('spikePoolConv2dBackwardWeight', nth, [1, 0, ...rest]);
    return 'sparse';
  }

  /**
   * This thread's f32x4 multiply-add peak in GFLOPS (about 0.1 s of pure register arithmetic): the yardstick that
   * benchmarks divide kernel rates by, since absolute rates drift on a shared machine.
   */
  fmaPeakGflops(iterations = 20_000_000): number {
    this.exports.fmaPeak(iterations >> 4, 1);
    const t0 = performance.now();
    this.exports.fmaPeak(iterations, 1);
    return (iterations * 64) / ((performance.now() - t0) / 1000) / 1e9;
  }
}
