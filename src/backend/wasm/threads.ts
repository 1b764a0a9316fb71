import { CTRL, WORKER_SOURCE } from './worker-source.js';

/**
 * N kernel instances over one shared memory: the calling thread is thread 0, workers are threads 1..N-1.
 *
 * Protocol (control block of Int32 slots + float64 argument slots in shared memory, see CTRL):
 *  1. the caller writes FN, NTH, NARGS and the arguments, zeroes DONE, then increments GEN and notifies it;
 *  2. every worker wakes (brief spin, then Atomics.wait on GEN), runs `fn(tid, nth, ...args)` if tid < NTH, and
 *     increments DONE; so every worker acknowledges every job and none can miss or repeat one;
 *  3. the caller runs its own share (tid 0) meanwhile, then waits until DONE = N-1.
 * Kernel calls therefore stay synchronous for the caller. Atomics.wait is allowed on Node's main thread and in Web
 * Workers, not on a browser's main thread: there the engine uses one thread (see `atomicsWaitAllowed`).
 */

export type KernelFn = (...args: number[]) => void;

/** Thrown when a kernel fails on a worker thread or the pool cannot start. */
export class WasmThreadError extends Error {
  override name = 'WasmThreadError';
}

interface WorkerLike {
  postMessage(msg: unknown): void;
  terminate(): unknown;
}

/** Whether this thread may block in Atomics.wait (false on a browser's main thread). */
export function atomicsWaitAllowed(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Logical cores of this machine (os.availableParallelism in Node, navigator.hardwareConcurrency in browsers). */
export async function availableCores(): Promise<number> {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (typeof p?.versions?.node === 'string') {
    const os = await import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

interface Started {
  worker: WorkerLike;
  ready: Promise<void>;
  errors: string[];
}

async function startWorker(init: Record<string, unknown>): Promise<Started> {
  const errors: string[] = [];
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (typeof p?.versions?.node === 'string') {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(WORKER_SOURCE, { eval: true });
    // A pool must never keep the process alive.
    w.unref();
    const ready = new Promise<void>((resolve, reject) => {
      w.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'error') {
          errors.push(m.message ?? 'unknown error');
          reject(new WasmThreadError(`wasm worker failed: ${m.message ?? 'unknown error'}`));
        }
      });
      w.on('error', (e: Error) => {
        errors.push(e.message);
        reject(e);
      });
    });
    w.postMessage(init);
    return { worker: w, ready, errors };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  const ready = new Promise<void>((resolve, reject) => {
    w.addEventListener('message', (ev: MessageEvent<{ type: string; message?: string }>) => {
      if (ev.data.type === 'ready') resolve();
      else if (ev.data.type === 'error') {
        errors.push(ev.data.message ?? 'unknown error');
        reject(new WasmThreadError(`wasm worker failed: ${ev.data.message ?? 'unknown error'}`));
      }
    });
    w.addEventListener('error', (ev: ErrorEvent) => {
      errors.push(ev.message);
      reject(new WasmThreadError(`wasm worker failed: ${ev.message}`));
    });
  });
  w.postMessage(init);
  URL.revokeObjectURL(url);
  return { worker: w, ready, errors };
}

export interface ThreadPoolOptions {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of the control block (CTRL.BYTES bytes) in the shared memory. */
  ctrl: number;
  /** Export names, indexed by the FN slot. */
  names: readonly string[];
  /** Total threads including the caller (>= 2). */
  threads: number;
  /** Atomics.load polls before sleeping in Atomics.wait: trades idle CPU for wake-up latency. */
  spin: number;
}

export class ThreadPool {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private disposed = false;

  private constructor(
    private readonly workers: Started[],
    memory: WebAssembly.Memory,
    ctrl: number,
    readonly threads: number,
    private readonly spin: number,
  ) {
    this.i32 = new Int32Array(memory.buffer, ctrl, 16);
    this.f64 = new Float64Array(memory.buffer, ctrl + CTRL.ARGS_BYTE, CTRL.MAX_ARGS);
  }

  static async create(o: ThreadPoolOptions): Promise<ThreadPool> {
    new Int32Array(o.memory.buffer, o.ctrl, 16).fill(0);
    const started: Started[] = [];
    for (let tid = 1; tid < o.threads; tid++) {
      started.push(
        await startWorker({
          module: o.module,
          memory: o.memory,
          ctrl: o.ctrl,
          names: o.names,
          tid,
          spin: o.spin,
          gen: 0,
        }),
      );
    }
    try {
      await Promise.all(started.map((s) => s.ready));
    } catch (e) {
      for (const s of started) void s.worker.terminate();
      throw new WasmThreadError(
        `src/backend/wasm/threads.ts: cannot start ${o.threads - 1} wasm worker(s): ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return new ThreadPool(started, o.memory, o.ctrl, o.threads, o.spin);
  }

  /** Runs `fn` (thread 0's instance export number `fnIndex`) on `nth` threads; returns when all are done. */
  run(fnIndex: number, name: string, fn: KernelFn, nth: number, args: readonly number[]): void {
    if (this.disposed) throw new WasmThreadError(`wasm engine disposed: cannot run ${name}`);
    if (args.length > CTRL.MAX_ARGS)
      throw new WasmThreadError(`${name}: ${args.length} arguments, at most ${CTRL.MAX_ARGS}`);
    const { i32, f64 } = this;
    i32[CTRL.FN] = fnIndex;
    i32[CTRL.NARGS] = args.length;
    i32[CTRL.NTH] = nth;
    i32[CTRL.ERROR] = 0;
    for (let i = 0; i < args.length; i++) f64[i] = args[i]!;
    Atomics.store(i32, CTRL.DONE, 0);
    Atomics.add(i32, CTRL.GEN, 1);
    Atomics.notify(i32, CTRL.GEN);
    let mainError: Error | null = null;
    try {
      fn(0, nth, ...args);
    } catch (e) {
      mainError =
        e instanceof Error ? e : new WasmThreadError(`wasm kernel ${name} failed on the calling thread: ${String(e)}`);
    }
    const want = this.workers.length;
    let done = Atomics.load(i32, CTRL.DONE);
    for (let s = 0; done < want && s < this.spin; s++) done = Atomics.load(i32, CTRL.DONE);
    while (done < want) {
      Atomics.wait(i32, CTRL.DONE, done);
      done = Atomics.load(i32, CTRL.DONE);
    }
    if (mainError !== null) throw mainError;
    const failed = Atomics.load(i32, CTRL.ERROR);
    if (failed !== 0) {
      throw new WasmThreadError(
        `wasm kernel ${name} failed on worker thread ${failed} (a trap: out-of-bounds pointer or size)`,
      );
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.i32, CTRL.QUIT, 1);
    Atomics.add(this.i32, CTRL.GEN, 1);
    Atomics.notify(this.i32, CTRL.GEN);
    for (const s of this.workers) void s.worker.terminate();
  }
}
