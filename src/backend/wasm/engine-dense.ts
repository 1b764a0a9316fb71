import type { AdamArgs, Conv2dGeometry, LifArgs, Pool2dGeometry } from '../backend.js';
import { KernelArgumentError } from '../reference/check.js';
import {
  EngineCore,
  GRAIN_ELEMENTS,
  GRAIN_FLOPS,
  type Ptr,
  checkConv,
  checkPool,
  checkPoolReadsConv,
  count,
} from './engine-core.js';

// The dense kernels of the wasm engine (GEMM, convolutions, pooling, ReLU, log-softmax, LIF, Adam) on pointers into
// its memory; ./engine.ts adds the spike-sparse ones and is the class users get (`WasmEngine`).

export interface GemmPtrArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  a: Ptr;
  b: Ptr;
  c: Ptr;
  accumulate: boolean;
  alpha?: number;
  /** Leading dimensions (elements); default: packed (`transA ? m : k`, `transB ? k : n`, `n`). */
  lda?: number;
  ldb?: number;
  ldc?: number;
}

/** How `gemmPtr` computes: 'auto' takes the skinny kernels for a small m, n or k (kernels/gemm-skinny.ts), 'blocked' never. */
export type GemmAlgorithm = 'auto' | 'blocked';

const RESET = { subtract: 0, zero: 1, none: 2 } as const;

/** How `conv2dForwardPtr` computes: 'auto' picks Winograd where it applies, 'direct' never. */
export type ConvAlgorithm = 'auto' | 'direct' | 'winograd';

/** The geometries of kernels/conv-winograd.ts: 5x5, stride 1, no padding, enough channels, whole 4-tile groups. */
function winogradApplies(g: Conv2dGeometry): boolean {
  return (
    g.kH === 5 &&
    g.kW === 5 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.padH === 0 &&
    g.padW === 0 &&
    g.inC >= 4 &&
    g.outH % 2 === 0 &&
    g.outW % 8 === 0
  );
}

/** The dense kernels; `WasmEngine` (./engine.ts) adds the spike-sparse ones. */
export class DenseKernels extends EngineCore {
  /**
   * `C = (accumulate ? C : 0) + alpha * op(A) @ op(B)` (see GemmArgs in ../backend.ts). 'blocked' skips the skinny
   * kernels (for benchmarks and tests; 'auto' never loses to it on the shapes it dispatches, see kernels/gemm-skinny.ts).
   */
  gemmPtr(p: GemmPtrArgs, algorithm: GemmAlgorithm = 'auto'): void {
    const m = count('gemmPtr', 'm', p.m);
    const n = count('gemmPtr', 'n', p.n);
    const k = count('gemmPtr', 'k', p.k);
    const lda = p.lda ?? (p.transA ? m : k);
    const ldb = p.ldb ?? (p.transB ? k : n);
    const ldc = p.ldc ?? n;
    if (algorithm !== 'auto' && algorithm !== 'blocked') {
      throw new KernelArgumentError(
        `gemmPtr (src/backend/wasm/engine-dense.ts): algorithm must be 'auto' or 'blocked', got ${String(algorithm)}`,
      );
    }
    this.ensureWorkspace(this.exports.gemmWorkspace(m, n, k));
    const nth = this.pick(2 * m * n * k, GRAIN_FLOPS);
    this.exec(algorithm === 'auto' ? 'gemm' : 'gemmBlocked', nth, [
      +p.transA,
      +p.transB,
      m,
      n,
      k,
      p.alpha ?? 1,
      p.a,
      lda,
      p.b,
      ldb,
      p.c,
      ldc,
      +p.accumulate,
    ]);
  }

  protected convArgs(g: Conv2dGeometry): number[] {
    return [g.batch, g.inC, g.inH, g.inW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW, g.outH, g.outW];
  }

  protected convPrepare(where: string, g: Conv2dGeometry): number {
    checkConv(where, g);
    this.ensureWorkspace(this.exports.conv2dWorkspace(g.inC, g.outC, g.kH, g.kW, g.outH, g.outW));
    const flops = 2 * g.batch * g.outC * g.outH * g.outW * g.inC * g.kH * g.kW;
    return this.pick(flops, GRAIN_FLOPS, g.batch);
  }

  /**
   * out `[B,outC,outH,outW]` = conv(x `[B,inC,inH,inW]`, w `[outC,inC,kH,kW]`) + bias (`bias` 0: none). 'direct'
   * (default): the implicit-im2col kernel; 'auto' takes Winograd's F(2x2, 5x5) where it applies (2.8x fewer
   * multiply-adds, about 1e-6 relative error; kernels/conv-winograd.ts); returns the algorithm used.
   */
  conv2dForwardPtr(
    g: Conv2dGeometry,
    x: Ptr,
    w: Ptr,
    bias: Ptr,
    out: Ptr,
    algorithm: ConvAlgorithm = 'direct',
  ): ConvAlgorithm {
    checkConv('conv2dForwardPtr', g);
    if (algorithm !== 'direct' && winogradApplies(g)) {
      this.ensureWorkspace(this.exports.conv2dWinogradWorkspace(g.inC, g.outC, g.outH, g.outW));
      const flops = (2 * 36 * g.batch * g.outC * g.inC * g.outH * g.outW) / 4;
      this.exec('conv2dForwardWinograd', this.pick(flops, GRAIN_FLOPS, g.batch), [
        x,
        w,
        bias,
        out,
        g.batch,
        g.inC,
        g.inH,
        g.inW,
        g.outC,
        g.outH,
        g.outW,
      ]);
      return 'winograd';
    }
    if (algorithm === 'winograd') {
      throw new KernelArgumentError(
        'WasmEngine.conv2dForwardPtr (src/backend/wasm/engine-dense.ts): Winograd needs a 5x5 kernel, stride 1, no padding, inC >= 4, even outH and outW a multiple of 8',
      );
    }
    this.ensureWorkspace(this.exports.conv2dForwardWorkspace(g.inC, g.outC, g.kH, g.kW, g.outW));
    // threads split the output rows of the batch
    const nth = this.pick(2 * g.batch * g.outC * g.outH * g.outW * g.inC * g.kH * g.kW, GRAIN_FLOPS, g.batch * g.outH);
    this.exec('conv2dForward', nth, [x, w, bias, out, ...this.convArgs(g)]);
    return 'direct';
  }

  /** dx = conv_transpose(dOut, w) (overwrites dx). */
  conv2dBackwardInputPtr(g: Conv2dGeometry, dOut: Ptr, w: Ptr, dx: Ptr): void {
    const nth = this.convPrepare('conv2dBackwardInputPtr', g);
    this.exec('conv2dBackwardInput', nth, [dOut, w, dx, ...this.convArgs(g)]);
  }

  /**
   * dx = conv2dBackwardInput(conv, maxPool2dBackward(pool, dPool, argmax), w) without materialising the mostly-zero
   * conv-output gradient: only each window's argmax position contributes (overwrites dx).
   */
  poolConvBackwardInputPtr(conv: Conv2dGeometry, pool: Pool2dGeometry, dPool: Ptr, argmax: Ptr, w: Ptr, dx: Ptr): void {
    checkPoolReadsConv('poolConvBackwardInputPtr', conv, pool);
    const g = conv;
    const pooled = pool.outH * pool.outW;
    this.ensureWorkspace(
      this.exports.poolConvBackwardInputWorkspace(
        g.inC,
        g.inH,
        g.inW,
        g.outC,
        g.kH,
        g.kW,
        g.padH,
        g.padW,
        g.outH,
        g.outW,
        pooled,
      ),
    );
    const nth = this.pick(2 * g.batch * g.outC * pooled * g.kH * g.kW * g.inC, GRAIN_FLOPS, g.batch);
    this.exec('poolConvBackwardInput', nth, [this.workCounter(), dPool, argmax, w, dx, ...this.convArgs(g), pooled]);
  }

  /**
   * dw (+)= conv2dBackwardWeight(conv, x, maxPool2dBackward(pool, dPool, argmax)), dBias (+)= sum of dPool, from the
   * nonzero pooled gradients only (one input patch each); argmax must lie in the conv output plane.
   */
  poolConvBackwardWeightPtr(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Ptr,
    dPool: Ptr,
    argmax: Ptr,
    dw: Ptr,
    dBias: Ptr,
    accumulate: boolean,
  ): void {
    checkConv('poolConvBackwardWeightPtr', conv);
    checkPool('poolConvBackwardWeightPtr', pool);
    const g = conv;
    const pooled = pool.outH * pool.outW;
    this.ensureWorkspace(
      this.exports.poolConvBackwardWeightWorkspace(g.batch, pooled, g.outH * g.outW, g.inC, g.kH, g.kW),
    );
    // one patch per pooled entry plus the cost of listing it (the patch alone undercounts a one-channel conv, which
    // then stayed on one thread), split by output channel
    const work = g.batch * g.outC * pooled * (2 * g.inC * g.kH * g.kW + 64);
    const nth = this.pick(work, GRAIN_FLOPS, g.outC);
    // several input channels: a channel-last copy of x (padded: row sweeps read up to 3 floats past a patch row)
    const xN = g.batch * g.inC * g.inH * g.inW;
    const xT = g.inC >= 4 ? this.sharedScratch((xN + 4) * 4) : 0;
    const rest = [
      xT,
      x,
      dPool,
      argmax,
      dw,
      dBias,
      +accumulate,
      ...this.convArgs(g).slice(0, 11),
      g.outH,
      g.outW,
      pooled,
    ];
    if (xT !== 0) this.exec('poolConvBackwardWeight', this.pick(xN, GRAIN_ELEMENTS, g.batch), [0, ...rest]);
    this.exec('poolConvBackwardWeight', nth, [1, ...rest]);
  }

  /** dw (+)= sum_b corr(x, dOut), dBias (+)= sum of dOut (`dBias` 0: none). */
  conv2dBackwardWeightPtr(g: Conv2dGeometry, x: Ptr, dOut: Ptr, dw: Ptr, dBias: Ptr, accumulate: boolean): void {
    const nth = this.convPrepare('conv2dBackwardWeightPtr', g);
    const rest = [x, dOut, dw, dBias, +accumulate, ...this.convArgs(g)];
    // Phase 1 sums the partials of exactly the threads that ran phase 0.
    this.exec('conv2dBackwardWeight', nth, [0, ...rest]);
    this.exec('conv2dBackwardWeight', nth, [1, ...rest]);
  }

  protected poolArgs(g: Pool2dGeometry): number[] {
    return [g.batch * g.channels, g.inH, g.inW, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW, g.outH, g.outW];
  }

  /** out/argmax `[B,C,outH,outW]`; argmax is an Int32 array (flat index in the input plane, -1: all padding). */
  maxPool2dForwardPtr(g: Pool2dGeometry, x: Ptr, out: Ptr, argmax: Ptr): void {
    checkPool('maxPool2dForwardPtr', g);
    const planes = g.batch * g.channels;
    const nth = this.pick(planes * g.outH * g.outW * g.kH * g.kW, GRAIN_ELEMENTS, planes);
    this.exec('maxPool2dForward', nth, [x, out, argmax, ...this.poolArgs(g)]);
  }

  maxPool2dBackwardPtr(g: Pool2dGeometry, dOut: Ptr, argmax: Ptr, dx: Ptr): void {
    checkPool('maxPool2dBackwardPtr', g);
    const planes = g.batch * g.channels;
    const nth = this.pick(planes * g.inH * g.inW, GRAIN_ELEMENTS, planes);
    this.exec('maxPool2dBackward', nth, [dOut, argmax, dx, planes, g.inH * g.inW, g.outH * g.outW]);
  }

  avgPool2dForwardPtr(g: Pool2dGeometry, x: Ptr, out: Ptr): void {
    checkPool('avgPool2dForwardPtr', g);
    const planes = g.batch * g.channels;
    const nth = this.pick(planes * g.outH * g.outW * g.kH * g.kW, GRAIN_ELEMENTS, planes);
    this.exec('avgPool2dForward', nth, [x, out, ...this.poolArgs(g)]);
  }

  avgPool2dBackwardPtr(g: Pool2dGeometry, dOut: Ptr, dx: Ptr): void {
    checkPool('avgPool2dBackwardPtr', g);
    const planes = g.batch * g.channels;
    const nth = this.pick(planes * g.outH * g.outW * g.kH * g.kW, GRAIN_ELEMENTS, planes);
    this.exec('avgPool2dBackward', nth, [dOut, dx, ...this.poolArgs(g)]);
  }

  /** out = x > 0 ? x : 0 over n floats (NaN -> 0); out may be x. */
  reluPtr(n: number, x: Ptr, out: Ptr): void {
    count('reluPtr', 'n', n);
    this.exec('relu', this.pick(n, GRAIN_ELEMENTS * 4), [n, x, out]);
  }

  /** dx = y > 0 ? dy : 0 over n floats; dx may be dy. */
  reluBackwardPtr(n: number, y: Ptr, dy: Ptr, dx: Ptr): void {
    count('reluBackwardPtr', 'n', n);
    this.exec('reluBackward', this.pick(n, GRAIN_ELEMENTS * 4), [n, y, dy, dx]);
  }

  /** Entries of the int32 array at p[0, n) outside [lo, hi] (one thread: a vector compare per 4 entries). */
  countOutsidePtr(p: Ptr, n: number, lo: number, hi: number): number {
    count('countOutsidePtr', 'n', n);
    return this.exports.countOutsideI32(p, n, lo, hi);
  }

  logSoftmaxPtr(rows: number, cols: number, x: Ptr, out: Ptr): void {
    count('logSoftmaxPtr', 'rows', rows);
    count('logSoftmaxPtr', 'cols', cols);
    this.exec('logSoftmax', this.pick(rows * cols, GRAIN_ELEMENTS, rows), [rows, cols, x, out]);
  }

  protected lifCommon(where: string, p: LifArgs): number[] {
    count(where, 'steps', p.steps);
    count(where, 'neurons', p.neurons);
    const reset = RESET[p.reset];
    if (reset === undefined) {
      throw new KernelArgumentError(
        `WasmEngine.${where} (src/backend/wasm/engine-dense.ts): reset must be 'subtract', 'zero' or 'none', got ${String(p.reset)}`,
      );
    }
    return [p.steps, p.neurons, p.beta, p.threshold, reset];
  }

  /** Fused LIF forward over T steps: x `[T,N]` (`[N]` static), mem0 `[N]` -> spk, mem `[T,N]` (mem 0: not recorded). */
  lifForwardPtr(p: LifArgs, x: Ptr, mem0: Ptr, spk: Ptr, mem: Ptr): void {
    const head = this.lifCommon('lifForwardPtr', p);
    const nth = this.pick(p.steps * p.neurons, GRAIN_ELEMENTS, Math.ceil(p.neurons / 16));
    this.ensureWorkspace(this.exports.lifWorkspace());
    this.exec('lifForward', nth, [...head, x, p.staticInput ? 0 : p.neurons, mem0, spk, mem]);
  }

  /** Fused LIF backward (BPTT, reset detached); `dMem` 0: no gradient into the recorded membranes. */
  lifBackwardPtr(p: LifArgs, mem: Ptr, mem0: Ptr, dSpk: Ptr, dMem: Ptr, dx: Ptr, dMem0: Ptr): void {
    const head = this.lifCommon('lifBackwardPtr', p);
    const s = p.surrogate;
    let sg: number[];
    if (s.kind === 'fastSigmoid') sg = [0, s.slope, 0];
    else if (s.kind === 'atan') sg = [1, (Math.PI / 2) * s.alpha, s.alpha / 2];
    else {
      throw new KernelArgumentError(
        `WasmEngine.lifBackwardPtr (src/backend/wasm/engine-dense.ts): surrogate.kind must be 'fastSigmoid' or 'atan', got ${JSON.stringify(s)}`,
      );
    }
    const nth = this.pick(p.steps * p.neurons, GRAIN_ELEMENTS, Math.ceil(p.neurons / 16));
    this.ensureWorkspace(this.exports.lifWorkspace());
    this.exec('lifBackward', nth, [...head, ...sg, mem, mem0, dSpk, dMem, dx, dMem0, p.staticInput ? 1 : 0]);
  }

  /** In-place Adam on `n` elements (PyTorch semantics, see AdamArgs); `vMax` 0 unless amsgrad. */
  adamStepPtr(a: AdamArgs, n: number, param: Ptr, grad: Ptr, m: Ptr, v: Ptr, vMax: Ptr): void {
    count('adamStepPtr', 'n', n);
    if (!Number.isInteger(a.step) || a.step < 1) {
      throw new KernelArgumentError(
        `WasmEngine.adamStepPtr (src/backend/wasm/engine-dense.ts): step must be an integer >= 1 (1-based, after increment), got ${a.step}`,
      );
    }
    if (a.amsgrad && vMax === 0) {
      throw new KernelArgumentError(
        'WasmEngine.adamStepPtr (src/backend/wasm/engine-dense.ts): amsgrad needs a vMax buffer, got none',
      );
    }
    // PyTorch computes the bias corrections in float64 and casts every scalar to float32 (see kernels/adam.ts).
    const fr = Math.fround;
    const negStep = fr(-(a.lr / (1 - a.beta1 ** a.step)));
    const bc2Sqrt = fr(Math.sqrt(1 - a.beta2 ** a.step));
    const scalars = [
      fr(a.beta1),
      fr(a.beta2),
      fr(1 - a.beta1),
      fr(1 - a.beta2),
      fr(a.eps),
      fr(a.weightDecay),
      +(a.weightDecay !== 0),
    ];
    this.exec('adamStep', this.pick(n, GRAIN_ELEMENTS), [
      n,
      param,
      grad,
      m,
      v,
      vMax,
      ...scalars,
      negStep,
      bc2Sqrt,
      +a.amsgrad,
    ]);
  }
}
