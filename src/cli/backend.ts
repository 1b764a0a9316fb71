import { useBackend } from '../backend/registry.js';
import { referenceBackend } from '../backend/reference/index.js';
import { UsageError } from './errors.js';

export type BackendName = 'wasm' | 'reference';

/**
 * Activates the requested backend for this process: `wasm` (default; multi-threaded SIMD) or `reference` (plain
 * TypeScript). `SPIKETS_BACKEND` overrides the default when no flag is given. Returns its name, thread count and a
 * disposer (worker threads).
 */
export async function activateBackend(
  name: BackendName,
  threads: number,
): Promise<{ name: string; threads: number; dispose: () => void }> {
  if (name === 'reference') {
    useBackend(referenceBackend);
    return { name: 'reference', threads: 1, dispose: () => undefined };
  }
  try {
    const { createWasmBackend } = await import('../backend/wasm/index.js');
    const backend = await createWasmBackend(threads > 0 ? { threads } : {});
    useBackend(backend);
    return { name: `wasm-${backend.simd}`, threads: backend.threads, dispose: () => backend.dispose() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`the wasm backend could not load: ${reason} (use --backend reference to run without it)`);
  }
}
