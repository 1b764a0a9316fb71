/**
 * report.html: one self-contained page (inline CSS, charts as inline SVG, no scripts, no external URLs) that
 * opens offline and can be attached to a paper or e-mail as is. Pure: SVGs come in rendered (by render-node.ts in
 * Node, by vega's View.toSVG in the browser).
 */
import type { Analysis } from '../experiment/analysis.js';
import type { Results } from '../experiment/results.js';
import type { ChartDef } from './charts.js';
import { datasetName, fillSections } from './sections.js';
import { findings, reportTables, type Table } from './tables.js';

export interface HtmlChart extends Pick<ChartDef, 'id' | 'title' | 'caption'> {
  svg: string;
}

export interface HtmlInput {
  results: Results;
  analysis: Analysis;
  charts: readonly HtmlChart[];
  /** Page title; default "SNN vs CNN on <dataset>". */
  title?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; line-height: 1.45; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 1.8rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 36px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 20px 0 6px; }
.meta { color: #666; margin: 0 0 16px; }
.findings { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 10px 14px 10px 32px; }
.warning { background: #fff4e5; border: 1px solid #f0c36d; border-radius: 6px; padding: 8px 12px; }
table { border-collapse: collapse; margin: 6px 0 4px; background: #fff; font-size: 0.92rem; }
th, td { border: 1px solid #ddd; padding: 4px 10px; }
th { background: #f0f0f0; font-weight: 600; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.l, th.l { text-align: left; }
p.caption { color: #555; font-size: 0.9rem; margin: 4px 0 14px; max-width: 860px; }
figure { margin: 18px 0; background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 10px; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.9rem; margin-top: 6px; }
footer { color: #888; font-size: 0.8rem; margin-top: 40px; }
`;

export function tableHtml(table: Table, showTitle: boolean): string {
  const cls = (c: number): string => (table.align[c] === 'right' ? 'r' : 'l');
  const head = table.header.map((h, c) => `<th class="${cls(c)}">${escapeHtml(h)}</th>`).join('');
  const body = table.rows
    .map((row) => `<tr>${row.map((cell, c) => `<td class="${cls(c)}">${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return [
    showTitle ? `<h3>${escapeHtml(table.title)}</h3>` : '',
    `<table id="table-${escapeHtml(table.id)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`,
    `<p class="caption">${escapeHtml(table.caption)}</p>`,
  ].join('\n');
}

/** Drop the XML prolog/doctype if any, so the SVG can sit inside HTML. */
function inlineSvg(svg: string): string {
  return svg.replace(/^\s*<\?xml[^>]*>\s*/, '').replace(/^\s*<!DOCTYPE[^>]*>\s*/i, '');
}

export function chartHtml(chart: HtmlChart): string {
  return [
    `<figure id="chart-${escapeHtml(chart.id)}">`,
    inlineSvg(chart.svg),
    `<figcaption><strong>${escapeHtml(chart.title)}.</strong> ${escapeHtml(chart.caption)}</figcaption>`,
    `</figure>`,
  ].join('\n');
}

export function renderHtml(input: HtmlInput): string {
  const { results, analysis, charts } = input;
  const title = input.title ?? `SNN vs CNN on ${datasetName(results.config.dataset)}`;
  const env = results.environment;
  const meta = [
    `Run of ${results.createdAt}`,
    `spikets ${env.spiketsVersion}`,
    `backend ${env.backend} × ${env.threads} thread${env.threads === 1 ? '' : 's'}`,
    env.cpu,
  ]
    .filter((s) => s !== '')
    .join(' · ');
  const partial = (['snn', 'cnn'] as const)
    .map((k) => analysis.models[k])
    .filter((m) => m !== null && m.status !== 'complete');
  const warning =
    partial.length > 0
      ? `<p class="warning">This run is not complete (${partial
          .map((m) => `${m!.kind.toUpperCase()}: ${m!.status}`)
          .join(', ')}): the numbers below cover only what was recorded.</p>`
      : '';
  const found = findings(analysis);
  const sections = fillSections(reportTables(results, analysis), charts).map((s) =>
    [
      `<section id="${escapeHtml(s.id)}">`,
      `<h2>${escapeHtml(s.title)}</h2>`,
      ...s.tables.map((t) => tableHtml(t, s.tables.length > 1)),
      ...s.charts.map(chartHtml),
      `</section>`,
    ].join('\n'),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(meta)}</p>
${warning}
${found.length > 0 ? `<ul class="findings">\n${found.map((f) => `<li>${escapeHtml(f)}</li>`).join('\n')}\n</ul>` : ''}
${sections.join('\n')}
<footer>Generated by spikets from results.json (schema version ${results.schemaVersion}).</footer>
</main>
</body>
</html>
`;
}
