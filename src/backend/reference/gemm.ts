import type { GemmArgs } from '../backend.js';
import { requireCount, requireLength } from './check.js';
import { dotNT, transposeInto } from './dot.js';

/**
 * `C[m,n] = (accumulate ? C : 0) + alpha * op(A)[m,k] @ op(B)[k,n]`, with `op(A) = A` (`[m,k]`) or `A^T` (A stored
 * `[k,m]`), and likewise B (`[k,n]`, or `[n,k]` with `transB`).
 *
 * Operands are packed so that every C entry is a dot product of two contiguous k-vectors (`dotNT`): A as `[m,k]`,
 * B as `[n,k]` (a transpose copy when the stored layout differs). Each entry is summed in float64 and rounded
 * once, so the oracle is at least as accurate as any float32 kernel tested against it.
 */
export function gemm(args: GemmArgs): void {
  const { transA, transB, m, n, k, a, b, c, accumulate } = args;
  const alpha = args.alpha ?? 1;
  requireCount('gemm', 'm', m);
  requireCount('gemm', 'n', n);
  requireCount('gemm', 'k', k);
  requireLength('gemm', 'a', a, m * k);
  requireLength('gemm', 'b', b, k * n);
  requireLength('gemm', 'c', c, m * n);

  let aRows = a;
  if (transA) {
    aRows = new Float32Array(m * k);
    transposeInto(k, m, a, 0, aRows);
  }
  let bRows = b;
  if (!transB) {
    bRows = new Float32Array(n * k);
    transposeInto(k, n, b, 0, bRows);
  }
  // Rows in blocks, so the float64 sums stay small (a [6400,1024] result would otherwise need 52 MB of doubles).
  const rowsPerBlock = 64;
  const sums = new Float64Array(Math.min(m, rowsPerBlock) * n);
  for (let i0 = 0; i0 < m; i0 += rowsPerBlock) {
    const rows = Math.min(rowsPerBlock, m - i0);
    dotNT(rows, n, k, aRows, i0 * k, bRows, 0, sums, false);
    const c0 = i0 * n;
    if (accumulate) {
      for (let i = 0; i < rows * n; i++) c[c0 + i] = c[c0 + i]! + alpha * sums[i]!;
    } else {
      for (let i = 0; i < rows * n; i++) c[c0 + i] = alpha * sums[i]!;
    }
  }
}
