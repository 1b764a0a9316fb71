import { getBackend } from '../../backend/registry.js';
import { Tensor, result, shapeToString } from '../tensor.js';

/**
 * Matrix product of 2-D tensors, `[m,k] @ [k,n] -> [m,n]`, or a batch of them when `a` is `[..., m, k]` and `b` is
 * `[k, n]` (the leading dims are folded into m). Backward: dA = dC B^T, dB = A^T dC.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim < 2 || b.ndim !== 2 || a.shape[a.ndim - 1] !== b.shape[0]) {
    throw new RangeError(`matmul: cannot multiply ${shapeToString(a.shape)} by ${shapeToString(b.shape)}`);
  }
  const k = b.shape[0]!;
  const n = b.shape[1]!;
  const m = a.size / k;
  const out = new Float32Array(m * n);
  const backend = getBackend();
  backend.gemm({ transA: false, transB: false, m, n, k, a: a.values, b: b.values, c: out, accumulate: false });
  return result(out, [...a.shape.slice(0, -1), n], [a, b], (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad) {
      ga = new Float32Array(m * k);
      getBackend().gemm({ transA: false, transB: true, m, n: k, k: n, a: g, b: b.values, c: ga, accumulate: false });
    }
    if (b.requiresGrad) {
      gb = new Float32Array(k * n);
      getBackend().gemm({ transA: true, transB: false, m: k, n, k: m, a: a.values, b: g, c: gb, accumulate: false });
    }
    return [ga, gb];
  });
}

/**
 * `y = x W^T + b` with PyTorch's layouts: x `[..., in]`, weight `[out, in]`, bias `[out]`.
 * Backward: dx = dy W, dW = dy^T x, db = sum dy.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const outF = weight.shape[0]!;
  const inF = weight.shape[1]!;
  if (weight.ndim !== 2 || x.shape[x.ndim - 1] !== inF) {
    throw new RangeError(
      `linear: input ${shapeToString(x.shape)} does not match weight ${shapeToString(weight.shape)}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new RangeError(`linear: bias ${shapeToString(bias.shape)} does not match ${outF} outputs`);
  }
  const m = x.size / inF;
  const out = new Float32Array(m * outF);
  if (bias) for (let r = 0; r < m; r++) out.set(bias.values, r * outF);
  getBackend().gemm({
    transA: false,
    transB: true,
    m,
    n: outF,
    k: inF,
    a: x.values,
    b: weight.values,
    c: out,
    accumulate: bias !== null,
  });
  const parents = bias ? [x, weight, bias] : [x, weight];
  return result(out, [...x.shape.slice(0, -1), outF], parents, (g) => {
    const backend = getBackend();
    let gx: Float32Array | null = null;
    let gw: Float32Array | null = null;
    if (x.requiresGrad) {
      gx = new Float32Array(m * inF);
      backend.gemm({
        transA: false,
        transB: false,
        m,
        n: inF,
        k: outF,
        a: g,
        b: weight.values,
        c: gx,
        accumulate: false,
      });
    }
    if (weight.requiresGrad) {
      gw = new Float32Array(outF * inF);
      backend.gemm({ transA: true, transB: false, m: outF, n: inF, k: m, a: g, b: x.values, c: gw, accumulate: false });
    }
    if (!bias) return [gx, gw];
    const gb = new Float32Array(outF);
    for (let r = 0; r < m; r++) for (let j = 0; j < outF; j++) gb[j]! += g[r * outF + j]!;
    return [gx, gw, gb];
  });
}
