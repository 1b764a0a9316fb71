// Entry of the kernel module: every export here is callable from JS (src/backend/wasm/). Kernels that may run on
// several threads take (tid, nth, wsBase, wsStride) first: thread tid works on its share of the output and uses
// scratch at wsBase + tid*wsStride; `*Workspace` functions give the bytes of scratch one thread needs.
export { gemm, gemmBlocked, gemmWorkspace } from './gemm';
export { conv2dBackwardInput, conv2dBackwardWeight, conv2dWorkspace } from './conv';
export { conv2dForward, conv2dForwardWorkspace } from './conv-forward';
export { conv2dForwardWinograd, conv2dWinogradWorkspace } from './conv-winograd';
export { maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward } from './pool';
export { poolConvBackwardInput, poolConvBackwardInputWorkspace } from './pool-conv';
export { spikePoolConv2dBackwardWeight, spikePoolConv2dPartials, spikePoolConv2dWorkspace } from './pool-conv-weight';
export { poolConvBackwardWeight, poolConvBackwardWeightWorkspace } from './pool-conv-dense-weight';
export { logSoftmax } from './softmax';
export { relu, reluBackward, countOutsideI32 } from './relu';
export { lifForward, lifBackward, lifWorkspace } from './lif';
export { adamStep } from './adam';
export { spikeGemm, spikeGemmWeightGrad, spikeGemmWorkspace, countNonzero } from './sparse-gemm';
export { fmaPeak } from './peak';
export { spikeConv2dBackwardWeight, spikeConv2dWorkspace } from './sparse-conv';
export { spikeConv2dForward } from './sparse-conv-forward';
export { spikeConv2dPoolForward, spikeConv2dPoolWorkspace } from './sparse-conv-pool';

/** First byte after the module's static data; JS allocations must start above it. */
export function heapBase(): usize {
  return __heap_base;
}
