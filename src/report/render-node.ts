/**
 * Node-only edge of the report: Vega-Lite spec -> SVG (vega-lite compile, then a headless vega View with
 * renderer 'none'), SVG -> PNG (@resvg/resvg-js, a prebuilt native module), and the whole run folder as a list
 * of files for the CLI to write. No file system access here: the CLI owns `node:fs`.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { analyse, type Analysis, type AnalysisOptions } from '../experiment/analysis.js';
import type { Results } from '../experiment/results.js';
import { buildCharts, type ChartDef, type ChartOptions } from './charts.js';
import { evalsCsv, iterationsCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

export interface RenderedChart extends ChartDef {
  svg: string;
  png: Uint8Array;
}

export interface PngOptions {
  /** Output width in pixels divided by the SVG width (2 = crisp on high-DPI screens and in print). */
  scale?: number;
  /** Extra font files (TTF/OTF paths) for machines without system fonts. */
  fontFiles?: string[];
  /** Default true. False (with `fontFiles`) gives the same pixels on every machine. */
  loadSystemFonts?: boolean;
}

/** Render one Vega-Lite spec to an SVG string (no DOM, no canvas: text widths are estimated by vega). */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Rasterise an SVG to PNG. System fonts are loaded; the charts ask for a list of common families, and where none
 * is installed resvg draws the marks without text rather than failing.
 */
export function svgToPng(svg: string, options: PngOptions = {}): Uint8Array {
  const scale = options.scale ?? 2;
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: {
      loadSystemFonts: options.loadSystemFonts ?? true,
      fontFiles: options.fontFiles ?? [],
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
  });
  return new Uint8Array(resvg.render().asPng());
}

export async function renderChart(chart: ChartDef, options: PngOptions = {}): Promise<RenderedChart> {
  const svg = await specToSvg(chart.spec);
  return { ...chart, svg, png: svgToPng(svg, options) };
}

export async function renderCharts(charts: readonly ChartDef[], options: PngOptions = {}): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const chart of charts) out.push(await renderChart(chart, options)); // sequential: bounded memory
  return out;
}

export interface ReportFile {
  /** Relative to the run folder, '/' separated. */
  path: string;
  data: string | Uint8Array;
}

export interface ReportBundle {
  analysis: Analysis;
  charts: RenderedChart[];
  files: ReportFile[];
}

/**
 * Everything the run folder needs besides results.json: report.html (self-contained), report.md,
 * iterations.csv, evals.csv, analysis.json and charts/<id>.svg + charts/<id>.png.
 */
export async function buildReport(
  results: Results,
  options: { analysis?: AnalysisOptions; charts?: ChartOptions; png?: PngOptions } = {},
): Promise<ReportBundle> {
  const analysis = analyse(results, options.analysis);
  const chartOptions: ChartOptions = { ...analysis.options, ...options.charts };
  const charts = await renderCharts(buildCharts(results, chartOptions), options.png);
  const files: ReportFile[] = [
    { path: 'report.html', data: renderHtml({ results, analysis, charts }) },
    { path: 'report.md', data: renderMarkdown({ results, analysis, charts }) },
    { path: 'iterations.csv', data: iterationsCsv(results) },
    { path: 'evals.csv', data: evalsCsv(results) },
    { path: 'analysis.json', data: JSON.stringify(analysis, null, 2) + '\n' },
  ];
  for (const c of charts) {
    files.push({ path: `charts/${c.id}.svg`, data: c.svg }, { path: `charts/${c.id}.png`, data: c.png });
  }
  return { analysis, charts, files };
}
