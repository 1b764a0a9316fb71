import type { Backend, Conv2dGeometry, Pool2dGeometry } from '../backend.js';
import { spikeConv2dPoolForward } from './conv-pool.js';
import { adamStep } from './adam.js';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from './conv.js';
import { gemm } from './gemm.js';
import { lifBackward, lifForward } from './lif.js';
import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward } from './pool.js';
import { relu, reluBackward } from './relu.js';
import { logSoftmax } from './softmax.js';

export { KernelArgumentError } from './check.js';
export { surrogateGrad } from './lif.js';

/** The conv-output gradient of a conv followed by a max-pool: `maxPool2dBackward(pool, dPool, argmax)`. */
function poolGradient(
  conv: Conv2dGeometry,
  pool: Pool2dGeometry,
  dPool: Float32Array,
  argmax: Int32Array,
): Float32Array {
  const dConvOut = new Float32Array(conv.batch * conv.outC * conv.outH * conv.outW);
  maxPool2dBackward(pool, dPool, argmax, dConvOut);
  return dConvOut;
}

/** The weight gradient of a conv followed by a max-pool, from the pool's gradient (also the spike variant's spec). */
function poolConv2dBackwardWeight(
  conv: Conv2dGeometry,
  pool: Pool2dGeometry,
  x: Float32Array,
  dPool: Float32Array,
  argmax: Int32Array,
  dw: Float32Array,
  dBias: Float32Array | null,
  accumulate: boolean,
): void {
  conv2dBackwardWeight(conv, x, poolGradient(conv, pool, dPool, argmax), dw, dBias, accumulate);
}

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
  // the specification of the spike variants is the dense kernel itself
  spikeConv2dForward: conv2dForward,
  spikeConv2dBackwardWeight: conv2dBackwardWeight,
  spikeConv2dPoolForward,
  poolConv2dBackwardInput(conv, pool, dPool, argmax, w, dx) {
    conv2dBackwardInput(conv, poolGradient(conv, pool, dPool, argmax), w, dx);
  },
  poolConv2dBackwardWeight,
  spikePoolConv2dBackwardWeight: poolConv2dBackwardWeight,
  maxPool2dForward,
  maxPool2dBackward,
  avgPool2dForward,
  avgPool2dBackward,
  relu,
  reluBackward,
  logSoftmax,
  lifForward,
  lifBackward,
  adamStep,
};
