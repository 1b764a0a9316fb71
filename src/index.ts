/**
 * spikets: spiking neural networks in TypeScript. Namespaces mirror snnTorch/PyTorch: `nn`, `optim`, `snn`,
 * `surrogate`, `spikegen`, `functional`, `data`, `train`, plus `ops` (differentiable tensor ops), `experiment` (the
 * SNN-vs-CNN comparison) and `report` (charts and reports), and `Tensor`/`tensor`.
 */
export { Tensor, tensor, zeros, ones, full, sizeOf, type DType, type Shape } from './tensor/tensor.js';
export { noGrad, isGradEnabled } from './tensor/autograd.js';
export { Rng } from './tensor/random.js';
export { TorchGenerator } from './tensor/torch-generator.js';
export * as ops from './tensor/ops/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as snn from './snn/index.js';
export * as surrogate from './snn/surrogate/index.js';
export * as spikegen from './snn/spikegen/index.js';
export * as functional from './functional/index.js';
export * as data from './data/index.js';
export * as train from './train/index.js';
export * as experiment from './experiment/index.js';
export * as report from './report/index.js';
export { encodeSafetensors, decodeSafetensors } from './tensor/safetensors.js';
export { getBackend, useBackend } from './backend/registry.js';
export { referenceBackend } from './backend/reference/index.js';
export type { Backend, KernelName } from './backend/backend.js';
export { createWasmBackend, type WasmBackend } from './backend/wasm/index.js';
