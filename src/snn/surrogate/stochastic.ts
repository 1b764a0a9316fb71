import type { Rng } from '../../tensor/random.js';
import { SurrogateError } from '../errors.js';
import { checkOption, heavisideStep, type Surrogate } from './surrogate.js';

/**
 * Stochastic spike operator (snnTorch `SSO`), mean 0, variance 0.2:
 *   dS/du = 1                                   where u > 0
 *   dS/du = (U - 0.5 + mean) * variance,  U ~ Uniform[0, 1)   elsewhere (a fresh draw per element and call)
 * With the defaults the sub-threshold gradient is uniform in [-0.1, 0.1).
 *
 * The draws come from the `rng` passed in (snnTorch uses torch's global generator): one `rng.uniform()` per
 * sub-threshold element, in row-major order, each time a backward pass reaches the spike. Reseed (or pass a new Rng)
 * to reproduce a run.
 */
export function stochasticSpikeOperator(options: { rng: Rng; mean?: number; variance?: number }): Surrogate {
  const rng = (options as { rng?: Rng } | undefined)?.rng;
  if (!rng || typeof rng.uniform !== 'function') {
    throw new SurrogateError(
      'surrogate.stochasticSpikeOperator (src/snn/surrogate): options.rng must be a seeded Rng (randomness is explicit)',
    );
  }
  const mean = checkOption('stochasticSpikeOperator', 'mean', options.mean ?? 0);
  const variance = checkOption('stochasticSpikeOperator', 'variance', options.variance ?? 0.2);
  return {
    name: 'stochasticSpikeOperator',
    options: { mean, variance },
    forward: heavisideStep,
    derivative: (u) => (u > 0 ? 1 : (rng.uniform() - 0.5 + mean) * variance),
  };
}
