/**
 * The one error type of `functional` (losses, accuracy, regularisers). The message is a single line,
 * `<function>: <field>: expected <expected>, got <actual>`, so that a caller can print it as is and a test can
 * match on the structured fields.
 */
export class FunctionalError extends Error {
  override readonly name = 'FunctionalError';
  /** The loss or metric that rejected its input, e.g. `ceRateLoss`. */
  readonly fn: string;
  /** The option or argument that is wrong, e.g. `targets`, `weight`, `numClasses`. */
  readonly field: string;
  readonly expected: string;
  readonly actual: string;

  constructor(fn: string, field: string, expected: string, actual: string) {
    super(`${fn}: ${field}: expected ${expected}, got ${actual}`);
    this.fn = fn;
    this.field = field;
    this.expected = expected;
    this.actual = actual;
  }
}
