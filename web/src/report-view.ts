/**
 * The report on the page: the CLI report's outline (report.fillSections), its tables (report.reportTables from
 * experiment.analyse) and its charts (report.buildCharts, Vega-Lite rendered by vega-embed), for a run in progress
 * (redrawn at most once per `intervalMs`) or for an opened results.json.
 */
import embed from 'vega-embed';
import { experiment, report } from 'spikets';
import { iterationTimeChart } from './iteration-chart.js';
import type { Results } from './protocol.js';

type ChartDef = report.ChartDef;

interface Figure {
  root: HTMLElement;
  plot: HTMLElement;
  /** The spec last drawn, serialised: an unchanged chart is not redrawn. */
  drawn: string;
  finalize: (() => void) | null;
}

export interface ReportViewOptions {
  /** Chart ids to leave out (the live page draws the SNN sample in its own animated view). */
  omit?: (results: Results, chart: ChartDef) => boolean;
  intervalMs?: number;
}

export class ReportView {
  private readonly figures = new Map<string, Figure>();
  /** Sections the reader folded or unfolded, by id. */
  private readonly open = new Map<string, boolean>();
  private pending: Results | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastDraw = 0;
  /** Milliseconds the last draw took: redraws are spaced to at least 3x that, so the page stays responsive. */
  private drawMs = 0;
  private drawing: Promise<void> = Promise.resolve();

  constructor(
    private readonly findings: HTMLElement,
    private readonly sections: HTMLElement,
    private readonly options: ReportViewOptions = {},
  ) {}

  /** Draws `results` now, or soon when the last draw was less than `intervalMs` ago. */
  update(results: Results, immediate = false): void {
    this.pending = results;
    if (this.timer !== null) return;
    const interval = Math.max(this.options.intervalMs ?? 1000, 3 * this.drawMs);
    const wait = immediate ? 0 : Math.max(0, this.lastDraw + interval - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const r = this.pending;
      this.pending = null;
      if (r !== null) this.drawing = this.drawing.then(() => this.draw(r));
    }, wait);
  }

  /** Resolves when every scheduled draw is done. */
  async settled(): Promise<void> {
    while (this.timer !== null || this.pending !== null) await new Promise((r) => setTimeout(r, 50));
    await this.drawing;
  }

  clear(): void {
    for (const f of this.figures.values()) f.finalize?.();
    this.figures.clear();
    this.findings.replaceChildren();
    this.sections.replaceChildren();
  }

  private charts(results: Results): ChartDef[] {
    const charts = report.buildCharts(results);
    if (!charts.some((c) => c.id === 'iteration-time')) {
      const it = iterationTimeChart(results);
      if (it) charts.push(it);
    }
    return charts.filter((c) => !(this.options.omit?.(results, c) ?? false));
  }

  private async draw(results: Results): Promise<void> {
    this.lastDraw = performance.now();
    const analysis = experiment.analyse(results);
    const tables = report.reportTables(results, analysis);
    const charts = this.charts(results);
    const sections = report.fillSections(tables, charts);
    // The iteration-time chart belongs with question 1 (training time).
    const more = sections.find((s) => s.id === 'more');
    const timeSection = sections.find((s) => s.id === 'epoch-time');
    if (more && timeSection) {
      const it = more.charts.findIndex((c) => c.id === 'iteration-time');
      if (it >= 0) timeSection.charts.push(...more.charts.splice(it, 1));
    }

    const items = report.findings(analysis).map((f) => {
      const li = document.createElement('li');
      li.textContent = f;
      return li;
    });
    this.findings.replaceChildren(...items);

    const keep = new Set(charts.map((c) => c.id));
    for (const [id, f] of this.figures) {
      if (!keep.has(id)) {
        f.finalize?.();
        this.figures.delete(id);
      }
    }
    const nodes: HTMLElement[] = [];
    const work: Promise<void>[] = [];
    for (const s of sections) {
      if (s.tables.length + s.charts.length === 0) continue;
      // <details>: the long configuration tables start folded; the state survives redraws.
      const section = document.createElement('details');
      section.className = 'report-section';
      section.dataset.section = s.id;
      section.open = this.open.get(s.id) ?? s.id !== 'setup';
      section.addEventListener('toggle', () => this.open.set(s.id, section.open));
      const h = document.createElement('summary');
      h.textContent = s.title;
      const tables = document.createElement('div');
      tables.className = 'tables';
      // report.tableHtml escapes every cell: the HTML is the report's own, built from numbers and fixed text.
      tables.innerHTML = s.tables.map((t) => report.tableHtml(t, s.tables.length > 1)).join('\n');
      const grid = document.createElement('div');
      grid.className = 'chart-grid';
      for (const c of s.charts) {
        const fig = this.figure(c);
        grid.append(fig.root);
        work.push(this.render(fig, c));
      }
      section.append(h, tables, grid);
      nodes.push(section);
    }
    this.sections.replaceChildren(...nodes);
    await Promise.all(work);
    this.drawMs = performance.now() - this.lastDraw;
  }

  private figure(c: ChartDef): Figure {
    let f = this.figures.get(c.id);
    if (f === undefined) {
      const root = document.createElement('figure');
      root.className = 'chart';
      root.dataset.chart = c.id;
      const plot = document.createElement('div');
      const caption = document.createElement('figcaption');
      caption.textContent = c.caption;
      root.append(plot, caption);
      f = { root, plot, drawn: '', finalize: null };
      this.figures.set(c.id, f);
    }
    return f;
  }

  private async render(f: Figure, c: ChartDef): Promise<void> {
    const json = JSON.stringify(c.spec);
    if (json === f.drawn) return;
    f.drawn = json;
    f.finalize?.();
    f.finalize = null;
    try {
      const result = await embed(f.plot, c.spec, { actions: false, renderer: 'canvas' });
      f.finalize = () => result.finalize();
      f.root.dataset.rendered = 'true';
    } catch (e) {
      f.plot.textContent = `chart ${c.id} failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
}
