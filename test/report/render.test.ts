import { existsSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { buildReport, specToSvg, svgToPng, type ReportBundle } from '../../src/report/render-node.js';
import { reportTables } from '../../src/report/tables.js';
import { syntheticResults } from './fixture.js';
import { PNG_SIGNATURE, countDark, decodePng, type DecodedPng } from './png.js';

const results = syntheticResults();
/** PNG zoom for this test (the default is 2); 1 keeps decoding the pixels in JS quick. */
const SCALE = 1;
let bundle: ReportBundle;
let images: Map<string, DecodedPng>;

beforeAll(async () => {
  bundle = await buildReport(results, { png: { scale: SCALE } });
  images = new Map(bundle.charts.map((c) => [c.id, decodePng(c.png)]));
});

/** True when the machine has any TrueType/OpenType font where Linux keeps them (needed to draw text). */
function hasSystemFonts(): boolean {
  const walk = (dir: string, depth: number): boolean => {
    if (depth > 4 || !existsSync(dir)) return false;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isFile() && /\.(ttf|otf|ttc)$/i.test(e.name)) return true;
      if (e.isDirectory() && walk(`${dir}/${e.name}`, depth + 1)) return true;
    }
    return false;
  };
  return walk('/usr/share/fonts', 0);
}

describe('render-node', () => {
  it('renders a spec to SVG and the SVG to a PNG', async () => {
    const svg = await specToSvg({
      data: {
        values: [
          { x: 1, y: 1 },
          { x: 2, y: 3 },
        ],
      },
      mark: 'bar',
      encoding: { x: { field: 'x', type: 'ordinal' }, y: { field: 'y', type: 'quantitative' } },
    });
    expect(svg.startsWith('<svg')).toBe(true);
    const img = decodePng(svgToPng(svg, { scale: 1 }));
    expect(countDark(img, 0, 0, img.width, img.height)).toBeGreaterThan(100);
  });

  it('a blank SVG gives a blank PNG (so the pixel checks below can fail)', () => {
    const img = decodePng(
      svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="50" height="40"></svg>', { scale: 1 }),
    );
    expect([img.width, img.height]).toEqual([50, 40]);
    expect(countDark(img, 0, 0, 50, 40, 250)).toBe(0);
  });

  it('renders every chart to a non-empty SVG and a non-blank PNG', () => {
    expect(bundle.charts).toHaveLength(10);
    for (const c of bundle.charts) {
      expect(c.svg.startsWith('<svg'), c.id).toBe(true);
      expect(c.svg.trimEnd().endsWith('</svg>'), c.id).toBe(true);
      expect([...c.png.subarray(0, 8)], c.id).toEqual(PNG_SIGNATURE);
      const img = images.get(c.id)!;
      const svgWidth = Number(/width="(\d+(?:\.\d+)?)"/.exec(c.svg)![1]);
      expect(img.width, c.id).toBe(Math.round(svgWidth * SCALE));
      // The plot area (middle of the image) carries marks: lines, bars, cells or spikes.
      const dark = countDark(img, img.width * 0.1, img.height * 0.2, img.width * 0.9, img.height * 0.9, 200);
      expect(dark, c.id).toBeGreaterThan(100);
    }
  });

  it.runIf(hasSystemFonts())('draws the text (titles) with the installed fonts', () => {
    for (const c of bundle.charts) {
      const img = images.get(c.id)!;
      // The title sits in the top-left corner, above every plot.
      expect(countDark(img, 0, 0, img.width * 0.6, 35 * SCALE), c.id).toBeGreaterThan(300);
    }
  });

  it('still renders the marks when no font is available (text is skipped, nothing fails)', () => {
    const c = bundle.charts.find((x) => x.id === 'epoch-time')!;
    const img = decodePng(svgToPng(c.svg, { scale: 1, loadSystemFonts: false }));
    expect(countDark(img, 0, 0, img.width * 0.6, 35)).toBe(0); // no title text drawn
    expect(countDark(img, img.width * 0.1, img.height * 0.2, img.width * 0.9, img.height * 0.9, 200)).toBeGreaterThan(
      100,
    );
  });

  it('lists the files of the run folder', () => {
    const paths = bundle.files.map((f) => f.path);
    for (const p of ['report.html', 'report.md', 'iterations.csv', 'evals.csv', 'analysis.json'])
      expect(paths).toContain(p);
    for (const c of bundle.charts) {
      expect(paths).toContain(`charts/${c.id}.svg`);
      expect(paths).toContain(`charts/${c.id}.png`);
    }
    const analysisJson = bundle.files.find((f) => f.path === 'analysis.json')!.data as string;
    expect(JSON.parse(analysisJson)).toEqual(bundle.analysis);
  });
});

describe('report.html', () => {
  let html: string;
  beforeAll(() => {
    html = bundle.files.find((f) => f.path === 'report.html')!.data as string;
  });

  it('contains every chart inline and every table', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const c of bundle.charts) {
      expect(html).toContain(`<figure id="chart-${c.id}">`);
      expect(html).toContain(c.svg.slice(0, 200));
    }
    expect(html.match(/<svg/g)).toHaveLength(bundle.charts.length);
    for (const t of reportTables(results, bundle.analysis)) expect(html).toContain(`<table id="table-${t.id}">`);
    expect(html).toContain('<style>');
    expect(html).toContain('SNN vs CNN on MNIST');
  });

  it('is self-contained: no scripts, no stylesheets or images from elsewhere, no http(s) URLs', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/<img/i);
    // url(#id) references inside an SVG (clip paths, gradients) are local; anything else would be external.
    expect(html).not.toMatch(/@import|url\((?!#)/i);
    // SVG namespace declarations are identifiers, not resources: allowed.
    const withoutNs = html.replace(/\sxmlns(:\w+)?="[^"]*"/g, '');
    expect(withoutNs).not.toMatch(/https?:\/\//);
  });

  it('escapes text and warns about an incomplete run', () => {
    const partial = syntheticResults({ snnStatus: 'interrupted', models: ['snn'] });
    partial.models.snn!.message = 'stopped by <Ctrl-C>';
    const page = renderHtml({ results: partial, analysis: bundle.analysis, charts: [] });
    expect(page).not.toContain('<Ctrl-C>');
    const own = renderHtml({
      results: partial,
      analysis: {
        ...bundle.analysis,
        models: {
          snn: { ...bundle.analysis.models.snn!, status: 'interrupted', message: 'stopped by <Ctrl-C>' },
          cnn: null,
        },
      },
      charts: [],
    });
    expect(own).toContain('class="warning"');
    expect(own).toContain('stopped by &lt;Ctrl-C&gt;');
  });
});
