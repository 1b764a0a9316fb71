import type { Backend } from '../backend.js';
import { adamStep } from './adam.js';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from './conv.js';
import { gemm } from './gemm.js';
import { lifBackward, lifForward } from './lif.js';
import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward } from './pool.js';
import { logSoftmax } from './softmax.js';

export { KernelArgumentError } from './check.js';
export { surrogateGrad } from './lif.js';

/**
 * The reference backend: plain TypeScript loops on Float32Array, always available, and the numerical
 * specification every fast backend is tested against. Each kernel's equation is in the doc comment of its file.
 */
export const referenceBackend: Backend = {
  name: 'reference',
  gemm,
  conv2dForward,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  maxPool2dForward,
  maxPool2dBackward,
  avgPool2dForward,
  avgPool2dBackward,
  logSoftmax,
  lifForward,
  lifBackward,
  adamStep,
};
