import { getBackend } from '../backend/registry.js';
import type { Parameter } from '../nn/module.js';
import { Optimizer } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

/**
 * Adam exactly as PyTorch's `torch.optim.Adam`: `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
 * `p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)`; weight decay adds `wd * p` to g (L2, not AdamW);
 * amsgrad uses the running max of v.
 */
export class Adam extends Optimizer {
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;

  constructor(params: readonly Parameter[], options: AdamOptions = {}) {
    super(params);
    this.lr = options.lr ?? 1e-3;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.amsgrad = options.amsgrad ?? false;
    for (const [name, v] of Object.entries({ lr: this.lr, eps: this.eps, weightDecay: this.weightDecay })) {
      if (!(v >= 0)) throw new RangeError(`Adam: ${name} must be >= 0, got ${v}`);
    }
    if (this.betas.some((b) => !(b >= 0 && b < 1)))
      throw new RangeError(`Adam: betas must be in [0, 1), got ${this.betas.join(', ')}`);
  }

  step(): void {
    this.state.step++;
    const backend = getBackend();
    for (const p of this.params) {
      if (!p.grad) continue;
      const b = this.buffers(p, this.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq']);
      backend.adamStep(
        {
          lr: this.lr,
          beta1: this.betas[0],
          beta2: this.betas[1],
          eps: this.eps,
          weightDecay: this.weightDecay,
          step: this.state.step,
          amsgrad: this.amsgrad,
        },
        p.values,
        p.grad.values,
        b.exp_avg!,
        b.exp_avg_sq!,
        b.max_exp_avg_sq ?? null,
      );
    }
  }
}
