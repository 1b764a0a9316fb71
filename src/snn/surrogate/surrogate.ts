import type { FusedSurrogate } from '../../backend/backend.js';
import { mapWithGrad } from '../../tensor/ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { SurrogateError } from '../errors.js';

export type SurrogateName =
  | 'atan'
  | 'fastSigmoid'
  | 'sigmoid'
  | 'sparseFastSigmoid'
  | 'triangular'
  | 'straightThroughEstimator'
  | 'heaviside'
  | 'spikeRateEscape'
  | 'stochasticSpikeOperator'
  | 'leakySpikeOperator'
  | 'custom';

/**
 * A surrogate spike function: the forward pass is a step of the shifted membrane `u = mem - threshold`, the backward
 * pass replaces the step's zero-almost-everywhere derivative with `derivative(u)`.
 *
 *   forward:  S(u) = H(u) = 1 if u > 0 else 0   (strict: u == 0 gives 0; only `custom` may change it)
 *   backward: dL/du = dL/dS * derivative(u)
 *
 * A surrogate is a plain value: it holds its options and no state (the stochastic operator holds the `Rng` it was
 * given, which advances on each backward call).
 */
export interface Surrogate {
  readonly name: SurrogateName;
  /** The numeric options as given or defaulted (e.g. `{ alpha: 2 }`), for printing and checkpoints. */
  readonly options: Readonly<Record<string, number>>;
  /** Forward spike function of u; Heaviside for every built-in surrogate. */
  readonly forward: (u: number) => number;
  /** dS/du used by backward, exactly as snnTorch 0.9.4 codes it (see each factory's doc comment). */
  readonly derivative: (u: number) => number;
  /**
   * A function whose derivative is `derivative` (the smooth curve the surrogate stands for), where one exists. It is
   * not used for computing; tests check `derivative` against its finite differences.
   */
  readonly antiderivative?: (u: number) => number;
  /** Set when the backend's fused LIF kernel implements this surrogate natively. */
  readonly fused?: FusedSurrogate;
}

/** Heaviside step with the strict inequality snnTorch uses: `(u > 0).float()`. */
export function heavisideStep(u: number): number {
  return u > 0 ? 1 : 0;
}

/**
 * `spike(u, s)`: S(u) forward, `s.derivative(u)` backward, as one tape primitive. `u` is the shifted membrane
 * `mem - threshold`.
 */
export function spike(u: Tensor, surrogate: Surrogate): Tensor {
  return mapWithGrad(u, surrogate.forward, surrogate.derivative);
}

/** Validates a numeric surrogate option (finite, and positive where the formula needs it). */
export function checkOption(
  surrogate: SurrogateName,
  field: string,
  value: number,
  rule: 'finite' | 'positive' = 'finite',
): number {
  const ok = Number.isFinite(value) && (rule === 'finite' || value > 0);
  if (!ok) {
    throw new SurrogateError(
      `surrogate.${surrogate} (src/snn/surrogate): option ${field} must be a ${rule === 'positive' ? 'positive ' : ''}finite number, got ${String(value)}`,
    );
  }
  return value;
}
