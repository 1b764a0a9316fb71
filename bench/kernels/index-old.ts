// Benchmark-only kernel module (compiled by bench/pool-conv.ts, not by scripts/build-kernels.mjs): every kernel of
// the library, except that poolConvBackwardInput is the old one (./pool-conv-old.ts) behind the current
// argument lists, so the current engine can run it on its threads.
import {
  poolConvBackwardInput as oldKernel,
  poolConvBackwardInputWorkspace as oldWorkspace,
} from './pool-conv-old';

export * from '../../kernels/index';

export function poolConvBackwardInputWorkspace(
  inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32, _pH: i32, _pW: i32, _outH: i32, _outW: i32,
  _pooled: i32,
): i32 {
  return oldWorkspace(inC, inH, inW, outC, kH, kW);
}

export function poolConvBackwardInput(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, _next: usize, dPool: usize, argmax: usize, w: usize, dx: usize,
  batch: i32, inC: i32, inH: i32, inW: i32, outC: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  _outH: i32, outW: i32, pooled: i32,
): void {
  oldKernel(tid, nth, wsBase, wsStride, dPool, argmax, w, dx, batch, inC, inH, inW, outC, kH, kW, sH, sW, pH, pW,
    outW, pooled);
}
