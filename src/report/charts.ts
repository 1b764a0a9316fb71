/**
 * The report's charts as Vega-Lite specs: plain JSON objects with inline data, the one definition used by Node
 * (rendered to SVG/PNG by render-node.ts) and by the browser (vega-embed). Each builder returns null when the
 * results lack its data (e.g. no SNN sample), so a partial run still gets every chart it can support.
 */
import { DEFAULT_SMOOTHING_WINDOW, DEFAULT_THRESHOLDS, lossConvergence, lossSeries } from '../experiment/analysis.js';
import type { ModelKind, Results } from '../experiment/results.js';
import {
  HEIGHT,
  MODEL_COLOR,
  MODEL_NAME,
  WIDTH,
  asSpec,
  base,
  models,
  strideIndices,
  type ChartDef,
  type ChartOptions,
} from './chart-base.js';
import { membraneChart, outputCountsChart, rasterChart } from './charts-snn.js';

export type { ChartDef, ChartOptions } from './chart-base.js';

/** Training loss of both models: each batch's loss faint, the smoothed curve on top. */
export function lossChart(results: Results, opts: ChartOptions = {}): ChartDef | null {
  const values: Record<string, unknown>[] = [];
  let window = 1;
  for (const [kind, rec] of models(results)) {
    const s = lossSeries(rec, opts.smoothingWindow ?? DEFAULT_SMOOTHING_WINDOW);
    window = s.window;
    for (const i of strideIndices(s.raw.length, opts.maxPoints ?? 2000)) {
      values.push({ model: MODEL_NAME[kind], iter: s.iter[i], loss: s.raw[i], smoothed: s.smoothed[i] });
    }
  }
  if (values.length === 0) return null;
  const x = { field: 'iter', type: 'quantitative', title: 'Iteration' } as const;
  const spec = {
    ...base('Training loss', `raw per batch (faint) and centered moving average over ${window} iterations`),
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      {
        mark: { type: 'line', opacity: 0.25, strokeWidth: 1 },
        encoding: { x, y: { field: 'loss', type: 'quantitative', title: 'Loss' }, color: MODEL_COLOR },
      },
      {
        mark: { type: 'line', strokeWidth: 2.5 },
        encoding: { x, y: { field: 'smoothed', type: 'quantitative' }, color: MODEL_COLOR },
      },
    ],
  };
  return {
    id: 'loss',
    title: 'Training loss',
    caption:
      'Loss of each training batch (faint) and its moving average. The two losses differ in scale: the SNN’s rate-coded cross-entropy cannot go below 1.46.',
    spec: asSpec(spec),
  };
}

/** Normalised smoothed loss with the settling iteration of each model marked. */
export function normalisedLossChart(results: Results, opts: ChartOptions = {}): ChartDef | null {
  const values: Record<string, unknown>[] = [];
  const settles: Record<string, unknown>[] = [];
  for (const [kind, rec] of models(results)) {
    const s = lossSeries(rec, opts.smoothingWindow ?? DEFAULT_SMOOTHING_WINDOW);
    if (s.normalised.length === 0) continue;
    for (const i of strideIndices(s.raw.length, opts.maxPoints ?? 2000)) {
      values.push({
        model: MODEL_NAME[kind],
        iter: s.iter[i],
        raw: s.normalised[i],
        smoothed: s.normalisedSmoothed[i],
      });
    }
    const c = lossConvergence(rec, results.config, opts.smoothingWindow, opts.settleTolerance);
    if (c.settle) settles.push({ model: MODEL_NAME[kind], iter: c.settle.iter });
  }
  if (values.length === 0) return null;
  const x = { field: 'iter', type: 'quantitative', title: 'Iteration' } as const;
  const layer: Record<string, unknown>[] = [
    {
      mark: { type: 'line', opacity: 0.2, strokeWidth: 1 },
      encoding: {
        x,
        y: { field: 'raw', type: 'quantitative', title: '(loss − floor) / (initial − floor)' },
        color: MODEL_COLOR,
      },
    },
    {
      mark: { type: 'line', strokeWidth: 2.5 },
      encoding: { x, y: { field: 'smoothed', type: 'quantitative' }, color: MODEL_COLOR },
    },
  ];
  if (settles.length > 0) {
    layer.push({
      data: { values: settles },
      mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
      encoding: { x, color: MODEL_COLOR },
    });
  }
  const spec = {
    ...base('Normalised loss', 'dashed: iteration where the smoothed loss settles'),
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer,
  };
  return {
    id: 'loss-normalised',
    title: 'Normalised loss',
    caption:
      'Both losses rescaled to run from 1 (first iteration) to 0 (lowest possible loss), so their convergence can be compared directly. Dashed lines mark where each settles.',
    spec: asSpec(spec),
  };
}

function accuracyChart(results: Results, opts: ChartOptions, axis: 'iter' | 'elapsedS'): ChartDef | null {
  const values: Record<string, unknown>[] = [];
  for (const [kind, rec] of models(results)) {
    for (const e of rec.evals)
      values.push({ model: MODEL_NAME[kind], iter: e.iter, elapsedS: e.elapsedS, accuracy: e.testAccuracy });
  }
  if (values.length === 0) return null;
  const thresholds = (opts.thresholds ?? DEFAULT_THRESHOLDS).map((t) => ({ threshold: t }));
  const x =
    axis === 'iter'
      ? { field: 'iter', type: 'quantitative', title: 'Iteration' }
      : { field: 'elapsedS', type: 'quantitative', title: 'Training time (s)' };
  const y = {
    field: 'accuracy',
    type: 'quantitative',
    title: 'Test accuracy',
    scale: { zero: false },
    axis: { format: '.0%' },
  };
  const title = axis === 'iter' ? 'Test accuracy vs iterations' : 'Test accuracy vs training time';
  const spec = {
    ...base(title, 'dotted: accuracy thresholds of the time-to-accuracy table'),
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: thresholds },
        mark: { type: 'rule', color: '#999', strokeDash: [2, 3] },
        encoding: { y: { field: 'threshold', type: 'quantitative' } },
      },
      { data: { values }, mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x, y, color: MODEL_COLOR } },
    ],
  };
  const id = axis === 'iter' ? 'accuracy-iterations' : 'accuracy-time';
  const caption =
    axis === 'iter'
      ? 'Test accuracy at each evaluation against training iterations: which model learns more per batch.'
      : 'The same evaluations against cumulative training time (evaluation excluded): which model learns more per second.';
  return { id, title, caption, spec: asSpec(spec) };
}

export const accuracyIterationsChart = (r: Results, o: ChartOptions = {}): ChartDef | null =>
  accuracyChart(r, o, 'iter');
export const accuracyTimeChart = (r: Results, o: ChartOptions = {}): ChartDef | null => accuracyChart(r, o, 'elapsedS');

/** Grouped bars: each epoch's training time per model. */
export function epochTimeChart(results: Results): ChartDef | null {
  const values: Record<string, unknown>[] = [];
  for (const [kind, rec] of models(results)) {
    for (const e of rec.epochs) values.push({ model: MODEL_NAME[kind], epoch: e.epoch, seconds: e.trainTimeS });
  }
  if (values.length === 0) return null;
  const spec = {
    ...base('Training time per epoch'),
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'epoch', type: 'ordinal', title: 'Epoch', axis: { labelAngle: 0 } },
      xOffset: { field: 'model', scale: { domain: ['SNN', 'CNN'] } },
      y: { field: 'seconds', type: 'quantitative', title: 'Seconds' },
      color: MODEL_COLOR,
      tooltip: [{ field: 'model' }, { field: 'epoch' }, { field: 'seconds', format: '.2f' }],
    },
  };
  return {
    id: 'epoch-time',
    title: 'Training time per epoch',
    caption: 'Wall-clock training time of each epoch (evaluation excluded), side by side.',
    spec: asSpec(spec),
  };
}

/** Heatmap of the final confusion matrix: colour = share of the true class, text = count. */
export function confusionChart(results: Results, kind: ModelKind): ChartDef | null {
  const rec = results.models[kind];
  if (rec === undefined) return null;
  const values: Record<string, unknown>[] = [];
  rec.confusion.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => values.push({ true: t, predicted: p, count, share: total > 0 ? count / total : 0 }));
  });
  const x = { field: 'predicted', type: 'ordinal', title: 'Predicted class', axis: { labelAngle: 0 } } as const;
  const y = { field: 'true', type: 'ordinal', title: 'True class' } as const;
  const spec = {
    ...base(`${MODEL_NAME[kind]} confusion matrix`, 'final test evaluation; colour = share of the true class'),
    width: 360,
    height: 360,
    data: { values },
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'share',
            type: 'quantitative',
            title: 'Share',
            scale: { scheme: 'blues', domain: [0, 1] },
            legend: { format: '.0%' },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: '#222' },
        },
      },
    ],
  };
  return {
    id: `confusion-${kind}`,
    title: `${MODEL_NAME[kind]} confusion matrix`,
    caption: `Rows are the true digit, columns the ${MODEL_NAME[kind]}’s prediction; off-diagonal cells are mistakes.`,
    spec: asSpec(spec),
  };
}

/** Every chart the results support, in report order. */
export function buildCharts(results: Results, opts: ChartOptions = {}): ChartDef[] {
  const all = [
    lossChart(results, opts),
    normalisedLossChart(results, opts),
    accuracyIterationsChart(results, opts),
    accuracyTimeChart(results, opts),
    epochTimeChart(results),
    confusionChart(results, 'snn'),
    confusionChart(results, 'cnn'),
    rasterChart(results, opts),
    membraneChart(results),
    outputCountsChart(results),
  ];
  return all.filter((c): c is ChartDef => c !== null);
}
