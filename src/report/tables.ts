/**
 * The report's tables as plain data (header + string cells + caption), built once from `Analysis` and printed
 * three ways: aligned text for the terminal (`formatTextTable`), Markdown and HTML. One source, so the three
 * outputs cannot disagree.
 */
import { CE_RATE_LOSS_FLOOR, type Analysis, type PerModel } from '../experiment/analysis.js';
import type { ModelKind, Results } from '../experiment/results.js';
import { flattenRecord, fmtBytes, fmtInt, fmtNum, fmtPct, fmtRatio, fmtSeconds, fmtSi, MISSING } from './format.js';

export type Align = 'left' | 'right';

export interface Table {
  id: string;
  title: string;
  /** One or two plain-language sentences: what the table shows and how to read it. */
  caption: string;
  header: string[];
  rows: string[][];
  align: Align[];
}

const MODEL_NAME: Record<ModelKind, string> = { snn: 'SNN', cnn: 'CNN' };

function both<T>(p: PerModel<T>, fn: (v: T) => string): [string, string] {
  return [p.snn === null ? MISSING : fn(p.snn), p.cnn === null ? MISSING : fn(p.cnn)];
}

function compareTable(id: string, title: string, caption: string, rows: string[][]): Table {
  return {
    id,
    title,
    caption,
    header: ['Metric', 'SNN', 'CNN', 'SNN/CNN'],
    rows,
    align: ['left', 'right', 'right', 'right'],
  };
}

export function runTable(analysis: Analysis): Table {
  const rows: string[][] = [];
  for (const kind of ['snn', 'cnn'] as const) {
    const m = analysis.models[kind];
    if (m === null) continue;
    rows.push([
      MODEL_NAME[kind],
      m.status,
      fmtInt(m.iterations),
      fmtInt(m.epochsCompleted),
      fmtSeconds(m.trainTimeS),
      m.message ?? '',
    ]);
  }
  return {
    id: 'run',
    title: 'Run',
    caption: 'Models trained in this run, how far each got, and its total training time (evaluation excluded).',
    header: ['Model', 'Status', 'Iterations', 'Epochs', 'Training time', 'Note'],
    rows,
    align: ['left', 'left', 'right', 'right', 'right', 'left'],
  };
}

export function keyValueTable(id: string, title: string, caption: string, record: Record<string, unknown>): Table {
  return {
    id,
    title,
    caption,
    header: ['Setting', 'Value'],
    rows: flattenRecord(record).map(([k, v]) => [k, v]),
    align: ['left', 'left'],
  };
}

/** Question 1. */
export function epochTimeTable(a: Analysis): Table {
  const e = a.epochTime;
  const rows = e.rows.map((r) => [`epoch ${r.epoch}`, fmtSeconds(r.snnS), fmtSeconds(r.cnnS), fmtRatio(r.ratio)]);
  rows.push(['mean epoch', ...both(e, (t) => fmtSeconds(t.meanEpochS)), fmtRatio(e.meanEpochRatio)]);
  rows.push(['mean iteration', ...both(e, (t) => fmtSeconds(t.meanIterationS)), fmtRatio(e.meanIterationRatio)]);
  rows.push(['mean evaluation per epoch', ...both(e, (t) => fmtSeconds(t.meanEvalS)), MISSING]);
  return compareTable(
    'epoch-time',
    '1. Training time per epoch',
    'Wall-clock time of each training epoch, evaluation excluded. SNN/CNN above 1 means the SNN is slower by that factor.',
    rows,
  );
}

/** Question 2. */
export function timeToAccuracyTable(a: Analysis): Table {
  const rows = a.timeToAccuracy.map((r) => [
    fmtPct(r.threshold, 0),
    r.snn ? fmtInt(r.snn.iter) : MISSING,
    r.snn ? fmtNum(r.snn.epochs, 2) : MISSING,
    r.snn ? fmtSeconds(r.snn.timeS) : MISSING,
    r.cnn ? fmtInt(r.cnn.iter) : MISSING,
    r.cnn ? fmtNum(r.cnn.epochs, 2) : MISSING,
    r.cnn ? fmtSeconds(r.cnn.timeS) : MISSING,
    fmtRatio(r.ratio?.iterations),
    fmtRatio(r.ratio?.timeS),
  ]);
  return {
    id: 'time-to-accuracy',
    title: '2. Time to accuracy',
    caption:
      'The first test evaluation at or above each accuracy: iterations, epochs (iterations / iterations per epoch) ' +
      'and training wall time. Periodic evaluations use the evalSamples subset of the test set (see Configuration), ' +
      'epoch ends the whole test set. A dash means the model never reached that accuracy in this run, so no ratio exists.',
    header: [
      'Accuracy',
      'SNN iter',
      'SNN epochs',
      'SNN time',
      'CNN iter',
      'CNN epochs',
      'CNN time',
      'Iter ratio',
      'Time ratio',
    ],
    rows,
    align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  };
}

/** Question 3. */
export function convergenceTable(a: Analysis): Table {
  const c = a.convergence;
  const rows = [
    ['loss floor', ...both(c, (m) => fmtNum(m.floor, 4)), MISSING],
    ['initial loss', ...both(c, (m) => fmtNum(m.initialLoss, 4)), MISSING],
    ['final smoothed loss', ...both(c, (m) => fmtNum(m.finalSmoothedLoss, 4)), MISSING],
    ['final normalised loss', ...both(c, (m) => fmtNum(m.finalNormalised, 4)), MISSING],
    [
      'settles at iteration',
      ...both(c, (m) => (m.settle ? fmtInt(m.settle.iter) : MISSING)),
      fmtRatio(c.settleIterRatio),
    ],
    ['settles at epoch', ...both(c, (m) => fmtNum(m.settle?.epochs, 2)), MISSING],
    ['settles at time', ...both(c, (m) => fmtSeconds(m.settle?.timeS)), fmtRatio(c.settleTimeRatio)],
    ['std after settling (normalised)', ...both(c, (m) => fmtNum(m.tail?.std, 4)), MISSING],
    ['coefficient of variation after settling (std / mean)', ...both(c, (m) => fmtNum(m.tail?.cv, 3)), MISSING],
  ];
  const window = c.snn?.window ?? c.cnn?.window ?? a.options.smoothingWindow;
  return compareTable(
    'convergence',
    '3. Convergence and stability of the loss',
    `Training loss on a normalised scale, (loss − floor) / (initial − floor): 1 at the start, 0 at the lowest ` +
      `possible loss (floor ${fmtNum(c.snn?.floor ?? CE_RATE_LOSS_FLOOR, 4)} for the SNN's rate-coded cross-entropy, 0 for the ` +
      `CNN's cross-entropy). Smoothed with a centered moving average of ${window} iterations; the loss "settles" at ` +
      `the first iteration after which it stays within ${fmtPct(a.options.settleTolerance, 0)} of its final value. ` +
      `The spread of the raw normalised loss after that point measures stability (lower is steadier).`,
    rows,
  );
}

/** Question 4. */
export function accuracyTable(a: Analysis): Table {
  const acc = a.accuracy;
  const diff = (x: number | null | undefined, y: number | null | undefined): string =>
    x == null || y == null ? MISSING : `${((x - y) * 100).toFixed(2)} pts`;
  const rows = [
    ['final test accuracy', ...both(acc, (m) => fmtPct(m.final)), diff(acc.snn?.final, acc.cnn?.final)],
    ['best test accuracy', ...both(acc, (m) => fmtPct(m.best)), diff(acc.snn?.best, acc.cnn?.best)],
    ['best at iteration', ...both(acc, (m) => fmtInt(m.bestIter)), MISSING],
    [
      'worst class',
      ...both(acc, (m) => (m.worstClass ? `${m.worstClass.cls} (${fmtPct(m.worstClass.accuracy)})` : MISSING)),
      MISSING,
    ],
  ];
  return {
    ...compareTable(
      'accuracy',
      '4a. Final and best accuracy',
      'Accuracy on the test set at the end of training and at its best evaluation, and the difference in ' +
        'percentage points. The SNN predicts the class whose output neuron fired most over the time steps; the ' +
        'CNN the largest logit.',
      rows,
    ),
    header: ['Metric', 'SNN', 'CNN', 'SNN − CNN'],
  };
}

export function perClassTable(a: Analysis): Table {
  const acc = a.accuracy;
  const n = acc.snn?.perClass.length ?? acc.cnn?.perClass.length ?? 0;
  const rows: string[][] = [];
  for (let c = 0; c < n; c++) {
    rows.push([
      String(c),
      acc.snn ? fmtPct(acc.snn.perClass[c]) : MISSING,
      acc.cnn ? fmtPct(acc.cnn.perClass[c]) : MISSING,
      fmtInt(acc.snn?.support[c] ?? acc.cnn?.support[c]),
    ]);
  }
  return {
    id: 'per-class',
    title: '4b. Accuracy per class',
    caption:
      'Share of each digit’s test images classified correctly (the diagonal of the confusion matrix over its row).',
    header: ['Class', 'SNN', 'CNN', 'Test images'],
    rows,
    align: ['left', 'right', 'right', 'right'],
  };
}

export function efficiencyTable(a: Analysis): Table {
  const e = a.efficiency;
  const rows = [
    ['spikes per inference', e.snn ? fmtSi(e.snn.spikesPerInference) : MISSING, MISSING, MISSING],
    ['operations per inference', ...both(e, (m) => fmtSi(m.operationsPerInference)), fmtRatio(e.operationsRatio)],
    ['peak memory', ...both(e, (m) => fmtBytes(m.peakMemoryBytes)), fmtRatio(e.memoryRatio)],
  ];
  for (const r of e.snn?.spikeRates ?? []) rows.push([`spike rate: ${r.layer}`, fmtPct(r.rate), MISSING, MISSING]);
  return compareTable(
    'efficiency',
    'Spikes and operations',
    'Work per test image. For the SNN, operations are synaptic events (each spike times its fan-out, accumulates ' +
      'only); for the CNN, multiply-accumulates. They are different operations, so the ratio is a rough guide.',
    rows,
  );
}

/** All tables of the report, in order. */
export function reportTables(results: Results, analysis: Analysis): Table[] {
  return [
    runTable(analysis),
    keyValueTable(
      'config',
      'Configuration',
      'The full run configuration, as recorded in results.json.',
      results.config,
    ),
    keyValueTable('environment', 'Environment', 'Where the run took place.', results.environment),
    epochTimeTable(analysis),
    timeToAccuracyTable(analysis),
    convergenceTable(analysis),
    accuracyTable(analysis),
    perClassTable(analysis),
    efficiencyTable(analysis),
  ];
}

/** Plain-language headline sentences of the study (only those the data supports). */
export function findings(a: Analysis): string[] {
  const out: string[] = [];
  const r = a.epochTime.meanEpochRatio ?? a.epochTime.meanIterationRatio;
  if (r !== null) {
    const unit = a.epochTime.meanEpochRatio !== null ? 'epoch' : 'iteration';
    out.push(`Training the SNN took ${fmtRatio(r)} the time of the CNN per ${unit}.`);
  }
  const reached = [...a.timeToAccuracy].reverse().find((row) => row.ratio !== null);
  if (reached?.ratio) {
    out.push(
      `To reach ${fmtPct(reached.threshold, 0)} test accuracy the SNN needed ${fmtRatio(reached.ratio.iterations)} ` +
        `the iterations and ${fmtRatio(reached.ratio.timeS)} the wall time of the CNN.`,
    );
  }
  const c = a.convergence;
  if (c.snn?.settle && c.cnn?.settle) {
    out.push(
      `The smoothed loss settled after ${fmtInt(c.snn.settle.iter)} iterations for the SNN and ${fmtInt(c.cnn.settle.iter)} for the CNN.`,
    );
  }
  const acc = a.accuracy;
  if (acc.snn?.final != null && acc.cnn?.final != null) {
    out.push(`Final test accuracy: SNN ${fmtPct(acc.snn.final)}, CNN ${fmtPct(acc.cnn.final)}.`);
  }
  for (const kind of ['snn', 'cnn'] as const) {
    const m = a.models[kind];
    if (m && m.status !== 'complete') {
      out.push(
        `The ${MODEL_NAME[kind]} run is ${m.status}${m.message ? `: ${m.message}` : ''}; its numbers are partial.`,
      );
    }
  }
  return out;
}

/** Aligned plain-text table (columns padded to the widest cell). */
export function formatTextTable(table: Pick<Table, 'header' | 'rows' | 'align'>): string {
  const widths = table.header.map((h, c) => Math.max(h.length, ...table.rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (table.align[c] === 'right' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(table.header), rule, ...table.rows.map(line)].join('\n');
}

/** The terminal summary after a run: one table of the headline numbers of the four questions. */
export function summaryTable(a: Analysis): string {
  const e = a.epochTime;
  const c = a.convergence;
  const acc = a.accuracy;
  const eff = a.efficiency;
  const rows: string[][] = [
    ['status', ...both(a.models, (m) => m.status), ''],
    ['mean epoch time', ...both(e, (t) => fmtSeconds(t.meanEpochS)), fmtRatio(e.meanEpochRatio)],
    ['mean iteration time', ...both(e, (t) => fmtSeconds(t.meanIterationS)), fmtRatio(e.meanIterationRatio)],
  ];
  for (const r of a.timeToAccuracy) {
    rows.push([
      `time to ${fmtPct(r.threshold, 0)}`,
      r.snn ? `${fmtSeconds(r.snn.timeS)} @${r.snn.iter}` : MISSING,
      r.cnn ? `${fmtSeconds(r.cnn.timeS)} @${r.cnn.iter}` : MISSING,
      fmtRatio(r.ratio?.timeS),
    ]);
  }
  rows.push(
    ['loss settles at iteration', ...both(c, (m) => fmtInt(m.settle?.iter)), fmtRatio(c.settleIterRatio)],
    ['loss CV after settling', ...both(c, (m) => fmtNum(m.tail?.cv, 3)), ''],
    ['final test accuracy', ...both(acc, (m) => fmtPct(m.final)), ''],
    ['best test accuracy', ...both(acc, (m) => fmtPct(m.best)), ''],
    ['spikes per inference', eff.snn ? fmtSi(eff.snn.spikesPerInference) : MISSING, '', ''],
    ['operations per inference', ...both(eff, (m) => fmtSi(m.operationsPerInference)), fmtRatio(eff.operationsRatio)],
  );
  return formatTextTable({ header: ['', 'SNN', 'CNN', 'SNN/CNN'], rows, align: ['left', 'right', 'right', 'right'] });
}
