/**
 * The wasm compute engine: AssemblyScript SIMD kernels (kernels/*.ts, built by `node scripts/build-kernels.mjs`),
 * relaxed-SIMD where the engine has it, multi-threaded over one shared memory.
 *  - `WasmEngine`: low level, pointer-based kernels on tensors that live in wasm memory (heap + per-step arena).
 *  - `createWasmBackend`: the same kernels behind the Float32Array `Backend` contract.
 */
export {
  SPARSE_DENSITY_MAX,
  WasmEngine,
  type ConvAlgorithm,
  type GemmAlgorithm,
  type GemmPtrArgs,
  type Ptr,
  type SpikeGemmPtrArgs,
  type SpikeMode,
  type SpikeWeightGradPtrArgs,
  type WasmEngineOptions,
} from './engine.js';
export { createWasmBackend, type WasmBackend } from './wasm-backend.js';
export { loadKernels, relaxedSimdSupported, WasmLoadError, type LoadedKernels, type SimdLevel } from './load.js';
export { Arena, WasmHeap, WasmMemoryError } from './memory.js';
export { WasmThreadError } from './threads.js';
