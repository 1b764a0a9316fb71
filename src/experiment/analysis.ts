/**
 * The comparison study's four questions, answered from a `Results` file by pure functions:
 *  1. per-epoch training time of each model and the SNN/CNN ratio;
 *  2. time to accuracy: the first evaluation reaching each threshold, in iterations, (fractional) epochs and
 *     training wall time, and the SNN/CNN ratio at equal accuracy (null when either model never reached it);
 *  3. convergence speed and stability of the training loss (see `lossConvergence`);
 *  4. final and best test accuracy, confusion matrix and per-class accuracy;
 * plus spikes and operations per inference.
 *
 * Ratios are always SNN / CNN: above 1 means the SNN needs more (time, iterations, operations).
 */
import {
  wholeTestEvals,
  type EvalRecord,
  type ModelKind,
  type ModelRecord,
  type Results,
  type RunConfig,
  type RunStatus,
} from './results.js';

export const DEFAULT_THRESHOLDS: readonly number[] = [0.9, 0.95, 0.97, 0.98];
export const DEFAULT_SMOOTHING_WINDOW = 25;
export const DEFAULT_SETTLE_TOLERANCE = 0.05;
/**
 * Minimum of snnTorch's ceRateLoss for 0/1 output spikes over 10 classes: the target neuron fires and the others
 * stay silent at every step, so each step costs -log(e / (e + 9)) = log(1 + 9/e) = 1.46117.
 */
export const CE_RATE_LOSS_FLOOR = Math.log(1 + 9 / Math.E);
export const DEFAULT_LOSS_FLOOR: Readonly<Record<ModelKind, number>> = { snn: CE_RATE_LOSS_FLOOR, cnn: 0 };

export interface AnalysisOptions {
  /** Accuracy thresholds for question 2 (fractions). */
  thresholds?: readonly number[];
  /** Centered moving-average window in iterations (made odd, and at most a quarter of the run). */
  smoothingWindow?: number;
  /** Half-width of the settling band on the normalised loss scale (0.05 = 5% of initial-to-floor). */
  settleTolerance?: number;
}

export interface PerModel<T> {
  snn: T | null;
  cnn: T | null;
}

export interface ModelSummary {
  kind: ModelKind;
  status: RunStatus;
  message: string | null;
  itersPerEpoch: number;
  iterations: number;
  epochsCompleted: number;
  /** Cumulative training time at the last recorded iteration (eval time excluded). */
  trainTimeS: number;
}

export interface TrainingTime {
  epochCount: number;
  meanEpochS: number | null;
  minEpochS: number | null;
  maxEpochS: number | null;
  meanEvalS: number | null;
  meanIterationS: number | null;
}
export interface EpochTimeRow {
  epoch: number;
  snnS: number | null;
  cnnS: number | null;
  ratio: number | null;
}
export interface EpochTimeAnalysis extends PerModel<TrainingTime> {
  rows: EpochTimeRow[];
  /** mean SNN epoch time / mean CNN epoch time. */
  meanEpochRatio: number | null;
  /** mean SNN iteration time / mean CNN iteration time (available even before a full epoch). */
  meanIterationRatio: number | null;
}

export interface Reach {
  iter: number;
  /** iter / itersPerEpoch. */
  epochs: number;
  timeS: number;
  accuracy: number;
}
export interface TimeToAccuracyRow extends PerModel<Reach> {
  threshold: number;
  /** SNN / CNN, null when either model did not reach the threshold. */
  ratio: { iterations: number | null; epochs: number | null; timeS: number | null } | null;
}

export interface LossConvergence {
  floor: number;
  /** Raw loss of the first iteration: the top of the normalised scale (null when nothing was recorded). */
  initialLoss: number | null;
  finalSmoothedLoss: number | null;
  finalNormalised: number | null;
  window: number;
  /** First iteration from which the normalised smoothed loss stays within the tolerance of its final value. */
  settle: { index: number; iter: number; epochs: number; timeS: number } | null;
  /** Normalised raw loss from the settling point to the end: its spread measures stability. */
  tail: { count: number; mean: number; std: number; cv: number | null } | null;
  /** Why `settle` is null, when it is. */
  note: string | null;
}
export interface ConvergenceAnalysis extends PerModel<LossConvergence> {
  settleIterRatio: number | null;
  settleTimeRatio: number | null;
}

export interface ModelAccuracy {
  final: number | null;
  best: number | null;
  bestIter: number | null;
  /** Per true class: diagonal / row sum (null for a class with no test samples). */
  perClass: (number | null)[];
  support: number[];
  confusion: number[][];
  /** trace / total of the confusion matrix (equals `final` when the matrix comes from the final evaluation). */
  confusionAccuracy: number | null;
  worstClass: { cls: number; accuracy: number } | null;
}
export interface AccuracyAnalysis extends PerModel<ModelAccuracy> {
  /** SNN final - CNN final, in accuracy points (fraction). */
  finalDifference: number | null;
}

export interface ModelEfficiency {
  spikesPerInference: number | null;
  operationsPerInference: number;
  spikeRates: { layer: string; rate: number }[];
  peakMemoryBytes: number | null;
}
export interface EfficiencyAnalysis extends PerModel<ModelEfficiency> {
  /** SNN synaptic operations / CNN MACs per inference. */
  operationsRatio: number | null;
  memoryRatio: number | null;
}

export interface Analysis {
  options: { thresholds: number[]; smoothingWindow: number; settleTolerance: number };
  models: PerModel<ModelSummary>;
  epochTime: EpochTimeAnalysis;
  timeToAccuracy: TimeToAccuracyRow[];
  convergence: ConvergenceAnalysis;
  accuracy: AccuracyAnalysis;
  efficiency: EfficiencyAnalysis;
}

const KINDS: readonly ModelKind[] = ['snn', 'cnn'];

/** a / b, or null when either is missing or b is not positive. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return null;
  return a / b;
}

function perModel<T>(results: Results, fn: (rec: ModelRecord, kind: ModelKind) => T): PerModel<T> {
  const out: PerModel<T> = { snn: null, cnn: null };
  for (const kind of KINDS) {
    const rec = results.models[kind];
    if (rec !== undefined) out[kind] = fn(rec, kind);
  }
  return out;
}

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** The runner's count, else ceil(train samples / batch size). */
export function itersPerEpoch(rec: ModelRecord, config: RunConfig): number {
  return rec.itersPerEpoch ?? Math.ceil(config.subset.train / config.batchSize);
}

export function lossFloor(rec: ModelRecord): number {
  return rec.lossFloor ?? DEFAULT_LOSS_FLOOR[rec.kind];
}

// ---- 1. per-epoch training time -------------------------------------------------------------------------------

export function trainingTime(rec: ModelRecord): TrainingTime {
  const times = rec.epochs.map((e) => e.trainTimeS);
  return {
    epochCount: rec.epochs.length,
    meanEpochS: mean(times),
    minEpochS: times.length ? Math.min(...times) : null,
    maxEpochS: times.length ? Math.max(...times) : null,
    meanEvalS: mean(rec.epochs.map((e) => e.evalTimeS)),
    meanIterationS: mean(rec.iterations.map((it) => it.timeS)),
  };
}

export function epochTimeAnalysis(results: Results): EpochTimeAnalysis {
  const t = perModel(results, trainingTime);
  const epochNumbers = new Set<number>();
  for (const kind of KINDS) for (const e of results.models[kind]?.epochs ?? []) epochNumbers.add(e.epoch);
  const find = (kind: ModelKind, epoch: number): number | null =>
    results.models[kind]?.epochs.find((e) => e.epoch === epoch)?.trainTimeS ?? null;
  const rows = [...epochNumbers]
    .sort((a, b) => a - b)
    .map((epoch) => {
      const snnS = find('snn', epoch);
      const cnnS = find('cnn', epoch);
      return { epoch, snnS, cnnS, ratio: ratio(snnS, cnnS) };
    });
  return {
    ...t,
    rows,
    meanEpochRatio: ratio(t.snn?.meanEpochS, t.cnn?.meanEpochS),
    meanIterationRatio: ratio(t.snn?.meanIterationS, t.cnn?.meanIterationS),
  };
}

// ---- 2. time to accuracy ----------------------------------------------------------------------------------------

/** The first evaluation (in iteration order) with testAccuracy >= threshold, or null. */
export function firstReach(evals: readonly EvalRecord[], threshold: number, perEpoch: number): Reach | null {
  const sorted = [...evals].sort((a, b) => a.iter - b.iter);
  const hit = sorted.find((e) => e.testAccuracy >= threshold);
  if (hit === undefined) return null;
  return { iter: hit.iter, epochs: hit.iter / perEpoch, timeS: hit.elapsedS, accuracy: hit.testAccuracy };
}

export function timeToAccuracy(results: Results, thresholds: readonly number[]): TimeToAccuracyRow[] {
  return thresholds.map((threshold) => {
    const reach = perModel(results, (rec) => firstReach(rec.evals, threshold, itersPerEpoch(rec, results.config)));
    const { snn, cnn } = reach;
    return {
      threshold,
      ...reach,
      ratio:
        snn && cnn
          ? {
              iterations: ratio(snn.iter, cnn.iter),
              epochs: ratio(snn.epochs, cnn.epochs),
              timeS: ratio(snn.timeS, cnn.timeS),
            }
          : null,
    };
  });
}

// ---- 3. convergence and stability of the loss ---------------------------------------------------------------

/** The window actually used for n points: at most a quarter of the run, odd, at least 1. */
export function effectiveWindow(n: number, requested: number): number {
  let w = Math.max(1, Math.min(Math.floor(requested), Math.floor(n / 4)));
  if (w % 2 === 0) w -= 1;
  return Math.max(1, w);
}

/**
 * Centered moving average: s[i] = mean(x[i-h .. i+h]) with h = (window-1)/2. Where the window is cut off by the
 * start or end of the run, s[i] is the least-squares line through the points that exist, evaluated at i (in the
 * interior the two agree, since a symmetric window's slope term vanishes at its centre); a plain truncated mean
 * would pull the start of a falling curve down by half a window's worth of slope. Centered rather than an EMA
 * because the analysis is post hoc: a trailing filter delays every settling point by about half its memory.
 */
export function smoothLoss(values: readonly number[], window: number): number[] {
  const n = values.length;
  const h = Math.floor(Math.max(1, window) / 2);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + values[i]!;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - h);
    const hi = Math.min(n, i + h + 1);
    out[i] = lo === i - h && hi === i + h + 1 ? (prefix[hi]! - prefix[lo]!) / (hi - lo) : lineAt(values, lo, hi, i);
  }
  return out;
}

/** Value at x = at of the least-squares line through (j, values[j]) for j in [lo, hi). */
function lineAt(values: readonly number[], lo: number, hi: number, at: number): number {
  const m = hi - lo;
  let sx = 0;
  let sy = 0;
  for (let j = lo; j < hi; j++) {
    sx += j - at;
    sy += values[j]!;
  }
  const mx = sx / m;
  const my = sy / m;
  let sxx = 0;
  let sxy = 0;
  for (let j = lo; j < hi; j++) {
    const dx = j - at - mx;
    sxx += dx * dx;
    sxy += dx * (values[j]! - my);
  }
  return sxx > 0 ? my - (sxy / sxx) * mx : my;
}

/** (loss - floor) / (initial - floor): 1 at the start, 0 at the loss's floor. */
export function normaliseLoss(values: readonly number[], floor: number, initial: number): number[] {
  const scale = initial - floor;
  return values.map((v) => (v - floor) / scale);
}

export interface LossSeries {
  iter: number[];
  raw: number[];
  smoothed: number[];
  normalised: number[];
  normalisedSmoothed: number[];
  floor: number;
  window: number;
}

/** The curves the convergence analysis and the loss charts share. Normalised arrays are empty when undefined. */
export function lossSeries(rec: ModelRecord, requestedWindow = DEFAULT_SMOOTHING_WINDOW): LossSeries {
  const raw = rec.iterations.map((it) => it.loss);
  const window = effectiveWindow(raw.length, requestedWindow);
  const smoothed = smoothLoss(raw, window);
  const floor = lossFloor(rec);
  const initial = raw[0];
  const ok = initial !== undefined && initial - floor > 1e-12;
  return {
    iter: rec.iterations.map((it) => it.iter),
    raw,
    smoothed,
    normalised: ok ? normaliseLoss(raw, floor, initial) : [],
    normalisedSmoothed: ok ? normaliseLoss(smoothed, floor, initial) : [],
    floor,
    window,
  };
}

/**
 * Convergence of one model's training loss. The loss is smoothed (centered moving average, `smoothLoss`) and put
 * on the normalised scale (loss - floor) / (initial - floor). The settling iteration is the first one from which
 * the normalised smoothed loss stays within `tolerance` of its final value until the end of the run. Stability is
 * the coefficient of variation (sample std / mean) of the normalised *raw* loss from that iteration on.
 */
export function lossConvergence(
  rec: ModelRecord,
  config: RunConfig,
  window = DEFAULT_SMOOTHING_WINDOW,
  tolerance = DEFAULT_SETTLE_TOLERANCE,
): LossConvergence {
  const s = lossSeries(rec, window);
  const n = s.raw.length;
  const base = {
    floor: s.floor,
    initialLoss: s.raw[0] ?? null,
    finalSmoothedLoss: s.smoothed[n - 1] ?? null,
    finalNormalised: s.normalisedSmoothed[n - 1] ?? null,
    window: s.window,
  };
  if (n < 2) return { ...base, settle: null, tail: null, note: 'fewer than 2 iterations recorded' };
  if (s.normalised.length === 0) {
    return { ...base, settle: null, tail: null, note: 'initial loss is not above the floor: no normalised scale' };
  }
  const ns = s.normalisedSmoothed;
  const final = ns[n - 1]!;
  let k = n - 1;
  while (k > 0 && Math.abs(ns[k - 1]! - final) <= tolerance) k--;
  if (k === n - 1) {
    return { ...base, settle: null, tail: null, note: 'the smoothed loss was still moving at the end of the run' };
  }
  const tail = s.normalised.slice(k);
  const m = mean(tail)!;
  const std = Math.sqrt(tail.reduce((acc, x) => acc + (x - m) ** 2, 0) / (tail.length - 1));
  const tailStats = { count: tail.length, mean: m, std, cv: Math.abs(m) > 1e-12 ? std / m : null };
  const it = rec.iterations[k]!;
  const settle = { index: k, iter: it.iter, epochs: it.iter / itersPerEpoch(rec, config), timeS: it.elapsedS };
  return { ...base, settle, tail: tailStats, note: null };
}

export function convergenceAnalysis(results: Results, window: number, tolerance: number): ConvergenceAnalysis {
  const c = perModel(results, (rec) => lossConvergence(rec, results.config, window, tolerance));
  return {
    ...c,
    settleIterRatio: ratio(c.snn?.settle?.iter, c.cnn?.settle?.iter),
    settleTimeRatio: ratio(c.snn?.settle?.timeS, c.cnn?.settle?.timeS),
  };
}

// ---- 4. accuracy -------------------------------------------------------------------------------------------------

/** Final and best accuracy come from the evaluations on the whole test set (of `testSize` samples). */
export function modelAccuracy(rec: ModelRecord, testSize: number): ModelAccuracy {
  const support = rec.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const perClass = rec.confusion.map((row, c) => (support[c]! > 0 ? row[c]! / support[c]! : null));
  const total = support.reduce((a, b) => a + b, 0);
  const trace = rec.confusion.reduce((acc, row, c) => acc + row[c]!, 0);
  let worstClass: ModelAccuracy['worstClass'] = null;
  perClass.forEach((acc, cls) => {
    if (acc !== null && (worstClass === null || acc < worstClass.accuracy)) worstClass = { cls, accuracy: acc };
  });
  let best: EvalRecord | null = null;
  const evals = wholeTestEvals(rec.evals, testSize);
  for (const e of evals) if (best === null || e.testAccuracy > best.testAccuracy) best = e;
  return {
    final: rec.finalAccuracy ?? evals.at(-1)?.testAccuracy ?? null,
    best: rec.bestAccuracy ?? best?.testAccuracy ?? null,
    bestIter: best?.iter ?? null,
    perClass,
    support,
    confusion: rec.confusion.map((row) => [...row]),
    confusionAccuracy: total > 0 ? trace / total : null,
    worstClass,
  };
}

// ---- spikes and operations -------------------------------------------------------------------------------------

export function modelEfficiency(rec: ModelRecord): ModelEfficiency {
  return {
    spikesPerInference: rec.spikesPerInference ?? null,
    operationsPerInference: rec.operationsPerInference,
    spikeRates: (rec.spikeRates ?? []).map((r) => ({ ...r })),
    peakMemoryBytes: rec.peakMemoryBytes,
  };
}

// ---- everything ------------------------------------------------------------------------------------------------

export function modelSummary(rec: ModelRecord, config: RunConfig): ModelSummary {
  return {
    kind: rec.kind,
    status: rec.status,
    message: rec.message ?? null,
    itersPerEpoch: itersPerEpoch(rec, config),
    iterations: rec.iterations.length,
    epochsCompleted: rec.epochs.length,
    trainTimeS: rec.iterations.at(-1)?.elapsedS ?? 0,
  };
}

export function analyse(results: Results, options: AnalysisOptions = {}): Analysis {
  const thresholds = [...(options.thresholds ?? DEFAULT_THRESHOLDS)];
  const smoothingWindow = options.smoothingWindow ?? DEFAULT_SMOOTHING_WINDOW;
  const settleTolerance = options.settleTolerance ?? DEFAULT_SETTLE_TOLERANCE;
  for (const t of thresholds) {
    if (!(t > 0 && t <= 1)) throw new RangeError(`analyse: options.thresholds: expected fractions in (0, 1], got ${t}`);
  }
  if (!(smoothingWindow >= 1)) {
    throw new RangeError(`analyse: options.smoothingWindow: expected >= 1, got ${smoothingWindow}`);
  }
  if (!(settleTolerance > 0)) {
    throw new RangeError(`analyse: options.settleTolerance: expected > 0, got ${settleTolerance}`);
  }
  const accuracy = perModel(results, (rec) => modelAccuracy(rec, results.config.subset.test));
  const efficiency = perModel(results, modelEfficiency);
  return {
    options: { thresholds, smoothingWindow, settleTolerance },
    models: perModel(results, (rec) => modelSummary(rec, results.config)),
    epochTime: epochTimeAnalysis(results),
    timeToAccuracy: timeToAccuracy(results, thresholds),
    convergence: convergenceAnalysis(results, smoothingWindow, settleTolerance),
    accuracy: {
      ...accuracy,
      finalDifference:
        accuracy.snn?.final != null && accuracy.cnn?.final != null ? accuracy.snn.final - accuracy.cnn.final : null,
    },
    efficiency: {
      ...efficiency,
      operationsRatio: ratio(efficiency.snn?.operationsPerInference, efficiency.cnn?.operationsPerInference),
      memoryRatio: ratio(efficiency.snn?.peakMemoryBytes, efficiency.cnn?.peakMemoryBytes),
    },
  };
}
