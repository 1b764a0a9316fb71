/**
 * `out[i*n + j] (+)= sum_p a[aOff + i*k + p] * b[bOff + j*k + p]` for i < m, j < n: every entry a dot product of two
 * contiguous k-vectors (A row-major `[m,k]`, B row-major `[n,k]`, i.e. `A @ B^T`), summed in float64.
 *
 * The one inner loop behind the reference gemm and convolutions: callers pack their operands into this layout
 * (a transpose copy or an im2col gather costs O(size) against the O(m*n*k) products). A 2x2 block of outputs
 * shares each loaded element twice, which is what plain JS needs to get near its scalar peak; every output is
 * still an in-order float64 sum over p, so blocking does not change the result.
 */
export function dotNT(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  out: Float64Array,
  accumulate: boolean,
): void {
  const m2 = m - (m % 2);
  const n2 = n - (n % 2);
  for (let i = 0; i < m2; i += 2) {
    const a0 = aOff + i * k;
    const a1 = a0 + k;
    const o0 = i * n;
    const o1 = o0 + n;
    for (let j = 0; j < n2; j += 2) {
      const b0 = bOff + j * k;
      const b1 = b0 + k;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[a0 + p]!;
        const x1 = a[a1 + p]!;
        const y0 = b[b0 + p]!;
        const y1 = b[b1 + p]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      if (accumulate) {
        out[o0 + j]! += s00;
        out[o0 + j + 1]! += s01;
        out[o1 + j]! += s10;
        out[o1 + j + 1]! += s11;
      } else {
        out[o0 + j] = s00;
        out[o0 + j + 1] = s01;
        out[o1 + j] = s10;
        out[o1 + j + 1] = s11;
      }
    }
    if (n2 < n) {
      out[o0 + n2] = (accumulate ? out[o0 + n2]! : 0) + dot(a, a0, b, bOff + n2 * k, k);
      out[o1 + n2] = (accumulate ? out[o1 + n2]! : 0) + dot(a, a1, b, bOff + n2 * k, k);
    }
  }
  if (m2 < m) {
    const a0 = aOff + m2 * k;
    const o0 = m2 * n;
    for (let j = 0; j < n; j++) out[o0 + j] = (accumulate ? out[o0 + j]! : 0) + dot(a, a0, b, bOff + j * k, k);
  }
}

function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, k: number): number {
  let s = 0;
  for (let p = 0; p < k; p++) s += a[aOff + p]! * b[bOff + p]!;
  return s;
}

/** Copies row-major `src[rows, cols]` (from `srcOff`) transposed into `dst[cols, rows]`. */
export function transposeInto(rows: number, cols: number, src: Float32Array, srcOff: number, dst: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const s = srcOff + r * cols;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[s + c]!;
  }
}
