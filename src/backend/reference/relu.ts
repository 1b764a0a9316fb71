import { requireCount, requireLength } from './check.js';

/** `out[i] = x[i] > 0 ? x[i] : 0` (NaN gives 0, the tape's relu); `out` may alias `x`. */
export function relu(n: number, x: Float32Array, out: Float32Array): void {
  requireCount('relu', 'n', n);
  requireLength('relu', 'x', x, n);
  requireLength('relu', 'out', out, n);
  for (let i = 0; i < n; i++) out[i] = x[i]! > 0 ? x[i]! : 0;
}

/** `dx[i] = y[i] > 0 ? dy[i] : 0` (the gradient is 0 at 0, as PyTorch); `dx` may alias `dy`. */
export function reluBackward(n: number, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  requireCount('reluBackward', 'n', n);
  requireLength('reluBackward', 'y', y, n);
  requireLength('reluBackward', 'dy', dy, n);
  requireLength('reluBackward', 'dx', dx, n);
  for (let i = 0; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
}
