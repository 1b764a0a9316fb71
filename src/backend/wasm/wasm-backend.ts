import type {
  AdamArgs,
  Backend,
  BufferProvider,
  Conv2dGeometry,
  ConvForwardOptions,
  GemmArgs,
  LifArgs,
  Pool2dGeometry,
} from '../backend.js';
import { KernelArgumentError } from '../reference/check.js';
import { type Ptr, WasmEngine, type WasmEngineOptions } from './engine.js';
import type { SimdLevel } from './load.js';

/**
 * The wasm kernels behind the `Backend` contract (Float32Array in, Float32Array out). Arrays from `buffers` live in
 * the engine's memory and are used in place; any other array is copied into the engine's arena, and outputs copied
 * back, with the arena reset after the call (O(n) next to the O(n^1.5) work of a GEMM or convolution).
 */
export interface WasmBackend extends Backend {
  readonly threads: number;
  readonly simd: SimdLevel;
  /** The engine underneath (shared memory, allocators, pointer kernels). */
  readonly engine: WasmEngine;
  /** Stops the worker threads; the backend is unusable afterwards. */
  dispose(): void;
}

function need(kernel: string, field: string, arr: ArrayLike<number>, n: number): void {
  if (arr.length < n) {
    throw new KernelArgumentError(
      `wasm.${kernel} (src/backend/wasm/wasm-backend.ts): ${field} has ${arr.length} elements, needs ${n}`,
    );
  }
}

function convSizes(g: Conv2dGeometry): { x: number; w: number; out: number } {
  return {
    x: g.batch * g.inC * g.inH * g.inW,
    w: g.outC * g.inC * g.kH * g.kW,
    out: g.batch * g.outC * g.outH * g.outW,
  };
}

function poolSizes(g: Pool2dGeometry): { x: number; out: number } {
  const planes = g.batch * g.channels;
  return { x: planes * g.inH * g.inW, out: planes * g.outH * g.outW };
}

/** A pool that follows a conv reads exactly the conv's output. */
function checkPoolReadsConv(kernel: string, conv: Conv2dGeometry, pool: Pool2dGeometry): void {
  if (pool.batch !== conv.batch || pool.channels !== conv.outC || pool.inH !== conv.outH || pool.inW !== conv.outW) {
    throw new KernelArgumentError(
      `wasm.${kernel} (src/backend/wasm/wasm-backend.ts): the pool geometry does not read the conv output`,
    );
  }
}

/**
 * The checks shared by the kernels of a conv followed by a max-pool, fed by the pool's gradient: the pool reads
 * the conv's output, and dPool and argmax are long enough (argmax values: `checkArgmax` once they are in engine
 * memory). Returns the pooled element count.
 */
function checkPoolGradient(
  kernel: string,
  conv: Conv2dGeometry,
  pool: Pool2dGeometry,
  dPool: Float32Array,
  argmax: Int32Array,
): number {
  checkPoolReadsConv(kernel, conv, pool);
  const pooled = poolSizes(pool).out;
  need(kernel, 'dPool', dPool, pooled);
  need(kernel, 'argmax', argmax, pooled);
  return pooled;
}

/** Smallest argmax of the kernels that skip every negative entry (no window) instead of allowing only -1. */
const SKIP_NEGATIVE = -0x80000000;

/**
 * Every argmax lies in [lo, plane) (lo = -1: a window entirely in the padding; SKIP_NEGATIVE: any negative entry is
 * skipped), so kernels never touch memory outside the plane. Counted in wasm (`p` is the argmax in engine memory):
 * a JS loop over a view of the shared memory cost 1 ms per training step.
 */
function checkArgmax(kernel: string, engine: WasmEngine, p: Ptr, n: number, plane: number, lo = -1): void {
  const bad = engine.countOutsidePtr(p, n, lo, plane - 1);
  if (bad > 0) {
    const values = engine.i32(p, n);
    const i = values.findIndex((v) => v < lo || v >= plane);
    throw new KernelArgumentError(
      `wasm.${kernel} (src/backend/wasm/wasm-backend.ts): argmax[${i}] = ${values[i]} (and ${bad - 1} more) is outside the ${plane}-element plane`,
    );
  }
}

class WasmBackendImpl implements WasmBackend {
  readonly name = 'wasm';

  constructor(readonly engine: WasmEngine) {}

  get threads(): number {
    return this.engine.threads;
  }

  get simd(): SimdLevel {
    return this.engine.simd;
  }

  dispose(): void {
    this.engine.dispose();
  }

  /**
   * Buffers in the engine's own memory: kernels read and write them in place (see `put`/`out`/`get`), which is what
   * lets the fused SNN plan run with no copy per op.
   */
  readonly buffers: BufferProvider = {
    f32: (length) => this.engine.f32(this.track(this.engine.alloc(Math.max(1, length))), length),
    i32: (length) => this.engine.i32(this.track(this.engine.alloc(Math.max(1, length))), length),
    free: (buffer) => {
      if (this.isOurs(buffer)) this.engine.free(buffer.byteOffset);
    },
  };

  /** Every ArrayBuffer the engine's memory has been seen as (a shared memory gets a new one when it grows). */
  private readonly ownBuffers = new WeakSet<ArrayBufferLike>();

  private track(p: Ptr): Ptr {
    this.ownBuffers.add(this.engine.memory.buffer);
    return p;
  }

  private isOurs(arr: Float32Array | Int32Array): boolean {
    return this.ownBuffers.has(arr.buffer);
  }

  /** Pointer to an output: the array itself when it lives in the engine's memory, else arena scratch. */
  private out(arr: Float32Array | Int32Array, n: number): Ptr {
    return this.isOurs(arr) ? arr.byteOffset : this.engine.temp(n);
  }

  /** Pointer to an input: the array itself when it lives in the engine's memory, else a copy in the arena. */
  private put(arr: Float32Array | Int32Array, n: number): Ptr {
    if (this.isOurs(arr)) return arr.byteOffset;
    const p = this.engine.temp(n);
    if (arr instanceof Int32Array) this.engine.i32(p, n).set(arr.subarray(0, n));
    else this.engine.f32(p, n).set(arr.subarray(0, n));
    return p;
  }

  private get(p: Ptr, into: Float32Array | Int32Array, n: number): void {
    if (this.isOurs(into) && into.byteOffset === p) return;
    if (into instanceof Int32Array) into.set(this.engine.i32(p, n));
    else into.set(this.engine.f32(p, n));
  }

  /** Runs `body` with the arena released afterwards, even if the kernel throws. */
  private scoped(body: () => void): void {
    try {
      body();
    } finally {
      this.engine.arena.reset();
    }
  }

  gemm(args: GemmArgs): void {
    const { m, n, k } = args;
    need('gemm', 'a', args.a, m * k);
    need('gemm', 'b', args.b, k * n);
    need('gemm', 'c', args.c, m * n);
    this.scoped(() => {
      const a = this.put(args.a, m * k);
      const b = this.put(args.b, k * n);
      const c = args.accumulate ? this.put(args.c, m * n) : this.out(args.c, m * n);
      this.engine.gemmPtr({ ...args, a, b, c });
      this.get(c, args.c, m * n);
    });
  }

  conv2dForward(
    g: Conv2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    options: ConvForwardOptions = {},
  ): void {
    this.convForward('conv2dForward', g, x, w, bias, out, (px, pw, pb, po) =>
      this.engine.conv2dForwardPtr(g, px, pw, pb, po, options.winograd ? 'auto' : 'direct'),
    );
  }

  conv2dBackwardInput(g: Conv2dGeometry, dOut: Float32Array, w: Float32Array, dx: Float32Array): void {
    const s = convSizes(g);
    need('conv2dBackwardInput', 'dOut', dOut, s.out);
    need('conv2dBackwardInput', 'w', w, s.w);
    need('conv2dBackwardInput', 'dx', dx, s.x);
    this.scoped(() => {
      const pg = this.put(dOut, s.out);
      const pw = this.put(w, s.w);
      const px = this.out(dx, s.x);
      this.engine.conv2dBackwardInputPtr(g, pg, pw, px);
      this.get(px, dx, s.x);
    });
  }

  conv2dBackwardWeight(
    g: Conv2dGeometry,
    x: Float32Array,
    dOut: Float32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void {
    this.convWeight('conv2dBackwardWeight', g, x, dOut, dw, dBias, accumulate, (px, pg, pw, pb) =>
      this.engine.conv2dBackwardWeightPtr(g, px, pg, pw, pb, accumulate),
    );
  }

  spikeConv2dForward(
    g: Conv2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
  ): void {
    this.convForward('spikeConv2dForward', g, x, w, bias, out, (px, pw, pb, po) =>
      this.engine.spikeConv2dForwardPtr(g, px, pw, pb, po),
    );
  }

  spikeConv2dBackwardWeight(
    g: Conv2dGeometry,
    x: Float32Array,
    dOut: Float32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void {
    this.convWeight('spikeConv2dBackwardWeight', g, x, dOut, dw, dBias, accumulate, (px, pg, pw, pb) =>
      this.engine.spikeConv2dBackwardWeightPtr(g, px, pg, pw, pb, accumulate),
    );
  }

  spikeConv2dPoolForward(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    argmax: Int32Array,
  ): void {
    const name = 'spikeConv2dPoolForward';
    if (pool.batch !== conv.batch || pool.channels !== conv.outC || pool.inH !== conv.outH || pool.inW !== conv.outW) {
      throw new KernelArgumentError(
        `wasm.${name} (src/backend/wasm/wasm-backend.ts): the pool geometry does not read the conv output`,
      );
    }
    const s = convSizes(conv);
    const pooled = poolSizes(pool).out;
    need(name, 'x', x, s.x);
    need(name, 'w', w, s.w);
    if (bias) need(name, 'bias', bias, conv.outC);
    need(name, 'out', out, pooled);
    need(name, 'argmax', argmax, pooled);
    this.scoped(() => {
      const [po, pa] = [this.out(out, pooled), this.out(argmax, pooled)];
      const pb = bias ? this.put(bias, conv.outC) : 0;
      this.engine.spikeConv2dPoolForwardPtr(conv, pool, this.put(x, s.x), this.put(w, s.w), pb, po, pa);
      this.get(po, out, pooled);
      this.get(pa, argmax, pooled);
    });
  }

  /** The Float32Array wrapper shared by the dense and spike forward convolutions: checks, places, runs `kernel`. */
  private convForward(
    name: string,
    g: Conv2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    kernel: (x: Ptr, w: Ptr, bias: Ptr, out: Ptr) => unknown,
  ): void {
    const s = convSizes(g);
    need(name, 'x', x, s.x);
    need(name, 'w', w, s.w);
    if (bias) need(name, 'bias', bias, g.outC);
    need(name, 'out', out, s.out);
    this.scoped(() => {
      const po = this.out(out, s.out);
      kernel(this.put(x, s.x), this.put(w, s.w), bias ? this.put(bias, g.outC) : 0, po);
      this.get(po, out, s.out);
    });
  }

  /** The wrapper shared by the dense and spike weight gradients (accumulate reads dw/dBias, else only writes them). */
  private convWeight(
    name: string,
    g: Conv2dGeometry,
    x: Float32Array,
    dOut: Float32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
    kernel: (x: Ptr, dOut: Ptr, dw: Ptr, dBias: Ptr) => unknown,
  ): void {
    const s = convSizes(g);
    need(name, 'x', x, s.x);
    need(name, 'dOut', dOut, s.out);
    need(name, 'dw', dw, s.w);
    if (dBias) need(name, 'dBias', dBias, g.outC);
    this.scoped(() => {
      const pw = accumulate ? this.put(dw, s.w) : this.out(dw, s.w);
      const pb = dBias ? (accumulate ? this.put(dBias, g.outC) : this.out(dBias, g.outC)) : 0;
      kernel(this.put(x, s.x), this.put(dOut, s.out), pw, pb);
      this.get(pw, dw, s.w);
      if (dBias) this.get(pb, dBias, g.outC);
    });
  }

  poolConv2dBackwardInput(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    dPool: Float32Array,
    argmax: Int32Array,
    w: Float32Array,
    dx: Float32Array,
  ): void {
    const name = 'poolConv2dBackwardInput';
    const s = convSizes(conv);
    const pooled = checkPoolGradient(name, conv, pool, dPool, argmax);
    need(name, 'w', w, s.w);
    need(name, 'dx', dx, s.x);
    this.scoped(() => {
      const pa = this.put(argmax, pooled);
      checkArgmax(name, this.engine, pa, pooled, conv.outH * conv.outW, SKIP_NEGATIVE);
      const px = this.out(dx, s.x);
      this.engine.poolConvBackwardInputPtr(conv, pool, this.put(dPool, pooled), pa, this.put(w, s.w), px);
      this.get(px, dx, s.x);
    });
  }

  spikePoolConv2dBackwardWeight(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    dPool: Float32Array,
    argmax: Int32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void {
    const name = 'spikePoolConv2dBackwardWeight';
    const s = convSizes(conv);
    const pooled = checkPoolGradient(name, conv, pool, dPool, argmax);
    need(name, 'x', x, s.x);
    need(name, 'dw', dw, s.w);
    if (dBias) need(name, 'dBias', dBias, conv.outC);
    this.scoped(() => {
      const pa = this.put(argmax, pooled);
      checkArgmax(name, this.engine, pa, pooled, conv.outH * conv.outW, SKIP_NEGATIVE);
      const pw = accumulate ? this.put(dw, s.w) : this.out(dw, s.w);
      const pb = dBias ? (accumulate ? this.put(dBias, conv.outC) : this.out(dBias, conv.outC)) : 0;
      const pd = this.put(dPool, pooled);
      this.engine.spikePoolConv2dBackwardWeightPtr(conv, pool, this.put(x, s.x), pd, pa, pw, pb, accumulate);
      this.get(pw, dw, s.w);
      if (dBias) this.get(pb, dBias, conv.outC);
    });
  }

  poolConv2dBackwardWeight(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    dPool: Float32Array,
    argmax: Int32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void {
    const name = 'poolConv2dBackwardWeight';
    const s = convSizes(conv);
    const pooled = checkPoolGradient(name, conv, pool, dPool, argmax);
    need(name, 'x', x, s.x);
    need(name, 'dw', dw, s.w);
    if (dBias) need(name, 'dBias', dBias, conv.outC);
    this.scoped(() => {
      const pa = this.put(argmax, pooled);
      checkArgmax(name, this.engine, pa, pooled, conv.outH * conv.outW);
      const pw = accumulate ? this.put(dw, s.w) : this.out(dw, s.w);
      const pb = dBias ? (accumulate ? this.put(dBias, conv.outC) : this.out(dBias, conv.outC)) : 0;
      this.engine.poolConvBackwardWeightPtr(
        conv,
        pool,
        this.put(x, s.x),
        this.put(dPool, pooled),
        pa,
        pw,
        pb,
        accumulate,
      );
      this.get(pw, dw, s.w);
      if (dBias) this.get(pb, dBias, conv.outC);
    });
  }

  maxPool2dForward(g: Pool2dGeometry, x: Float32Array, out: Float32Array, argmax: Int32Array): void {
    const s = poolSizes(g);
    need('maxPool2dForward', 'x', x, s.x);
    need('maxPool2dForward', 'out', out, s.out);
    need('maxPool2dForward', 'argmax', argmax, s.out);
    this.scoped(() => {
      const px = this.put(x, s.x);
      const po = this.out(out, s.out);
      const pa = this.out(argmax, s.out);
      this.engine.maxPool2dForwardPtr(g, px, po, pa);
      this.get(po, out, s.out);
      this.get(pa, argmax, s.out);
    });
  }

  maxPool2dBackward(g: Pool2dGeometry, dOut: Float32Array, argmax: Int32Array, dx: Float32Array): void {
    const s = poolSizes(g);
    need('maxPool2dBackward', 'dOut', dOut, s.out);
    need('maxPool2dBackward', 'argmax', argmax, s.out);
    need('maxPool2dBackward', 'dx', dx, s.x);
    this.scoped(() => {
      const pa = this.put(argmax, s.out);
      checkArgmax('maxPool2dBackward', this.engine, pa, s.out, g.inH * g.inW);
      const pg = this.put(dOut, s.out);
      const px = this.out(dx, s.x);
      this.engine.maxPool2dBackwardPtr(g, pg, pa, px);
      this.get(px, dx, s.x);
    });
  }

  avgPool2dForward(g: Pool2dGeometry, x: Float32Array, out: Float32Array): void {
    const s = poolSizes(g);
    need('avgPool2dForward', 'x', x, s.x);
    need('avgPool2dForward', 'out', out, s.out);
    this.scoped(() => {
      const px = this.put(x, s.x);
      const po = this.out(out, s.out);
      this.engine.avgPool2dForwardPtr(g, px, po);
      this.get(po, out, s.out);
    });
  }

  avgPool2dBackward(g: Pool2dGeometry, dOut: Float32Array, dx: Float32Array): void {
    const s = poolSizes(g);
    need('avgPool2dBackward', 'dOut', dOut, s.out);
    need('avgPool2dBackward', 'dx', dx, s.x);
    this.scoped(() => {
      const pg = this.put(dOut, s.out);
      const px = this.out(dx, s.x);
      this.engine.avgPool2dBackwardPtr(g, pg, px);
      this.get(px, dx, s.x);
    });
  }

  relu(n: number, x: Float32Array, out: Float32Array): void {
    need('relu', 'x', x, n);
    need('relu', 'out', out, n);
    this.scoped(() => {
      const px = this.put(x, n);
      const po = this.out(out, n);
      this.engine.reluPtr(n, px, po);
      this.get(po, out, n);
    });
  }

  reluBackward(n: number, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
    need('reluBackward', 'y', y, n);
    need('reluBackward', 'dy', dy, n);
    need('reluBackward', 'dx', dx, n);
    this.scoped(() => {
      const pdy = this.put(dy, n);
      const pdx = this.out(dx, n);
      this.engine.reluBackwardPtr(n, this.put(y, n), pdy, pdx);
      this.get(pdx, dx, n);
    });
  }

  logSoftmax(rows: number, cols: number, x: Float32Array, out: Float32Array): void {
    const n = rows * cols;
    need('logSoftmax', 'x', x, n);
    need('logSoftmax', 'out', out, n);
    this.scoped(() => {
      const px = this.put(x, n);
      this.engine.logSoftmaxPtr(rows, cols, px, px);
      this.get(px, out, n);
    });
  }

  lifForward(p: LifArgs, x: Float32Array, mem0: Float32Array, spk: Float32Array, mem: Float32Array | null): void {
    const tn = p.steps * p.neurons;
    const xn = p.staticInput ? p.neurons : tn;
    need('lifForward', 'x', x, xn);
    need('lifForward', 'mem0', mem0, p.neurons);
    need('lifForward', 'spk', spk, tn);
    if (mem) need('lifForward', 'mem', mem, tn);
    this.scoped(() => {
      const px = this.put(x, xn);
      const pm0 = this.put(mem0, p.neurons);
      const ps = this.out(spk, tn);
      const pm = mem ? this.out(mem, tn) : 0;
      this.engine.lifForwardPtr(p, px, pm0, ps, pm);
      this.get(ps, spk, tn);
      if (mem) this.get(pm, mem, tn);
    });
  }

  lifBackward(
    p: LifArgs,
    mem: Float32Array,
    mem0: Float32Array,
    dSpk: Float32Array,
    dMem: Float32Array | null,
    dx: Float32Array,
    dMem0: Float32Array,
  ): void {
    const tn = p.steps * p.neurons;
    need('lifBackward', 'mem', mem, tn);
    need('lifBackward', 'mem0', mem0, p.neurons);
    need('lifBackward', 'dSpk', dSpk, tn);
    if (dMem) need('lifBackward', 'dMem', dMem, tn);
    const xn = p.staticInput ? p.neurons : tn;
    need('lifBackward', 'dx', dx, xn);
    need('lifBackward', 'dMem0', dMem0, p.neurons);
    this.scoped(() => {
      const pm = this.put(mem, tn);
      const pm0 = this.put(mem0, p.neurons);
      const pds = this.put(dSpk, tn);
      const pdm = dMem ? this.put(dMem, tn) : 0;
      const pdx = this.out(dx, xn);
      const pd0 = this.out(dMem0, p.neurons);
      this.engine.lifBackwardPtr(p, pm, pm0, pds, pdm, pdx, pd0);
      this.get(pdx, dx, xn);
      this.get(pd0, dMem0, p.neurons);
    });
  }

  adamStep(
    a: AdamArgs,
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    vMax: Float32Array | null,
  ): void {
    const n = param.length;
    need('adamStep', 'grad', grad, n);
    need('adamStep', 'm', m, n);
    need('adamStep', 'v', v, n);
    if (a.amsgrad) {
      if (!vMax)
        throw new KernelArgumentError(
          'wasm.adamStep (src/backend/wasm/wasm-backend.ts): amsgrad needs a vMax buffer, got null',
        );
      need('adamStep', 'vMax', vMax, n);
    }
    this.scoped(() => {
      const pp = this.put(param, n);
      const pg = this.put(grad, n);
      const pm = this.put(m, n);
      const pv = this.put(v, n);
      const pvm = a.amsgrad && vMax ? this.put(vMax, n) : 0;
      this.engine.adamStepPtr(a, n, pp, pg, pm, pv, pvm);
      this.get(pp, param, n);
      this.get(pm, m, n);
      this.get(pv, v, n);
      if (a.amsgrad && vMax) this.get(pvm, vMax, n);
    });
  }
}

/** Starts a wasm engine (threads default: the machine's cores) and wraps it as a `Backend`. */
export async function createWasmBackend(options: WasmEngineOptions = {}): Promise<WasmBackend> {
  return new WasmBackendImpl(await WasmEngine.create(options));
}
