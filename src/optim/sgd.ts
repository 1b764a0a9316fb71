import type { Parameter } from '../nn/module.js';
import { Optimizer } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * SGD as PyTorch's `torch.optim.SGD`: `g += wd p`; with momentum `buf = mu buf + (1-dampening) g` (buf = g on the
 * first step), nesterov `g = g + mu buf` else `g = buf`; `p -= lr g`.
 */
export class SGD extends Optimizer {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: readonly Parameter[], options: SgdOptions) {
    super(params);
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: nesterov needs momentum > 0 and dampening 0');
    }
  }

  step(): void {
    this.state.step++;
    for (const p of this.params) {
      if (!p.grad) continue;
      const w = p.values;
      const g = p.grad.values;
      const first = !this.state.buffers.has(p);
      const buf = this.momentum !== 0 ? this.buffers(p, ['momentum_buffer']).momentum_buffer! : null;
      for (let i = 0; i < w.length; i++) {
        let d = g[i]! + this.weightDecay * w[i]!;
        if (buf) {
          buf[i] = first ? d : this.momentum * buf[i]! + (1 - this.dampening) * d;
          d = this.nesterov ? d + this.momentum * buf[i]! : buf[i]!;
        }
        w[i]! -= this.lr * d;
      }
    }
  }
}
