import type { AdamArgs, Backend, GemmArgs, LifArgs } from '../backend.js';
import { KernelArgumentError } from '../reference/check.js';
import { need } from './array-bridge.js';
import { ConvPoolKernels } from './conv-pool-kernels.js';
import { WasmEngine, type WasmEngineOptions } from './engine.js';
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

class WasmBackendImpl extends ConvPoolKernels implements WasmBackend {
  readonly name = 'wasm';

  get threads(): number {
    return this.engine.threads;
  }

  get simd(): SimdLevel {
    return this.engine.simd;
  }

  dispose(): void {
    this.engine.dispose();
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
