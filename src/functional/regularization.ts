import { scale } from '../tensor/ops/elementwise.js';
import { sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { FunctionalError } from './errors.js';

export interface L1RateSparsityOptions {
  /** Penalty per spike. Default 1e-5 (snnTorch's `Lambda`). */
  lambda?: number;
}

/**
 * L1 spike-count regulariser (snnTorch `l1_rate_sparsity`): `R(spk) = lambda * sum(spk)` over every element of
 * any recording; a scalar `[]`. Its gradient is `lambda` everywhere.
 */
export function l1RateSparsity(options: L1RateSparsityOptions = {}): (spk: Tensor) => Tensor {
  const lambda = options.lambda ?? 1e-5;
  if (!Number.isFinite(lambda))
    throw new FunctionalError('l1RateSparsity', 'lambda', 'a finite number', String(lambda));
  return (spk) => scale(sum(spk), lambda);
}
