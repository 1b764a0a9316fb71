/**
 * spikets: spiking neural networks in TypeScript. Namespaces mirror snnTorch/PyTorch:
 * `nn`, `optim`, `ops` (differentiable tensor ops), plus `Tensor`/`tensor`.
 */
export { Tensor, tensor, zeros, ones, full, sizeOf, type DType, type Shape } from './tensor/tensor.js';
export { noGrad, isGradEnabled } from './tensor/autograd.js';
export { Rng } from './tensor/random.js';
export * as ops from './tensor/ops/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export { getBackend, useBackend } from './backend/registry.js';
export type { Backend, KernelName } from './backend/backend.js';
