import { CheckpointError, describeValue, quoteName } from './checkpoint-error.js';
import { Tensor, shapeToString } from './tensor.js';

/**
 * A state dict: flat names (PyTorch style, `0.weight`, `optim.0.weight.exp_avg`) to tensors. It is what a
 * checkpoint file holds (see safetensors.ts) and what modules and optimizers export and import.
 */
export type StateDict = Record<string, Tensor>;

export interface LoadOptions {
  /**
   * true: every name of `target` must be in `loaded` and vice versa (PyTorch's default). false: names present on
   * one side only are skipped and reported, as PyTorch's `load_state_dict(strict=False)`.
   */
  strict: boolean;
  /** Named in errors (the checkpoint's path, say). */
  source?: string;
}

export interface LoadReport {
  /** Names copied, in `target`'s order. */
  loaded: string[];
  /** In `target` but not in `loaded` (always empty after a strict load). */
  missing: string[];
  /** In `loaded` but not in `target` (always empty after a strict load). */
  unexpected: string[];
}

/**
 * Copies `loaded[name].data` into `target[name].data` in place, so that whoever holds the target tensors (a module,
 * an optimizer) sees the new values; `requiresGrad` and `grad` are left as they are. Shapes and dtypes must match
 * in both modes (a shape mismatch is never a partial load). Every check runs before the first copy: when it throws,
 * `target` is unchanged. The CheckpointError lists every problem in one line, each naming its tensor.
 */
export function loadInto(
  target: Readonly<StateDict>,
  loaded: Readonly<StateDict>,
  options: LoadOptions = { strict: true },
): LoadReport {
  const source = options.source ?? '<state>';
  const targetNames = Object.keys(target);
  const missing = targetNames.filter((name) => !Object.hasOwn(loaded, name));
  const unexpected = Object.keys(loaded).filter((name) => !Object.hasOwn(target, name));
  const names = targetNames.filter((name) => Object.hasOwn(loaded, name));

  const problems: { text: string; tensor?: string; field: string }[] = [];
  if (options.strict && missing.length > 0) {
    problems.push({ text: `missing from the checkpoint: ${nameList(missing)}`, field: 'keys' });
  }
  if (options.strict && unexpected.length > 0) {
    problems.push({ text: `unexpected in the checkpoint: ${nameList(unexpected)}`, field: 'keys' });
  }
  for (const name of names) {
    const to = target[name]!;
    const from: unknown = loaded[name];
    if (!(from instanceof Tensor)) {
      problems.push({ text: `expected a Tensor, got ${describeValue(from)}`, tensor: name, field: 'value' });
    } else if (to.dtype !== from.dtype) {
      problems.push({ text: `expected ${to.dtype}, got ${from.dtype}`, tensor: name, field: 'dtype' });
    } else if (!sameShape(to.shape, from.shape)) {
      const text = `expected ${shapeToString(to.shape)} (model), got ${shapeToString(from.shape)} (checkpoint)`;
      problems.push({ text, tensor: name, field: 'shape' });
    }
  }
  if (problems.length === 1) {
    const p = problems[0]!;
    throw new CheckpointError(
      source,
      p.text,
      p.tensor === undefined ? { field: p.field } : { tensor: p.tensor, field: p.field },
    );
  }
  if (problems.length > 1) {
    const text = problems.map(
      (p) => (p.tensor === undefined ? '' : `tensor ${quoteName(p.tensor)} `) + `${p.field}: ${p.text}`,
    );
    throw new CheckpointError(source, `${problems.length} problems: ${text.join('; ')}`);
  }

  for (const name of names) target[name]!.data.set(loaded[name]!.data);
  return { loaded: names, missing, unexpected };
}

/** `{ name: t }` -> `{ prefix + name: t }` (the same tensors), e.g. to store an optimizer's state under `optim.`. */
export function withPrefix(state: Readonly<StateDict>, prefix: string): StateDict {
  // fromEntries defines keys as own properties, so a name such as "__proto__" stays a name.
  return Object.fromEntries(Object.entries(state).map(([name, t]) => [prefix + name, t]));
}

/** The entries whose names start with `prefix`, with the prefix removed: the inverse of `withPrefix`. */
export function underPrefix(state: Readonly<StateDict>, prefix: string): StateDict {
  const entries = Object.entries(state).filter(([name]) => name.startsWith(prefix));
  return Object.fromEntries(entries.map(([name, t]) => [name.slice(prefix.length), t]));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function nameList(names: readonly string[], max = 10): string {
  const shown = names.slice(0, max).map((n) => quoteName(n));
  return `[${shown.join(', ')}${names.length > max ? `, ... ${names.length - max} more` : ''}]`;
}
