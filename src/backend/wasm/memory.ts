/**
 * Memory management of the wasm engine, all in JS over one `WebAssembly.Memory` (the kernels never allocate: they
 * take byte offsets). Two allocators share it:
 *  - `WasmHeap`: long-lived blocks (parameters, optimizer state, thread scratch), first-fit over a sorted free
 *    list with coalescing; the top of the heap grows the memory by whole 64 KiB pages when needed.
 *  - `Arena`: per-step bump allocation inside one heap block, released all at once by `reset()`. When a step needs
 *    more than the block, the overflow comes from the heap and the next `reset()` replaces the block by one of the
 *    step's high-water size, so a repeated step allocates the same addresses every time and memory stops growing.
 * Pointers are byte offsets; 0 is never returned (the low region belongs to the module's static data), so callers
 * may use 0 as "null". Every block is 64-byte aligned (a cache line, and any SIMD load is aligned).
 */

export const ALIGN = 64;
const PAGE = 65536;

/** Thrown when the memory cannot grow to satisfy an allocation (wasm32 stops at 4 GiB, or the chosen maximum). */
export class WasmMemoryError extends RangeError {
  override name = 'WasmMemoryError';
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

interface Block {
  ptr: number;
  size: number;
}

export class WasmHeap {
  private top: number;
  private readonly freeList: Block[] = [];
  private readonly sizes = new Map<number, number>();

  /** `base`: first usable byte (above the module's static data and the thread control block). */
  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = alignUp(Math.max(base, ALIGN));
  }

  /** Bytes between the heap base and its top (free blocks included): what the heap holds of the memory. */
  get highWater(): number {
    return this.top;
  }

  /** Live (allocated, not freed) bytes. */
  get liveBytes(): number {
    let s = 0;
    for (const v of this.sizes.values()) s += v;
    return s;
  }

  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) {
      throw new WasmMemoryError(
        `WasmHeap.alloc (src/backend/wasm/memory.ts): bytes must be a finite number >= 0, got ${bytes}`,
      );
    }
    const size = alignUp(Math.max(bytes, 1));
    for (let i = 0; i < this.freeList.length; i++) {
      const b = this.freeList[i]!;
      if (b.size < size) continue;
      const ptr = b.ptr;
      if (b.size === size) this.freeList.splice(i, 1);
      else {
        b.ptr += size;
        b.size -= size;
      }
      this.sizes.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    this.ensureCapacity(ptr + size);
    this.top = ptr + size;
    this.sizes.set(ptr, size);
    return ptr;
  }

  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) {
      throw new WasmMemoryError(`WasmHeap.free (src/backend/wasm/memory.ts): ${ptr} is not a live allocation`);
    }
    this.sizes.delete(ptr);
    if (ptr + size === this.top) {
      this.top = ptr;
      // The block below the top may now be free too: fold it back.
      const last = this.freeList[this.freeList.length - 1];
      if (last && last.ptr + last.size === this.top) {
        this.top = last.ptr;
        this.freeList.pop();
      }
      return;
    }
    // Insert sorted by address, then merge with the neighbours.
    let i = 0;
    while (i < this.freeList.length && this.freeList[i]!.ptr < ptr) i++;
    this.freeList.splice(i, 0, { ptr, size });
    const next = this.freeList[i + 1];
    if (next && ptr + size === next.ptr) {
      this.freeList[i]!.size += next.size;
      this.freeList.splice(i + 1, 1);
    }
    const prev = this.freeList[i - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.freeList[i]!.size;
      this.freeList.splice(i, 1);
    }
  }

  /** Grows the memory (whole pages) so that bytes [0, end) exist. */
  private ensureCapacity(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // Grow by at least 1/8 of the current size so a sequence of small allocations does not grow page by page.
    const need = Math.ceil((end - have) / PAGE);
    const pages = Math.max(need, Math.ceil(have / PAGE / 8));
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(need);
      } catch (e) {
        throw new WasmMemoryError(
          `WasmHeap (src/backend/wasm/memory.ts): cannot grow wasm memory from ${have} to ${end} bytes ` +
            `(${e instanceof Error ? e.message : String(e)}); free tensors or lower the batch size`,
        );
      }
    }
  }
}

/** Bump allocation for one step; see the file comment for how it converges to a single block. */
export class Arena {
  private base = 0;
  private capacity = 0;
  private offset = 0;
  private readonly overflow: number[] = [];
  private overflowBytes = 0;

  constructor(
    private readonly heap: WasmHeap,
    initialBytes = 1 << 20,
  ) {
    this.capacity = alignUp(initialBytes);
    this.base = heap.alloc(this.capacity);
  }

  /** Bytes the arena holds in its main block. */
  get capacityBytes(): number {
    return this.capacity;
  }

  /** Bytes handed out since the last reset. */
  get usedBytes(): number {
    return this.offset + this.overflowBytes;
  }

  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1));
    if (this.offset + size <= this.capacity) {
      const p = this.base + this.offset;
      this.offset += size;
      return p;
    }
    const p = this.heap.alloc(size);
    this.overflow.push(p);
    this.overflowBytes += size;
    return p;
  }

  /** Releases everything allocated since the last reset; every pointer from `alloc` becomes invalid. */
  reset(): void {
    if (this.overflow.length > 0) {
      const need = this.offset + this.overflowBytes;
      for (const p of this.overflow) this.heap.free(p);
      this.overflow.length = 0;
      this.overflowBytes = 0;
      this.heap.free(this.base);
      this.capacity = alignUp(need);
      this.base = this.heap.alloc(this.capacity);
    }
    this.offset = 0;
  }

  /** Returns the arena's block to the heap (the arena is unusable afterwards). */
  dispose(): void {
    this.reset();
    this.heap.free(this.base);
    this.capacity = 0;
    this.offset = 0;
  }
}
