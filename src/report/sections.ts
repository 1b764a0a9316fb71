/**
 * The report's outline, shared by the HTML and Markdown renderers: which tables and charts go under which
 * heading. A chart or table not listed here still appears, in a final "More" section, so none is ever dropped.
 */
import type { ChartDef } from './charts.js';
import type { Table } from './tables.js';

export interface SectionDef {
  id: string;
  title: string;
  tables: string[];
  charts: string[];
}

export const SECTIONS: readonly SectionDef[] = [
  { id: 'run', title: 'Run', tables: ['run'], charts: [] },
  { id: 'epoch-time', title: '1. Training time per epoch', tables: ['epoch-time'], charts: ['epoch-time'] },
  {
    id: 'time-to-accuracy',
    title: '2. Time to accuracy',
    tables: ['time-to-accuracy'],
    charts: ['accuracy-iterations', 'accuracy-time'],
  },
  {
    id: 'convergence',
    title: '3. Convergence and stability of the loss',
    tables: ['convergence'],
    charts: ['loss', 'loss-normalised'],
  },
  {
    id: 'accuracy',
    title: '4. Test accuracy',
    tables: ['accuracy', 'per-class'],
    charts: ['confusion-snn', 'confusion-cnn'],
  },
  {
    id: 'spikes',
    title: 'Spikes and operations',
    tables: ['efficiency'],
    charts: ['raster', 'membrane', 'output-counts'],
  },
  { id: 'setup', title: 'Configuration and environment', tables: ['config', 'environment'], charts: [] },
];

export interface FilledSection<C extends Pick<ChartDef, 'id'>> {
  id: string;
  title: string;
  tables: Table[];
  charts: C[];
}

/** Distribute tables and charts over the outline; empty sections are dropped. */
export function fillSections<C extends Pick<ChartDef, 'id'>>(
  tables: readonly Table[],
  charts: readonly C[],
): FilledSection<C>[] {
  const usedTables = new Set<string>();
  const usedCharts = new Set<string>();
  const out: FilledSection<C>[] = [];
  for (const s of SECTIONS) {
    const t = s.tables.flatMap((id) => tables.filter((x) => x.id === id));
    const c = s.charts.flatMap((id) => charts.filter((x) => x.id === id));
    t.forEach((x) => usedTables.add(x.id));
    c.forEach((x) => usedCharts.add(x.id));
    if (t.length + c.length > 0) out.push({ id: s.id, title: s.title, tables: t, charts: c });
  }
  const restT = tables.filter((x) => !usedTables.has(x.id));
  const restC = charts.filter((x) => !usedCharts.has(x.id));
  if (restT.length + restC.length > 0) out.push({ id: 'more', title: 'More', tables: restT, charts: restC });
  return out;
}

/** Human name of a dataset id ('mnist' -> 'MNIST'). */
export function datasetName(id: string): string {
  const known: Record<string, string> = { mnist: 'MNIST', 'fashion-mnist': 'Fashion-MNIST' };
  return known[id.toLowerCase()] ?? id;
}
