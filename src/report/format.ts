/**
 * Number formatting shared by the terminal summary, the Markdown and the HTML report, so the three agree.
 * `null` (a quantity that does not exist, e.g. a threshold never reached) prints as an em dash.
 */
export const MISSING = '—';

type Maybe = number | null | undefined;

function missing(x: Maybe): x is null | undefined {
  return x === null || x === undefined || !Number.isFinite(x);
}

/** Fixed decimals. */
export function fmtNum(x: Maybe, digits = 3): string {
  return missing(x) ? MISSING : x.toFixed(digits);
}

/** A fraction as a percentage: 0.9812 -> "98.12%". */
export function fmtPct(x: Maybe, digits = 2): string {
  return missing(x) ? MISSING : `${(x * 100).toFixed(digits)}%`;
}

/** A ratio: 5.234 -> "5.23×". */
export function fmtRatio(x: Maybe, digits = 2): string {
  return missing(x) ? MISSING : `${x.toFixed(digits)}×`;
}

/** Seconds: "0.123 s", "12.3 s", "4 min 05 s", "1 h 02 min". */
export function fmtSeconds(x: Maybe): string {
  if (missing(x)) return MISSING;
  if (x < 1) return `${x.toFixed(3)} s`;
  if (x < 100) return `${x.toFixed(1)} s`;
  const total = Math.round(x);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${String(s).padStart(2, '0')} s`;
}

/** Integers with thousands separators: 12345 -> "12,345". */
export function fmtInt(x: Maybe): string {
  if (missing(x)) return MISSING;
  return Math.round(x)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Large counts with an SI prefix: 2.35e6 -> "2.35 M". */
export function fmtSi(x: Maybe, digits = 3): string {
  if (missing(x)) return MISSING;
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, unit] of units) {
    if (Math.abs(x) >= scale) return `${(x / scale).toPrecision(digits)} ${unit}`;
  }
  return Number.isInteger(x) ? String(x) : x.toPrecision(digits);
}

/** Bytes in binary units: "12.3 MiB". */
export function fmtBytes(x: Maybe): string {
  if (missing(x)) return MISSING;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = x;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Generic display of a config/environment value. */
export function fmtValue(v: unknown): string {
  if (v === null || v === undefined) return MISSING;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** Flatten nested records to dotted keys: {surrogate: {kind, slope}} -> surrogate.kind, surrogate.slope. */
export function flattenRecord(obj: Record<string, unknown>, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(obj)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out.push(...flattenRecord(value as Record<string, unknown>, name));
    } else {
      out.push([name, fmtValue(value)]);
    }
  }
  return out;
}
