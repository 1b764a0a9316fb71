/**
 * The one error type of checkpoint reading, writing and loading. Every message is a single line of the form
 * `<source>: tensor "<name>" <field>: <what was expected, what was found>`, so a CLI can print it as is and a test
 * can match on the structured fields instead of the text.
 */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  /** Where the bytes came from: a file path, or a label such as `<bytes>` / `<state>`. */
  readonly source: string;
  /** The tensor the problem is about, when there is one. */
  readonly tensor: string | undefined;
  /** The header field or check that failed, e.g. `dtype`, `shape`, `data_offsets`, `header length`. */
  readonly field: string | undefined;

  constructor(source: string, detail: string, where: { tensor?: string; field?: string } = {}) {
    const parts = [oneLine(source) + ':'];
    if (where.tensor !== undefined) parts.push(`tensor ${quoteName(where.tensor)}`);
    if (where.field !== undefined) parts.push(where.field + ':');
    else if (where.tensor !== undefined) parts[parts.length - 1] += ':';
    parts.push(oneLine(detail));
    super(parts.join(' '));
    this.source = source;
    this.tensor = where.tensor;
    this.field = where.field;
  }
}

/** Tensor names come from untrusted files: quote them, escape control characters and cap the length. */
export function quoteName(name: string, max = 80): string {
  const short = name.length > max ? name.slice(0, max) + '...' : name;
  return JSON.stringify(short);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** A short, one-line description of an untrusted value for an error message ("got ..."). */
export function describeValue(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) {
    let text: string;
    try {
      text = JSON.stringify(x.slice(0, 8)); // bounded work, whatever the array holds
    } catch {
      text = '[...]';
    }
    return text.length > 60 || x.length > 8 ? `${text.slice(0, 60)}...] (${x.length} items)` : text;
  }
  if (typeof x === 'object') {
    const proto = Object.getPrototypeOf(x) as { constructor?: unknown } | null;
    const ctor = proto?.constructor;
    return typeof ctor === 'function' && ctor !== Object ? `a ${ctor.name}` : 'an object';
  }
  if (typeof x === 'string') return quoteName(x, 40);
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') return `${typeof x} ${String(x)}`;
  return `a ${typeof x}`;
}
