/**
 * Wall time of every training iteration of both models: the per-iteration view of question 1 that the live page
 * needs before a first epoch ends (the report's own charts have epoch times only). It borrows the look of the
 * report's loss chart (schema, fonts, background, the SNN/CNN colour scale), so it matches the report's charts
 * whatever the report's style becomes.
 */
import { report } from 'spikets';
import type { Results } from './protocol.js';

type Spec = Record<string, unknown>;

function lookOf(results: Results): { frame: Spec; color: unknown; width: number; height: number } | null {
  const loss = report.lossChart(results)?.spec as Spec | undefined;
  if (loss === undefined) return null;
  const layers = loss.layer as { encoding?: { color?: unknown } }[] | undefined;
  const frame: Spec = {};
  for (const key of ['$schema', 'background', 'padding', 'config']) if (key in loss) frame[key] = loss[key];
  return {
    frame,
    color: layers?.[0]?.encoding?.color ?? { field: 'model', type: 'nominal', title: 'Model' },
    width: typeof loss.width === 'number' ? loss.width : 560,
    height: typeof loss.height === 'number' ? loss.height : 280,
  };
}

/** Every kept point of both models (at most `maxPoints` per model, evenly strided, the last one always kept). */
function points(results: Results, maxPoints: number): Record<string, unknown>[] {
  const values: Record<string, unknown>[] = [];
  for (const kind of ['snn', 'cnn'] as const) {
    const its = results.models[kind]?.iterations ?? [];
    const stride = Math.max(1, Math.ceil(its.length / maxPoints));
    its.forEach((it, i) => {
      if (i % stride === 0 || i === its.length - 1) values.push({ model: kind.toUpperCase(), iter: it.iter, ms: it.timeS * 1000 });
    });
  }
  return values;
}

function trendable(values: readonly Record<string, unknown>[]): boolean {
  const perModel = new Map<unknown, number>();
  for (const v of values) perModel.set(v.model, (perModel.get(v.model) ?? 0) + 1);
  return [...perModel.values()].every((n) => n >= 10);
}

export function iterationTimeChart(results: Results, maxPoints = 2000): report.ChartDef | null {
  const look = lookOf(results);
  const values = points(results, maxPoints);
  if (look === null || values.length === 0) return null;
  const x = { field: 'iter', type: 'quantitative', title: 'Iteration' };
  const y = { field: 'ms', type: 'quantitative', title: 'Milliseconds per iteration', scale: { zero: true } };
  const spec = {
    ...look.frame,
    title: { text: 'Iteration time', subtitle: 'wall time of each training step (forward, backward, optimizer)', anchor: 'start' },
    width: look.width,
    height: look.height,
    data: { values },
    layer: [
      { mark: { type: 'point', size: 14, opacity: 0.55, filled: true }, encoding: { x, y, color: look.color } },
      // A trend needs a few points per model; loess on two or three points is noise.
      ...(trendable(values)
        ? [{ transform: [{ loess: 'ms', on: 'iter', groupby: ['model'], bandwidth: 0.3 }], mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color: look.color } }]
        : []),
    ],
  };
  return {
    id: 'iteration-time',
    title: 'Iteration time',
    caption: 'Milliseconds per training iteration (points) and their trend (line); evaluation time is not included.',
    spec: spec as unknown as report.ChartDef['spec'],
  };
}
