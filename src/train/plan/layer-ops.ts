import type { Backend, Conv2dGeometry, Pool2dGeometry } from '../../backend/backend.js';
import type { Parameter } from '../../nn/module.js';
import type { Conv2d, Linear, MaxPool2d } from '../../nn/layers.js';
import { conv2dGeometry, pool2dGeometry } from '../../tensor/ops/conv.js';

/**
 * The stateless layers as the fused plans (feedforward.ts, cnn.ts) call them on flat batch-major arrays: geometry of
 * a conv / pool for `batch` samples of per-sample shape `shape`, and a Linear's forward and backward as GEMMs.
 */

export function convGeom(layer: Conv2d, shape: readonly number[], batch: number): Conv2dGeometry {
  return conv2dGeometry([batch, ...shape], layer.weight.shape, layer.options);
}

export function poolGeom(layer: MaxPool2d, shape: readonly number[], batch: number): Pool2dGeometry {
  return pool2dGeometry([batch, ...shape], layer.kernelSize, layer.options);
}

/** `out = x W^T + b` for `m` rows. */
export function linearForward(backend: Backend, layer: Linear, x: Float32Array, m: number, out: Float32Array): void {
  const n = layer.outFeatures;
  if (layer.bias) for (let r = 0; r < m; r++) out.set(layer.bias.values, r * n);
  backend.gemm({
    transA: false,
    transB: true,
    m,
    n,
    k: layer.inFeatures,
    a: x,
    b: layer.weight.values,
    c: out,
    accumulate: layer.bias !== null,
  });
}

/** `dW += g^T x`, `db +=` column sums of g, `dx = g W` (when asked): accumulating, so chunks of rows add up. */
export function linearBackward(
  backend: Backend,
  layer: Linear,
  x: Float32Array,
  g: Float32Array,
  m: number,
  grads: Map<Parameter, Float32Array>,
  dx: Float32Array | null,
): void {
  const [outF, inF] = [layer.outFeatures, layer.inFeatures];
  backend.gemm({
    transA: true,
    transB: false,
    m: outF,
    n: inF,
    k: m,
    a: g,
    b: x,
    c: grads.get(layer.weight)!,
    accumulate: true,
  });
  if (layer.bias) {
    const gb = grads.get(layer.bias)!;
    for (let r = 0; r < m; r++) for (let j = 0; j < outF; j++) gb[j]! += g[r * outF + j]!;
  }
  if (dx)
    backend.gemm({
      transA: false,
      transB: false,
      m,
      n: inF,
      k: outF,
      a: g,
      b: layer.weight.values,
      c: dx,
      accumulate: false,
    });
}
