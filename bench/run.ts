/**
 * The benchmark runner (not a test).
 *
 *   npm run bench        bench/train.ts (spikets) and bench/gemm.ts when it was built, then a summary against the
 *                        peer's figures stored in ../shared/reference/README.md (another session: indicative only)
 *   npm run bench:peer   spikets and the PyTorch peer (bench/peer/peer.py) alternately, `--rounds` times each
 *                        (spikets, peer 2 threads, peer 1 thread, spikets, ...), then per row the medians of each
 *                        side, the ratio spikets / fastest PyTorch configuration, and the verdict against the targets
 *                        below. Only ratios measured in one session mean anything: absolute times drift with the
 *                        load on a shared machine (the runner warns when the machine is busy).
 *
 * Targets (the benchmark issue): SNN training iteration (T = 50, 25, 10) <= 1/3 of the peer, SNN forward <= 1/3,
 * CNN training iteration <= the peer, peak RSS of SNN training <= 600 MB.
 *
 * Options: [--peer] [--rounds N] [--python PATH] [--strict] [--no-gemm] and, passed on to both sides, [--reps N]
 * [--cnn-reps N] [--warmup N] [--rows a,b]; to spikets only: [--backend wasm|reference] [--threads N]
 * [--rss-iters N] [--weights trained|init]; to the peer only: [--peer-threads 2,1] (torch thread counts, one
 * peer run per count and round; each row is compared with the fastest) [--openblas-threads N].
 * When the wasm backend does not load, the runner says so and measures the reference backend instead (3 reps).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type BenchResult,
  fmtSeconds,
  LABELS,
  median,
  repoRoot,
  ROW_NAMES,
  type RowName,
  STORED_PEER_1T_S,
  STORED_PEER_S,
  table,
  TARGET_RATIO,
  TARGET_SNN_PEAK_RSS_MB,
} from './common.js';

const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: {
    peer: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '2' },
    python: { type: 'string' },
    strict: { type: 'boolean', default: false },
    'no-gemm': { type: 'boolean', default: false },
    reps: { type: 'string' },
    'cnn-reps': { type: 'string' },
    warmup: { type: 'string' },
    rows: { type: 'string' },
    backend: { type: 'string' },
    threads: { type: 'string' },
    'rss-iters': { type: 'string' },
    weights: { type: 'string' },
    'peer-threads': { type: 'string' },
    'openblas-threads': { type: 'string' },
  },
  strict: true,
});

const here = fileURLToPath(new URL('.', import.meta.url));
const root = repoRoot();
const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });

function flags(pairs: [string, string | undefined][]): string[] {
  return pairs.flatMap(([k, v]) => (v === undefined ? [] : [`--${k}`, v]));
}

const sharedFlags = flags([
  ['reps', opts.reps],
  ['cnn-reps', opts['cnn-reps']],
  ['warmup', opts.warmup],
  ['rows', opts.rows],
]);

let spiketsBackend = opts.backend ?? 'wasm';
let fallbackNote: string | null = null;

/** Runs bench/train.js once; on a wasm load failure (exit 3) switches to the reference backend and says so. */
function runSpikets(name: string, extra: string[] = [], rssIters = opts['rss-iters']): BenchResult {
  const args = (backend: string): string[] => [
    join(here, 'train.js'),
    ...sharedFlags,
    ...flags([
      ['backend', backend],
      ['threads', opts.threads],
      ['rss-iters', rssIters],
      ['weights', opts.weights],
      ['name', name],
    ]),
    ...extra,
  ];
  let r = spawnSync(process.execPath, args(spiketsBackend), { stdio: 'inherit' });
  if (r.status === 3 && spiketsBackend === 'wasm') {
    fallbackNote = "the wasm backend did not load (see the error above): these are the REFERENCE backend's figures";
    console.error(`\nbench: ${fallbackNote}; rerunning with --backend reference`);
    spiketsBackend = 'reference';
    const fewer = opts.reps === undefined ? ['--reps', '3', '--warmup', '1', '--cnn-reps', '10'] : [];
    r = spawnSync(process.execPath, [...args('reference'), ...fewer], { stdio: 'inherit' });
  }
  if (r.status !== 0) throw new Error(`bench: bench/train.js exited with ${r.status ?? r.signal}`);
  return JSON.parse(readFileSync(join(resultsDir, `${name}.json`), 'utf8')) as BenchResult;
}

/** A Python that imports torch: --python, SPIKETS_PEER_PYTHON, then Debian's /usr/bin/python3, then python3. */
function findPython(): string {
  const candidates = [opts.python, process.env.SPIKETS_PEER_PYTHON, '/usr/bin/python3', 'python3'].filter(
    (c): c is string => !!c,
  );
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
    if (py === opts.python) throw new Error(`bench: --python ${py} cannot import torch`);
  }
  throw new Error(
    `bench: no Python with torch among ${candidates.join(', ')} (apt-get install python3-torch, or pass --python PATH)`,
  );
}

function runPeer(python: string, name: string, threads: string): BenchResult {
  const out = join(resultsDir, `${name}.json`);
  const args = [
    join(root, 'bench', 'peer', 'peer.py'),
    ...sharedFlags,
    ...flags([
      ['threads', threads],
      ['openblas-threads', opts['openblas-threads']],
      ['weights', opts.weights],
    ]),
    '--out',
    out,
  ];
  console.log(`\n== PyTorch peer (${name}) ==`);
  const r = spawnSync(python, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench: bench/peer/peer.py exited with ${r.status ?? r.signal}`);
  return JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
}

/** All timed repetitions of a row across runs (pooled), so the median uses every sample. */
function pooledMedian(results: BenchResult[], row: RowName): number | undefined {
  const times = results.flatMap((r) => r.rows[row]?.times_s ?? []);
  return times.length > 0 ? median(times) : undefined;
}

function verdict(ratio: number | undefined, target: number | null): string {
  if (target === null || ratio === undefined) return '';
  return ratio <= target ? 'PASS' : 'FAIL';
}

function fmtRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? '-' : r.toFixed(3);
}

function fmtTarget(t: number | null): string {
  return t === null ? '-' : t === 1 ? '<= 1' : `<= 1/${Math.round(1 / t)}`;
}

function maxPeakRss(results: BenchResult[]): number | null {
  const v = results.map((r) => r.peak_rss_mb.after_snn_train_t50).filter((x): x is number => x !== null);
  return v.length > 0 ? Math.max(...v) : null;
}

function benchOnly(): void {
  const busy = busyWarning('at the start');
  if (busy) console.log(`WARNING: ${busy}\n`);
  console.log('== spikets: bench/train.ts ==');
  const result = runSpikets('spikets-bench');
  const gemm = join(here, 'gemm.js');
  if (!opts['no-gemm'] && existsSync(gemm) && spiketsBackend === 'wasm') {
    console.log('\n== spikets: bench/gemm.ts ==');
    const r = spawnSync(process.execPath, [gemm], { stdio: 'inherit' });
    if (r.status !== 0) console.error(`bench: bench/gemm.js exited with ${r.status ?? r.signal} (continuing)`);
  }
  console.log(`\n== summary: ${result.engine}; load average ${os.loadavg()[0]!.toFixed(2)} ==`);
  console.log(
    'The peer column is the stored figure of ../shared/reference/README.md (another session and load): indicative only;',
  );
  console.log('run `npm run bench:peer` for a same-session comparison.\n');
  const rows = ROW_NAMES.filter((r) => result.rows[r]).map((r) => {
    const s = result.rows[r]!.median_s;
    const ratio = s / STORED_PEER_S[r];
    return [
      LABELS[r],
      fmtSeconds(s),
      fmtSeconds(result.rows[r]!.cpu_median_s),
      fmtSeconds(STORED_PEER_S[r]),
      fmtRatio(ratio),
      fmtTarget(TARGET_RATIO[r]),
      verdict(ratio, TARGET_RATIO[r]),
    ];
  });
  console.log(table(['row', 'spikets', 'cpu/iter', 'peer (stored)', 'ratio', 'target', ''], rows));
  printRss([result]);
  if (fallbackNote) console.log(`\nNOTE: ${fallbackNote}.`);
}

function printRss(spikets: BenchResult[]): boolean {
  const peak = maxPeakRss(spikets);
  const ok = peak !== null && peak <= TARGET_SNN_PEAK_RSS_MB;
  console.log(
    `peak RSS of SNN training (spikets, whole process after the T=50 row): ${peak === null ? '-' : `${peak.toFixed(0)} MB`}` +
      ` (target <= ${TARGET_SNN_PEAK_RSS_MB} MB) ${peak === null ? '' : ok ? 'PASS' : 'FAIL'}`,
  );
  type Flatness = { growth_mb: number; growth_from_iter: number; iters: number };
  const flat = spikets.map((r) => r.extra.rss_flatness as Flatness | undefined).filter((f) => f !== undefined);
  for (const f of flat)
    console.log(
      `RSS growth of SNN T=50 training from iteration ${f.growth_from_iter} to ${f.iters}: ${f.growth_mb} MB`,
    );
  return ok;
}

/** Torch thread counts of the peer's configurations (`--peer-threads 2,1`); each row is compared with the fastest. */
function peerThreadList(): string[] {
  const raw = opts['peer-threads'] ?? '2,1';
  const list = raw.split(',').filter((t) => t !== '');
  if (list.length === 0 || list.some((t) => !/^[1-9]\d*$/.test(t))) {
    throw new Error(`bench: --peer-threads must be a comma-separated list of thread counts, got ${raw}`);
  }
  return list;
}

/**
 * A warning when the machine is busy. PyTorch's OpenMP threads spin while they wait for each other, so a 2-thread
 * peer sharing 2 cores with another busy process can run 10x slower (measured), far more than the CPU share it lost:
 * ratios taken then flatter spikets. The 1-thread configuration is much less affected, hence `--peer-threads 2,1`.
 */
function busyWarning(when: string): string | null {
  const load = os.loadavg()[0]!;
  const cpus = os.cpus().length;
  if (load <= 0.75 * cpus) return null;
  return (
    `load average ${load.toFixed(2)} on ${cpus} CPUs ${when}: the machine is busy; times are noisy and a multi-threaded ` +
    'PyTorch slows down far more than its lost CPU share, which flatters spikets. Rerun on a quiet machine.'
  );
}

/** First training loss of each training row on both sides: same weights and first batch, so they must agree. */
function lossAgreement(s: BenchResult, p: BenchResult): { row: string; spikets: number; peer: number; ok: boolean }[] {
  const sl = (s.extra.losses ?? {}) as Record<string, number[]>;
  const pl = (p.extra.losses ?? {}) as Record<string, number[]>;
  return Object.keys(sl)
    .filter((row) => sl[row]?.[0] !== undefined && pl[row]?.[0] !== undefined)
    .map((row) => {
      const a = sl[row]![0]!;
      const b = pl[row]![0]!;
      return { row, spikets: a, peer: b, ok: Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(b)) };
    });
}

function withPeer(): void {
  const rounds = Number(opts.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`bench: --rounds must be an integer >= 1, got ${opts.rounds}`);
  const python = findPython();
  const threadList = peerThreadList();
  const warnings: string[] = [];
  const warn = (w: string | null): void => {
    if (w === null) return;
    console.log(`\nWARNING: ${w}`);
    warnings.push(w);
  };
  warn(busyWarning('at the start'));
  const spikets: BenchResult[] = [];
  const peer = new Map<string, BenchResult[]>(threadList.map((t) => [t, []]));
  for (let k = 1; k <= rounds; k++) {
    console.log(`\n== round ${k}/${rounds}: spikets ==`);
    // The RSS flatness run (spikets only) once, in the first round.
    const s = runSpikets(`spikets-round${k}`, ['--quiet'], k === 1 ? opts['rss-iters'] : '0');
    spikets.push(s);
    console.log(
      `  ${ROW_NAMES.filter((r) => s.rows[r])
        .map((r) => `${r} ${fmtSeconds(s.rows[r]!.median_s)}`)
        .join(', ')}`,
    );
    for (const t of threadList) peer.get(t)!.push(runPeer(python, `peer-t${t}-round${k}`, t));
  }
  warn(busyWarning('at the end'));

  const first = peer.get(threadList[0]!)![0]!;
  console.log(`\n== spikets vs PyTorch, ${rounds} alternating round(s) ==`);
  console.log(`spikets: ${spikets[0]!.engine}`);
  console.log(
    `PyTorch: torch ${String(first.env.torch)}, ${threadList.map((t) => `${t} thread(s)`).join(' and ')}, OPENBLAS_NUM_THREADS=${String(first.config.openblas_threads)}; ${String(first.config.data)}`,
  );
  console.log(
    'Each row compares with the fastest PyTorch configuration; medians pool every timed repetition of all rounds;',
  );
  console.log('"per round": ratios of each round\'s own medians; "cpu ratio": CPU seconds per call (all threads).\n');

  let allPass = true;
  const summaryRows: Record<string, unknown>[] = [];
  const present = ROW_NAMES.filter((r) => spikets.some((s) => s.rows[r]) && first.rows[r]);
  const rows = present.map((r) => {
    const s = pooledMedian(spikets, r);
    const perConfig = threadList.map((t) => ({ threads: t, median: pooledMedian(peer.get(t)!, r) ?? Infinity }));
    const best = perConfig.reduce((a, b) => (b.median < a.median ? b : a));
    const ratio = s !== undefined ? s / best.median : undefined;
    const perRound = spikets.map((sr, i) => {
      const p = Math.min(...threadList.map((t) => peer.get(t)![i]!.rows[r]?.median_s ?? Infinity));
      return (sr.rows[r]?.median_s ?? NaN) / p;
    });
    const cpuS = median(spikets.map((x) => x.rows[r]?.cpu_median_s ?? NaN));
    const cpuP = median(peer.get(best.threads)!.map((x) => x.rows[r]?.cpu_median_s ?? NaN));
    const v = verdict(ratio, TARGET_RATIO[r]);
    if (v === 'FAIL') allPass = false;
    summaryRows.push({
      row: r,
      spikets_median_s: s,
      peer_median_s: Object.fromEntries(perConfig.map((c) => [`threads_${c.threads}`, c.median])),
      peer_best_threads: Number(best.threads),
      ratio,
      ratio_per_round: perRound,
      cpu_ratio: cpuS / cpuP,
      target_ratio: TARGET_RATIO[r],
      verdict: v || null,
    });
    return [
      LABELS[r],
      fmtSeconds(s),
      fmtSeconds(best.median),
      best.threads,
      fmtRatio(ratio),
      perRound.map(fmtRatio).join(' '),
      fmtRatio(cpuS / cpuP),
      fmtTarget(TARGET_RATIO[r]),
      v,
    ];
  });
  console.log(table(['row', 'spikets', 'PyTorch', 'thr', 'ratio', 'per round', 'cpu ratio', 'target', ''], rows));
  const rssOk = printRss(spikets);
  if (!rssOk) allPass = false;
  const peerPeak = maxPeakRss([...peer.values()].flat());
  console.log(`peak RSS of SNN training (PyTorch): ${peerPeak === null ? '-' : `${peerPeak.toFixed(0)} MB`}`);

  // The peer against its own stored figures: a peer far slower than usual means a disturbed session.
  console.log(
    '\nPyTorch per configuration (pooled medians) next to the stored figures of ../shared/reference/README.md:',
  );
  console.log(
    table(
      ['row', ...threadList.map((t) => `${t} thread(s)`), 'stored 2 thr', 'stored 1 thr'],
      present.map((r) => [
        LABELS[r],
        ...threadList.map((t) => fmtSeconds(pooledMedian(peer.get(t)!, r))),
        fmtSeconds(STORED_PEER_S[r]),
        fmtSeconds(STORED_PEER_1T_S[r]),
      ]),
    ),
  );

  const losses = lossAgreement(spikets[0]!, first);
  const lossOk = losses.every((l) => l.ok);
  if (losses.length > 0) {
    console.log(
      `\nfirst training loss (same weights, same batch) spikets / PyTorch: ${losses.map((l) => `${l.row} ${l.spikets} / ${l.peer}`).join(', ')}`,
    );
    if (!lossOk) warn('the two sides disagree on the first training loss: they are not doing the same computation');
  }
  if (fallbackNote) console.log(`\nNOTE: ${fallbackNote}.`);
  const summary = {
    date: new Date().toISOString(),
    rounds,
    loadavg_end: os.loadavg(),
    spikets_engine: spikets[0]!.engine,
    peer_engines: threadList.map((t) => peer.get(t)![0]!.engine),
    rows: summaryRows,
    spikets_peak_rss_mb: maxPeakRss(spikets),
    peer_peak_rss_mb: peerPeak,
    target_snn_peak_rss_mb: TARGET_SNN_PEAK_RSS_MB,
    first_losses: losses,
    all_targets_met: allPass,
    warnings,
    note: fallbackNote,
  };
  const file = join(resultsDir, 'bench-peer-summary.json');
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
  if (opts.strict && (!allPass || !lossOk)) process.exit(1);
}

try {
  if (opts.peer) withPeer();
  else benchOnly();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
