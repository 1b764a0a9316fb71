/**
 * The one error type of the spike generators. Every invalid option or input ends in a `SpikegenError` whose
 * message is a single line, `<function>: <field>: expected <expected>, got <actual>`, so that a caller can print it
 * as is and a test can match on the structured fields.
 */
export class SpikegenError extends Error {
  override readonly name = 'SpikegenError';
  /** The public function that rejected its input, e.g. `latency`. */
  readonly fn: string;
  /** The option or argument that is wrong, e.g. `numSteps`, `data`. */
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
