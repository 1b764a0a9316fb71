/**
 * The one error type of the data layer. Every malformed input (bad magic, unsupported element type, truncated or
 * oversized data, inconsistent counts, labels out of range, missing files) ends in a `DataError`, never in a
 * RangeError from a typed-array constructor, an out-of-memory crash or a hang.
 *
 * The message is a single line, `<file>: <field>: expected <expected>, got <actual>`, so that a CLI can print it
 * as is and a test can match on the structured fields instead of the text.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  /** The file (path, URL or logical name such as `trainImages`) the problem was found in. */
  readonly file: string;
  /** The part of the file or of the request that is wrong: `magic`, `type`, `dims`, `data`, `labels`, `count`... */
  readonly field: string;
  readonly expected: string;
  readonly actual: string;

  constructor(file: string, field: string, expected: string, actual: string) {
    super(`${oneLine(file)}: ${oneLine(field)}: expected ${oneLine(expected)}, got ${oneLine(actual)}`);
    this.file = file;
    this.field = field;
    this.expected = expected;
    this.actual = actual;
  }
}

/** File names and decoder messages may contain line breaks; the message promise is one line. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
