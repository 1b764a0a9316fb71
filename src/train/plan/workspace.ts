import type { Backend } from '../../backend/backend.js';

/**
 * Named buffers that a plan reuses from one run to the next (activations, traces, gradients), taken from the
 * backend's zero-copy memory when it has one. A buffer only grows: a smaller request (the last, partial batch of an
 * epoch) gets a view of the existing one, so a training loop allocates once and its memory stays flat.
 */
export class Workspace {
  private readonly f32s = new Map<string, Float32Array>();
  private readonly i32s = new Map<string, Int32Array>();
  private owner: Backend | null = null;

  /** Binds to `backend`; switching backends releases every buffer of the previous one. */
  use(backend: Backend): void {
    if (this.owner === backend) return;
    this.release();
    this.owner = backend;
  }

  /** A float32 buffer of exactly `length` elements (contents left from the previous run unless `zero`). */
  f32(name: string, length: number, zero = false): Float32Array {
    let buf = this.f32s.get(name);
    if (!buf || buf.length < length) {
      if (buf) this.owner?.buffers?.free(buf);
      buf = this.owner?.buffers?.f32(length) ?? new Float32Array(length);
      this.f32s.set(name, buf);
    }
    const view = buf.subarray(0, length);
    if (zero) view.fill(0);
    return view;
  }

  i32(name: string, length: number): Int32Array {
    let buf = this.i32s.get(name);
    if (!buf || buf.length < length) {
      if (buf) this.owner?.buffers?.free(buf);
      buf = this.owner?.buffers?.i32(length) ?? new Int32Array(length);
      this.i32s.set(name, buf);
    }
    return buf.subarray(0, length);
  }

  release(): void {
    for (const b of [...this.f32s.values(), ...this.i32s.values()]) this.owner?.buffers?.free(b);
    this.f32s.clear();
    this.i32s.clear();
  }
}
