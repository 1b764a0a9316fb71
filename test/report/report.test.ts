import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/experiment/analysis.js';
import {
  buildCharts,
  evalsCsv,
  fillSections,
  fmtBytes,
  fmtInt,
  fmtPct,
  fmtRatio,
  fmtSeconds,
  fmtSi,
  formatTextTable,
  iterationsCsv,
  renderMarkdown,
  reportTables,
  summaryTable,
  tableMarkdown,
  MISSING,
} from '../../src/report/index.js';
import { syntheticResults } from './fixture.js';

const results = syntheticResults();
const analysis = analyse(results);

describe('formatting', () => {
  it('formats numbers the same way everywhere', () => {
    expect(fmtSeconds(0.1234)).toBe('0.123 s');
    expect(fmtSeconds(12.34)).toBe('12.3 s');
    expect(fmtSeconds(125)).toBe('2 min 05 s');
    expect(fmtSeconds(3725)).toBe('1 h 02 min');
    expect(fmtPct(0.98123)).toBe('98.12%');
    expect(fmtRatio(5.234)).toBe('5.23×');
    expect(fmtSi(2.1e6)).toBe('2.10 M');
    expect(fmtSi(950)).toBe('950');
    expect(fmtInt(1234567)).toBe('1,234,567');
    expect(fmtBytes(350 * 2 ** 20)).toBe('350.0 MiB');
    expect(fmtRatio(null)).toBe(MISSING);
    expect(fmtSeconds(Number.NaN)).toBe(MISSING);
  });
});

describe('summaryTable', () => {
  const text = summaryTable(analysis);
  const lines = text.split('\n');

  it('is an aligned text table of the headline numbers', () => {
    expect(lines[0]).toMatch(/SNN\s+CNN\s+SNN\/CNN$/);
    // The last column is right-aligned: every line with a ratio ends where the header does.
    const withRatio = lines.filter((l) => l.endsWith('×'));
    expect(withRatio.length).toBeGreaterThan(3);
    for (const l of withRatio) expect(l.length).toBe(lines[0]!.length);
    const epochLine = lines.find((l) => l.startsWith('mean epoch time'))!;
    expect(epochLine.endsWith(fmtRatio(analysis.epochTime.meanEpochRatio))).toBe(true);
    expect(text).toContain('time to 95%');
    expect(text).toContain(fmtPct(analysis.accuracy.cnn!.final));
  });

  it('pads left- and right-aligned columns', () => {
    const t = formatTextTable({
      header: ['a', 'b'],
      rows: [
        ['long', '1'],
        ['x', '22'],
      ],
      align: ['left', 'right'],
    });
    expect(t.split('\n')).toEqual(['a      b', '----  --', 'long   1', 'x     22']);
  });
});

describe('tables', () => {
  it('covers the run, setup and the four questions, with dashes where no value exists', () => {
    const tables = reportTables(results, analysis);
    expect(tables.map((t) => t.id)).toEqual([
      'run',
      'config',
      'environment',
      'epoch-time',
      'time-to-accuracy',
      'convergence',
      'accuracy',
      'per-class',
      'efficiency',
    ]);
    for (const t of tables) {
      expect(t.caption.length).toBeGreaterThan(10);
      for (const row of t.rows) expect(row.length).toBe(t.header.length);
    }
    const config = tables.find((t) => t.id === 'config')!;
    expect(config.rows).toContainEqual(['surrogate.slope', '25']);
    expect(config.rows).toContainEqual(['betas', '[0.9,0.999]']);
    // The synthetic SNN never reaches 98%: its cells and the ratio are dashes.
    const tta = tables.find((t) => t.id === 'time-to-accuracy')!;
    const row98 = tta.rows.find((r) => r[0] === '98%')!;
    expect(analysis.timeToAccuracy[3]!.snn).toBeNull();
    expect(row98[1]).toBe(MISSING);
    expect(row98[8]).toBe(MISSING);
  });

  it('renders Markdown pipe tables with escaped cells', () => {
    const md = tableMarkdown(
      { id: 'x', title: 'X', caption: 'c', header: ['k', 'v'], rows: [['a|b', '1']], align: ['left', 'right'] },
      false,
    );
    expect(md.split('\n').slice(0, 3)).toEqual(['| k | v |', '| :--- | ---: |', '| a\\|b | 1 |']);
  });
});

describe('charts', () => {
  it('builds every chart as plain JSON Vega-Lite', () => {
    const charts = buildCharts(results);
    expect(charts.map((c) => c.id)).toEqual([
      'loss',
      'loss-normalised',
      'accuracy-iterations',
      'accuracy-time',
      'epoch-time',
      'confusion-snn',
      'confusion-cnn',
      'raster',
      'membrane',
      'output-counts',
    ]);
    for (const c of charts) {
      expect(JSON.parse(JSON.stringify(c.spec))).toEqual(c.spec);
      expect((c.spec as { $schema?: string }).$schema).toMatch(/vega-lite\/v6/);
    }
  });

  it('leaves out charts without data and samples long curves', () => {
    const cnnOnly = buildCharts(syntheticResults({ models: ['cnn'] })).map((c) => c.id);
    expect(cnnOnly).not.toContain('raster');
    expect(cnnOnly).not.toContain('confusion-snn');
    expect(cnnOnly).toContain('confusion-cnn');
    const loss = buildCharts(results, { maxPoints: 50 }).find((c) => c.id === 'loss')!;
    const values = (loss.spec as { data: { values: { model: string; iter: number }[] } }).data.values;
    const snn = values.filter((v) => v.model === 'SNN');
    expect(snn.length).toBeLessThanOrEqual(51);
    expect(snn.at(-1).iter).toBe(200); // the last point is always kept
  });

  it('caps the raster at maxRasterNeurons per layer', () => {
    const raster = buildCharts(results, { maxRasterNeurons: 100 }).find((c) => c.id === 'raster')!;
    const panels = (raster.spec as { vconcat: { data: { values: { neuron: number }[] } }[] }).vconcat;
    expect(panels).toHaveLength(3);
    const neurons = new Set(panels[0]!.data.values.map((v) => v.neuron));
    expect(neurons.size).toBeLessThanOrEqual(100);
    for (const n of neurons) expect(n % 18).toBe(0); // 1728 neurons, every 18th
  });
});

describe('sections', () => {
  it('places every table and chart, unknown ones in "More"', () => {
    const tables = reportTables(results, analysis);
    const s = fillSections(tables, [{ id: 'loss' }, { id: 'custom' }]);
    expect(s.flatMap((x) => x.tables)).toHaveLength(tables.length);
    expect(s.at(-1)).toMatchObject({ id: 'more', charts: [{ id: 'custom' }] });
  });
});

describe('CSV and Markdown', () => {
  it('writes one CSV row per iteration and per evaluation', () => {
    const csv = iterationsCsv(results).trimEnd().split('\n');
    expect(csv[0]).toBe('model,iter,epoch,loss,time_s,elapsed_s');
    expect(csv).toHaveLength(1 + 200 + 200);
    const first = results.models.snn!.iterations[0]!;
    expect(csv[1]).toBe(`snn,1,1,${first.loss},${first.timeS},${first.elapsedS}`);
    expect(csv[201]!.startsWith('cnn,1,1,')).toBe(true);
    const ev = evalsCsv(results).trimEnd().split('\n');
    expect(ev[0]).toBe('model,iter,epoch,elapsed_s,test_accuracy,test_loss');
    expect(ev).toHaveLength(1 + 5 + 5);
  });

  it('report.md has the tables and links each chart to its SVG and PNG', () => {
    const charts = buildCharts(results);
    const md = renderMarkdown({ results, analysis, charts });
    expect(md.startsWith('# SNN vs CNN on MNIST')).toBe(true);
    for (const t of reportTables(results, analysis)) expect(md).toContain(t.caption);
    for (const c of charts) {
      expect(md).toContain(`](charts/${c.id}.png)`);
      expect(md).toContain(`](charts/${c.id}.svg)`);
    }
    expect(md).toContain('## 3. Convergence and stability of the loss');
  });
});
