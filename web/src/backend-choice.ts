/**
 * Which compute backend the worker runs, and why (the page shows the reason). The wasm backend is looked up on the
 * public entry at run time: while `spikets` does not export `createWasmBackend`, the page falls back to the
 * reference backend and says so, and it switches to wasm by itself once the entry exports it.
 */
import * as spikets from 'spikets';
import { referenceBackend, useBackend, type Backend } from 'spikets';
import type { BackendInfo } from './protocol.js';

interface WasmBackendLike extends Backend {
  readonly threads: number;
  readonly simd: string;
  dispose(): void;
}
type WasmFactory = (options: { threads?: number }) => Promise<WasmBackendLike>;

export interface Environment {
  /** `self.crossOriginIsolated`: SharedArrayBuffer (and so wasm threads) needs it. */
  crossOriginIsolated: boolean;
  /** navigator.hardwareConcurrency. */
  cores: number;
}

export interface ActiveBackend {
  info: BackendInfo;
  /** Threads asked for (0 = cores), to tell whether a new request needs a new backend. */
  requested: number;
  dispose(): void;
}

function wasmFactory(): WasmFactory | null {
  const f: unknown = Reflect.get(spikets, 'createWasmBackend');
  return typeof f === 'function' ? (f as WasmFactory) : null;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Starts the backend for `requested` threads (0 = all cores) and makes it the active one. */
export async function chooseBackend(requested: number, env: Environment): Promise<ActiveBackend> {
  const factory = wasmFactory();
  if (factory === null) {
    useBackend(referenceBackend);
    return {
      info: {
        name: 'reference',
        threads: 1,
        simd: null,
        reason: 'this build of spikets does not export createWasmBackend, so the reference backend (plain TypeScript, one thread) runs',
      },
      requested,
      dispose: () => undefined,
    };
  }
  const want = requested > 0 ? requested : env.cores;
  const threads = env.crossOriginIsolated ? want : 1;
  try {
    const backend = await factory({ threads });
    useBackend(backend);
    let reason: string;
    if (!env.crossOriginIsolated) {
      reason = 'one thread: the page is not cross-origin isolated (no COOP/COEP headers), so there is no SharedArrayBuffer';
    } else if (backend.threads < threads) {
      reason = `${backend.threads} of the ${threads} threads asked for: this browser allows no more`;
    } else {
      reason = requested > 0 ? `${backend.threads} thread(s), as chosen` : `${backend.threads} thread(s): one per logical core`;
    }
    return { info: { name: 'wasm', threads: backend.threads, simd: backend.simd, reason }, requested, dispose: () => backend.dispose() };
  } catch (e) {
    useBackend(referenceBackend);
    return {
      info: { name: 'reference', threads: 1, simd: null, reason: `the wasm backend failed to start (${message(e)}); the reference backend runs instead` },
      requested,
      dispose: () => undefined,
    };
  }
}
