import type { Parameter } from '../nn/module.js';

/** Named per-parameter state buffers, for checkpoints (`exp_avg`, `exp_avg_sq`, `momentum_buffer`, ...). */
export interface OptimizerState {
  step: number;
  buffers: Map<Parameter, Record<string, Float32Array>>;
}

export abstract class Optimizer {
  readonly state: OptimizerState = { step: 0, buffers: new Map() };

  constructor(readonly params: readonly Parameter[]) {
    if (params.length === 0) throw new RangeError('optimizer got an empty parameter list');
  }

  /** Applies one update from the current `.grad`s (parameters without a grad are skipped, as in PyTorch). */
  abstract step(): void;

  /** Clears every parameter's gradient (PyTorch `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  protected buffers(p: Parameter, names: readonly string[]): Record<string, Float32Array> {
    let b = this.state.buffers.get(p);
    if (!b) {
      b = Object.fromEntries(names.map((n) => [n, new Float32Array(p.size)]));
      this.state.buffers.set(p, b);
    }
    return b;
  }
}
