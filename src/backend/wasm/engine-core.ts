import type { Conv2dGeometry, Pool2dGeometry } from '../backend.js';
import { KernelArgumentError } from '../reference/check.js';
import { type SimdLevel, loadKernels } from './load.js';
import { ALIGN, Arena, WasmHeap } from './memory.js';
import { type KernelFn, ThreadPool, atomicsWaitAllowed, availableCores } from './threads.js';
import { CTRL } from './worker-source.js';

/**
 * The plumbing under `WasmEngine` (./engine.ts): memory, allocators, the kernel module's instance on this thread,
 * the thread pool, per-thread scratch, and dispatch of an export to N threads. Kernel methods live in the subclass.
 */

/** A byte offset into the engine's memory; 0 stands for "none" where an argument is optional. */
export type Ptr = number;

export interface WasmEngineOptions {
  /** Threads including the caller; default: the machine's logical cores. Forced to 1 where Atomics.wait is not allowed. */
  threads?: number;
  /** 'auto' (default): relaxed SIMD when the engine validates it, else SIMD128. */
  simd?: SimdLevel | 'auto';
  /** Upper bound of the memory in MiB (default 4096, the wasm32 limit; lowered automatically if refused). */
  maxMemoryMiB?: number;
  /** Atomics.load polls before a thread sleeps (default 2000): lower wake-up latency for a little idle CPU. */
  spin?: number;
  /**
   * 'auto' (default): a kernel wakes only as many threads as its size pays for. 'always': every kernel is split
   * across all threads however small (tests use it to exercise the threaded paths on small inputs).
   */
  split?: 'auto' | 'always';
}

export interface KernelExports {
  heapBase(): number;
  fmaPeak(iterations: number, x: number): number;
  gemmWorkspace(m: number, n: number, k: number): number;
  conv2dWorkspace(inC: number, outC: number, kH: number, kW: number, outH: number, outW: number): number;
  poolConvBackwardInputWorkspace(
    inC: number,
    inH: number,
    inW: number,
    outC: number,
    kH: number,
    kW: number,
    padH: number,
    padW: number,
    outH: number,
    outW: number,
    pooled: number,
  ): number;
  spikePoolConv2dWorkspace(
    inC: number,
    inH: number,
    inW: number,
    outC: number,
    kH: number,
    kW: number,
    outH: number,
    outW: number,
  ): number;
  spikePoolConv2dPartials(inC: number, kH: number, kW: number, outC: number): number;
  spikeGemmWorkspace(k: number): number;
  lifWorkspace(): number;
  conv2dForwardWorkspace(inC: number, outC: number, kH: number, kW: number, outW: number): number;
  conv2dWinogradWorkspace(inC: number, outC: number, outH: number, outW: number): number;
  poolConvBackwardWeightWorkspace(
    batch: number,
    pooled: number,
    convPlane: number,
    inC: number,
    kH: number,
    kW: number,
  ): number;
  countOutsideI32(a: number, n: number, lo: number, hi: number): number;
  spikeConv2dWorkspace(
    inC: number,
    inW: number,
    outC: number,
    kH: number,
    kW: number,
    outH: number,
    outW: number,
  ): number;
  spikeConv2dPoolWorkspace(
    inC: number,
    inH: number,
    inW: number,
    outC: number,
    kH: number,
    kW: number,
    outH: number,
    outW: number,
    pooled: number,
  ): number;
}

/** Exports run through the thread pool, in FN-slot order (worker and caller agree on the index). */
export const KERNELS = [
  'gemm',
  'conv2dForward',
  'conv2dBackwardInput',
  'conv2dBackwardWeight',
  'maxPool2dForward',
  'maxPool2dBackward',
  'avgPool2dForward',
  'avgPool2dBackward',
  'logSoftmax',
  'lifForward',
  'lifBackward',
  'adamStep',
  'spikeGemm',
  'spikeGemmWeightGrad',
  'countNonzero',
  'spikeConv2dForward',
  'spikeConv2dBackwardWeight',
  'poolConvBackwardInput',
  'spikeConv2dPoolForward',
  'spikePoolConv2dBackwardWeight',
  'poolConvBackwardWeight',
  'relu',
  'reluBackward',
  'conv2dForwardWinograd',
  'gemmBlocked',
] as const;
export type KernelExport = (typeof KERNELS)[number];

/** Work (flops or elements) below which one more thread costs more in wake-up latency than it saves. */
export const GRAIN_FLOPS = 2e6;
export const GRAIN_ELEMENTS = 1 << 16;

export function count(where: string, field: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) {
    throw new KernelArgumentError(
      `WasmEngine.${where} (src/backend/wasm/engine.ts): ${field} must be an integer >= 0, got ${v}`,
    );
  }
  return v;
}

export function checkConv(where: string, g: Conv2dGeometry): void {
  for (const f of ['batch', 'inC', 'inH', 'inW', 'outC', 'kH', 'kW', 'padH', 'padW', 'outH', 'outW'] as const)
    count(where, `g.${f}`, g[f]);
  if (!(g.strideH >= 1 && g.strideW >= 1 && Number.isInteger(g.strideH) && Number.isInteger(g.strideW))) {
    throw new KernelArgumentError(
      `WasmEngine.${where} (src/backend/wasm/engine.ts): stride must be a positive integer, got [${g.strideH}, ${g.strideW}]`,
    );
  }
}

export function checkPool(where: string, g: Pool2dGeometry): void {
  for (const f of ['batch', 'channels', 'inH', 'inW', 'padH', 'padW', 'outH', 'outW'] as const)
    count(where, `g.${f}`, g[f]);
  for (const f of ['kH', 'kW', 'strideH', 'strideW'] as const) {
    if (!(Number.isInteger(g[f]) && g[f] >= 1)) {
      throw new KernelArgumentError(
        `WasmEngine.${where} (src/backend/wasm/engine.ts): g.${f} must be a positive integer, got ${g[f]}`,
      );
    }
  }
}

/** The pool must read exactly the conv's output `[batch, outC, outH, outW]`. */
export function checkPoolReadsConv(where: string, conv: Conv2dGeometry, pool: Pool2dGeometry): void {
  checkConv(where, conv);
  checkPool(where, pool);
  const want = [conv.batch, conv.outC, conv.outH, conv.outW];
  const got = [pool.batch, pool.channels, pool.inH, pool.inW];
  if (got.some((v, i) => v !== want[i])) {
    throw new KernelArgumentError(
      `WasmEngine.${where} (src/backend/wasm/engine.ts): the pool must read the conv output [batch, outC, outH, outW] = ` +
        `[${want.join(', ')}], got pool [batch, channels, inH, inW] = [${got.join(', ')}]`,
    );
  }
}

/** A shared memory reserves its maximum up front: halve the reservation until the engine accepts it. */
function createMemory(maxPages: number, wantShared: boolean): { memory: WebAssembly.Memory; shared: boolean } {
  for (const shared of wantShared ? [true, false] : [false]) {
    for (let pages = maxPages; pages >= 256; pages = Math.floor(pages / 2)) {
      try {
        return { memory: new WebAssembly.Memory({ initial: 64, maximum: pages, shared }), shared };
      } catch {
        // try a smaller reservation, then an unshared memory
      }
    }
  }
  throw new KernelArgumentError(
    'WasmEngine.create (src/backend/wasm/engine-core.ts): cannot allocate a wasm memory of at least 16 MiB',
  );
}

/** What `EngineCore.start` hands to the constructor. */
export type EngineParts = [
  memory: WebAssembly.Memory,
  exports: KernelExports,
  pool: ThreadPool | null,
  threads: number,
  simd: SimdLevel,
  base: number,
  splitAlways: boolean,
];

export class EngineCore {
  /** Persistent allocations (parameters, optimizer state): live until `free`. */
  readonly heap: WasmHeap;
  /** Per-step allocations, released together by `arena.reset()`. */
  readonly arena: Arena;
  private wsBase: Ptr = 0;
  private wsStride = 0;
  private readonly fns: KernelFn[];
  private disposed = false;

  protected constructor(
    readonly memory: WebAssembly.Memory,
    protected readonly exports: KernelExports,
    private readonly pool: ThreadPool | null,
    readonly threads: number,
    readonly simd: SimdLevel,
    base: number,
    private readonly splitAlways: boolean,
  ) {
    this.heap = new WasmHeap(memory, base);
    this.arena = new Arena(this.heap);
    const ex = exports as unknown as Record<string, KernelFn>;
    this.fns = KERNELS.map((n) => ex[n]!);
  }

  /** Loads the module, makes the memory and starts the pool: the constructor's arguments. */
  protected static async start(options: WasmEngineOptions): Promise<EngineParts> {
    const requested = options.threads ?? (await availableCores());
    if (!Number.isInteger(requested) || requested < 1) {
      throw new KernelArgumentError(
        `WasmEngine.create (src/backend/wasm/engine-core.ts): threads must be an integer >= 1, got ${requested}`,
      );
    }
    const canShare = typeof SharedArrayBuffer === 'function';
    const threads = canShare && atomicsWaitAllowed() ? requested : 1;
    const maxPages = Math.min(65536, Math.max(256, Math.floor(((options.maxMemoryMiB ?? 4096) * 1024 * 1024) / 65536)));
    const { memory, shared } = createMemory(maxPages, canShare);
    const kernels = await loadKernels({ simd: options.simd ?? 'auto', sharedMemory: shared });
    const instance = new WebAssembly.Instance(kernels.module, { env: { memory } });
    const exports = instance.exports as unknown as KernelExports;
    const ctrl = Math.ceil(exports.heapBase() / ALIGN) * ALIGN;
    const nThreads = shared ? threads : 1;
    const pool =
      nThreads > 1
        ? await ThreadPool.create({
            module: kernels.module,
            memory,
            ctrl,
            names: KERNELS,
            threads: nThreads,
            spin: options.spin ?? 2000,
          })
        : null;
    return [memory, exports, pool, nThreads, kernels.simd, ctrl + CTRL.BYTES, options.split === 'always'];
  }

  /** A Float32Array view of `len` floats at `ptr` (valid until the memory grows: take views right before use). */
  f32(ptr: Ptr, len: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, len);
  }

  i32(ptr: Ptr, len: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, len);
  }

  /** Persistent allocation of `len` floats (64-byte aligned); release with `free`. */
  alloc(len: number): Ptr {
    return this.heap.alloc(len * 4);
  }

  free(ptr: Ptr): void {
    this.heap.free(ptr);
  }

  /** Per-step allocation of `len` floats (or int32s) from the arena. */
  temp(len: number): Ptr {
    return this.arena.alloc(len * 4);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool?.dispose();
  }

  /** Threads worth waking for `work` units when each thread should get at least `grain`. */
  protected pick(work: number, grain: number, maxUnits = Infinity): number {
    if (this.splitAlways) return this.threads;
    return Math.max(1, Math.min(this.threads, Math.floor(work / grain), maxUnits));
  }

  protected ensureWorkspace(bytes: number): void {
    if (bytes <= this.wsStride) return;
    if (this.wsBase !== 0) this.heap.free(this.wsBase);
    this.wsStride = Math.ceil(bytes / 65536) * 65536;
    this.wsBase = this.heap.alloc(this.wsStride * this.threads);
  }

  private shared: Ptr = 0;
  private sharedBytes = 0;

  /**
   * One grow-only scratch block that every thread of a kernel reads (e.g. a re-laid-out operand written in a first
   * phase); its contents do not survive the next kernel call.
   */
  protected sharedScratch(bytes: number): Ptr {
    if (bytes > this.sharedBytes) {
      if (this.shared !== 0) this.heap.free(this.shared);
      this.sharedBytes = Math.ceil(bytes / 65536) * 65536;
      this.shared = this.heap.alloc(this.sharedBytes);
    }
    return this.shared;
  }

  private counter: Ptr = 0;

  /** The address of a zeroed int32 work counter, for a kernel whose threads claim units from it (kernels/simd.ts). */
  protected workCounter(): Ptr {
    if (this.counter === 0) this.counter = this.heap.alloc(64);
    this.i32(this.counter, 1)[0] = 0;
    return this.counter;
  }

  /** A small persistent int32 buffer, one slot per thread (kernels that return per-thread results). */
  private slots: Ptr = 0;

  protected threadSlots(): Ptr {
    if (this.slots === 0) this.slots = this.heap.alloc(Math.max(16, this.threads) * 4);
    return this.slots;
  }

  protected exec(name: KernelExport, nth: number, args: number[]): void {
    const index = KERNELS.indexOf(name);
    const fn = this.fns[index]!;
    const all = [this.wsBase, this.wsStride, ...args];
    if (nth <= 1 || this.pool === null) fn(0, 1, ...all);
    else this.pool.run(index, name, fn, nth, all);
  }
}
