import { Tensor } from '../../tensor/tensor.js';
import { SpikegenError } from './errors.js';
import { f32 } from './float32.js';

export interface DeltaOptions {
  /** Minimum change between consecutive steps that emits a spike. Default 0.1. */
  threshold?: number;
  /** Compare step 0 with itself (no spike at step 0) instead of with zeros. Default false. */
  padding?: boolean;
  /** Emit -1 for a fall of at least `threshold`. Default false. */
  offSpike?: boolean;
}

/**
 * Delta modulation of time-first data `[T, ...]`: with `d_t = x_t - x_{t-1}` (`x_{-1} = 0`, or `x_0` with
 * `padding`), `out_t = 1` where `d_t >= threshold`, and with `offSpike` also `out_t = -1` where
 * `d_t <= -threshold`; 0 elsewhere. Differences and the threshold are float32 (as in PyTorch), so a change of
 * exactly `threshold` between float32 inputs spikes.
 */
export function delta(data: Tensor, options: DeltaOptions = {}): Tensor {
  const { threshold = 0.1, padding = false, offSpike = false } = options;
  if (data.ndim < 1) throw new SpikegenError('delta', 'data', 'a time-first tensor [T, ...]', 'a scalar');
  const x = data.values;
  const T = data.shape[0]!;
  const n = T === 0 ? 0 : x.length / T;
  const thr = f32(threshold);
  const out = new Float32Array(x.length);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      const prev = t > 0 ? x[(t - 1) * n + i]! : padding ? x[i]! : 0;
      const d = f32(x[t * n + i]! - prev);
      // sum, not a choice: with threshold <= 0 a zero change is both an on and an off spike (0), as in snnTorch
      out[t * n + i] = (d >= thr ? 1 : 0) - (offSpike && d <= -thr ? 1 : 0);
    }
  }
  return new Tensor(out, data.shape);
}
