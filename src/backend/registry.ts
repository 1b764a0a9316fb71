import type { Backend } from './backend.js';
import { referenceBackend } from './reference/index.js';

/**
 * The active backend. One process-wide choice, like PyTorch's default device: kernels are pure functions of their
 * arguments, so switching backends never changes a result beyond float rounding (tests prove it).
 */
let active: Backend = referenceBackend;

export function getBackend(): Backend {
  return active;
}

/** Makes `backend` the one every op dispatches to from now on. */
export function useBackend(backend: Backend): void {
  active = backend;
}
