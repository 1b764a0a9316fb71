/**
 * Shared pieces of the benchmark scripts (not tests): the result schema that spikets (bench/train.ts) and the
 * PyTorch peer (bench/peer/peer.py) both write, timing with medians, the golden weights, and paths.
 *
 * Timing protocol (the peer's, ../shared/reference/README.md): `warmup` untimed calls, then `reps` timed calls;
 * the row's figure is the median wall time. CPU seconds of the whole process (every thread) are kept next to it:
 * on a shared, loaded machine wall time overstates the cost, CPU time much less so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The measured rows, keyed the same way on both sides so that bench/run.ts can pair them. */
export const ROW_NAMES = [
  'snn_train_t50',
  'snn_train_t25',
  'snn_train_t10',
  'snn_forward_t50',
  'cnn_train',
  'cnn_forward',
] as const;
export type RowName = (typeof ROW_NAMES)[number];

export const LABELS: Record<RowName, string> = {
  snn_train_t50: 'SNN train iteration, T=50',
  snn_train_t25: 'SNN train iteration, T=25',
  snn_train_t10: 'SNN train iteration, T=10',
  snn_forward_t50: 'SNN forward only, T=50',
  cnn_train: 'CNN train iteration',
  cnn_forward: 'CNN forward only',
};

/** Largest allowed spikets / PyTorch time ratio per row (null: reported, no target). */
export const TARGET_RATIO: Record<RowName, number | null> = {
  snn_train_t50: 1 / 3,
  snn_train_t25: 1 / 3,
  snn_train_t10: 1 / 3,
  snn_forward_t50: 1 / 3,
  cnn_train: 1,
  cnn_forward: null,
};
export const TARGET_SNN_PEAK_RSS_MB = 600;

/** The peer's best-config figures from ../shared/reference/README.md (torch 2 threads, OpenBLAS 1; lower bounds). */
export const STORED_PEER_S: Record<RowName, number> = {
  snn_train_t50: 0.72,
  snn_train_t25: 0.39,
  snn_train_t10: 0.16,
  snn_forward_t50: 0.36,
  cnn_train: 0.014,
  cnn_forward: 0.006,
};

/** The same README's 1-thread figures (lower bounds). */
export const STORED_PEER_1T_S: Record<RowName, number> = {
  snn_train_t50: 1.2,
  snn_train_t25: 0.62,
  snn_train_t10: 0.25,
  snn_forward_t50: 0.57,
  cnn_train: 0.022,
  cnn_forward: 0.01,
};

export interface RowTiming {
  median_s: number;
  min_s: number;
  /** Median CPU seconds of the process (all threads) per call. */
  cpu_median_s: number;
  reps: number;
  warmup: number;
  times_s: number[];
}

/** What both bench/train.ts and bench/peer/peer.py write (snake_case because Python reads and writes it too). */
export interface BenchResult {
  tool: 'spikets' | 'pytorch-peer';
  /** Backend / library description, e.g. `wasm-relaxed x2 threads` or `torch 1.13.1 (2 threads)`. */
  engine: string;
  env: Record<string, unknown>;
  config: Record<string, unknown>;
  rows: Partial<Record<RowName, RowTiming>>;
  /** Peak resident set size (MB) of the process right after the SNN T=50 training row, and at the end. */
  peak_rss_mb: { after_snn_train_t50: number | null; end: number };
  /** Anything else a side measures (spike densities, RSS flatness, losses). */
  extra: Record<string, unknown>;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `warmup` untimed calls, then `reps` timed ones (wall via performance.now, CPU via process.cpuUsage). */
export function timeRow(fn: () => void, reps: number, warmup: number): RowTiming {
  for (let i = 0; i < warmup; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return {
    median_s: median(wall),
    min_s: Math.min(...wall),
    cpu_median_s: median(cpu),
    reps,
    warmup,
    times_s: wall.map((t) => Number(t.toFixed(5))),
  };
}

/** Peak RSS of this process so far, in MB (resourceUsage().maxRSS is in kilobytes). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function rssMb(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

/** The project root: the nearest folder above this file whose package.json is spikets' (works compiled too). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
      if (name === 'spikets') return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`bench/common.ts: no spikets package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export function defaultGoldenPath(): string {
  return resolve(repoRoot(), '..', 'shared', 'golden', 'network.json');
}

/**
 * Parameters of a golden weight set of network.json (`init_seed0` or `after30iters`), in the order of
 * `net.parameters()` (conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight, fc.bias), PyTorch layouts.
 * `after30iters` is the default of both benchmark sides: at the seed init the second and output LIF layers are
 * silent, which would flatter a spike-sparse engine; after 30 iterations the activity is typical of training.
 */
export function goldenWeights(path: string, set: 'init_seed0' | 'after30iters'): Float32Array[] {
  if (!existsSync(path)) {
    throw new Error(
      `bench: golden weights ${path} not found (expected ../shared/golden/network.json next to the project); ` +
        'pass --golden PATH, or --weights init to start from the seed-0 init',
    );
  }
  const doc = JSON.parse(readFileSync(path, 'utf8')) as {
    weight_sets?: Record<string, { weights?: Record<string, { shape: number[]; b64: string }> }>;
  };
  const weights = doc.weight_sets?.[set]?.weights;
  if (!weights) throw new Error(`bench: ${path} has no weight_sets.${set}.weights`);
  const names = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', 'fc.bias'];
  return names.map((name) => {
    const entry = weights[name];
    if (!entry) throw new Error(`bench: ${path}: weight_sets.${set}.weights.${name} is missing`);
    const bytes = Buffer.from(entry.b64, 'base64');
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Float32Array(copy.buffer);
  });
}

/** Formats seconds for tables: ms below 1 s. */
export function fmtSeconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '-';
  return s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(3)} s`;
}

/** A plain text table with right-aligned numeric columns. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
