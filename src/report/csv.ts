/**
 * CSV exports of the per-iteration and per-evaluation records (RFC 4180: comma-separated, header row, `\n` line
 * ends), one row per model and record, so a researcher can re-plot the curves with any tool.
 */
import type { ModelKind, Results } from '../experiment/results.js';

const KINDS: readonly ModelKind[] = ['snn', 'cnn'];

/** Shortest round-trip representation; numbers never need quoting. */
function cell(v: number | string): string {
  if (typeof v === 'number') return String(v);
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function toCsv(header: string[], rows: (number | string)[][]): string {
  return [header.join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

/** `model,iter,epoch,loss,time_s,elapsed_s` for every training iteration of every model. */
export function iterationsCsv(results: Results): string {
  const rows: (number | string)[][] = [];
  for (const kind of KINDS) {
    for (const it of results.models[kind]?.iterations ?? []) {
      rows.push([kind, it.iter, it.epoch, it.loss, it.timeS, it.elapsedS]);
    }
  }
  return toCsv(['model', 'iter', 'epoch', 'loss', 'time_s', 'elapsed_s'], rows);
}

/** `model,iter,epoch,elapsed_s,test_accuracy,test_loss` for every test evaluation of every model. */
export function evalsCsv(results: Results): string {
  const rows: (number | string)[][] = [];
  for (const kind of KINDS) {
    for (const e of results.models[kind]?.evals ?? []) {
      rows.push([kind, e.iter, e.epoch, e.elapsedS, e.testAccuracy, e.testLoss]);
    }
  }
  return toCsv(['model', 'iter', 'epoch', 'elapsed_s', 'test_accuracy', 'test_loss'], rows);
}
