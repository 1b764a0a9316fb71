import type { BufferProvider, Conv2dGeometry, Pool2dGeometry } from '../backend.js';
import { KernelArgumentError } from '../reference/check.js';
import type { Ptr, WasmEngine } from './engine.js';

// The Float32Array side of the wasm backend: argument checks naming the kernel and the field, and the bridge that
// lets kernels read and write arrays in the engine's memory in place (any other array is copied into the arena).

export function need(kernel: string, field: string, arr: ArrayLike<number>, n: number): void {
  if (arr.length < n) {
    throw new KernelArgumentError(
      `wasm.${kernel} (src/backend/wasm/array-bridge.ts): ${field} has ${arr.length} elements, needs ${n}`,
    );
  }
}

export function convSizes(g: Conv2dGeometry): { x: number; w: number; out: number } {
  return {
    x: g.batch * g.inC * g.inH * g.inW,
    w: g.outC * g.inC * g.kH * g.kW,
    out: g.batch * g.outC * g.outH * g.outW,
  };
}

export function poolSizes(g: Pool2dGeometry): { x: number; out: number } {
  const planes = g.batch * g.channels;
  return { x: planes * g.inH * g.inW, out: planes * g.outH * g.outW };
}

/** A pool that follows a conv reads exactly the conv's output. */
export function checkPoolReadsConv(kernel: string, conv: Conv2dGeometry, pool: Pool2dGeometry): void {
  if (pool.batch !== conv.batch || pool.channels !== conv.outC || pool.inH !== conv.outH || pool.inW !== conv.outW) {
    throw new KernelArgumentError(
      `wasm.${kernel} (src/backend/wasm/array-bridge.ts): the pool geometry does not read the conv output`,
    );
  }
}

/**
 * The checks shared by the kernels of a conv followed by a max-pool, fed by the pool's gradient: the pool reads
 * the conv's output, and dPool and argmax are long enough (argmax values: `checkArgmax` once they are in engine
 * memory). Returns the pooled element count.
 */
export function checkPoolGradient(
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
export const SKIP_NEGATIVE = -0x80000000;

/**
 * Every argmax lies in [lo, plane) (lo = -1: a window entirely in the padding; SKIP_NEGATIVE: any negative entry is
 * skipped), so kernels never touch memory outside the plane. Counted in wasm (`p` is the argmax in engine memory):
 * a JS loop over a view of the shared memory cost 1 ms per training step.
 */
export function checkArgmax(kernel: string, engine: WasmEngine, p: Ptr, n: number, plane: number, lo = -1): void {
  const bad = engine.countOutsidePtr(p, n, lo, plane - 1);
  if (bad > 0) {
    const values = engine.i32(p, n);
    const i = values.findIndex((v) => v < lo || v >= plane);
    throw new KernelArgumentError(
      `wasm.${kernel} (src/backend/wasm/array-bridge.ts): argmax[${i}] = ${values[i]} (and ${bad - 1} more) is outside the ${plane}-element plane`,
    );
  }
}

/**
 * Arrays in and out of the engine: arrays from `buffers` live in the engine's memory and kernels use them in place;
 * any other array is copied into the engine's arena (inputs) or written there and copied back (outputs), with the
 * arena reset after the call (`scoped`).
 */
export abstract class ArrayBridge {
  constructor(readonly engine: WasmEngine) {}

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

  protected track(p: Ptr): Ptr {
    this.ownBuffers.add(this.engine.memory.buffer);
    return p;
  }

  protected isOurs(arr: Float32Array | Int32Array): boolean {
    return this.ownBuffers.has(arr.buffer);
  }

  /** Pointer to an output: the array itself when it lives in the engine's memory, else arena scratch. */
  protected out(arr: Float32Array | Int32Array, n: number): Ptr {
    return this.isOurs(arr) ? arr.byteOffset : this.engine.temp(n);
  }

  /** Pointer to an input: the array itself when it lives in the engine's memory, else a copy in the arena. */
  protected put(arr: Float32Array | Int32Array, n: number): Ptr {
    if (this.isOurs(arr)) return arr.byteOffset;
    const p = this.engine.temp(n);
    if (arr instanceof Int32Array) this.engine.i32(p, n).set(arr.subarray(0, n));
    else this.engine.f32(p, n).set(arr.subarray(0, n));
    return p;
  }

  protected get(p: Ptr, into: Float32Array | Int32Array, n: number): void {
    if (this.isOurs(into) && into.byteOffset === p) return;
    if (into instanceof Int32Array) into.set(this.engine.i32(p, n));
    else into.set(this.engine.f32(p, n));
  }

  /** Runs `body` with the arena released afterwards, even if the kernel throws. */
  protected scoped(body: () => void): void {
    try {
      body();
    } finally {
      this.engine.arena.reset();
    }
  }
}
