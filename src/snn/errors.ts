/**
 * Errors of the spiking layer. Messages name the file, the option or state field, the expected value and what was
 * received, so a misconfigured neuron fails at construction (or at its first step) instead of training silently.
 */

/** A surrogate option is out of range (e.g. a non-finite slope, a stochastic surrogate without an `rng`). */
export class SurrogateError extends RangeError {
  override name = 'SurrogateError';
}

/** A neuron option or state is invalid (unknown reset mechanism, alpha <= beta, state shape != input shape, ...). */
export class NeuronError extends RangeError {
  override name = 'NeuronError';
}
