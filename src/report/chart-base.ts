/**
 * Shared pieces of the report's Vega-Lite charts: the chart record, options, the common look (fonts, colours,
 * white background) and small data helpers.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ModelKind, ModelRecord, Results } from '../experiment/results.js';

export interface ChartDef {
  /** File-name safe id: charts/<id>.svg. */
  id: string;
  title: string;
  /** A plain-language sentence on how to read the chart. */
  caption: string;
  spec: TopLevelSpec;
}

export interface ChartOptions {
  smoothingWindow?: number;
  settleTolerance?: number;
  thresholds?: readonly number[];
  /** Raw points per model kept in loss charts (stride-sampled beyond this; the smoothing uses every point). */
  maxPoints?: number;
  /** Neurons per layer shown in the spike raster (every k-th neuron beyond this). */
  maxRasterNeurons?: number;
}

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const WIDTH = 560;
export const HEIGHT = 280;
export const MODEL_NAME: Record<ModelKind, string> = { snn: 'SNN', cnn: 'CNN' };
/** Fixed colours so SNN and CNN look the same in every chart. */
export const MODEL_COLOR = {
  field: 'model',
  type: 'nominal',
  title: 'Model',
  scale: { domain: ['SNN', 'CNN'], range: ['#d95f02', '#1b6ca8'] },
} as const;
/** A list of families so resvg (which has no generic fallback list of its own) finds one installed font. */
export const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, Noto Sans, sans-serif';

export function base(title: string, subtitle?: string): Record<string, unknown> {
  return {
    $schema: SCHEMA,
    title: subtitle === undefined ? { text: title, anchor: 'start' } : { text: title, subtitle, anchor: 'start' },
    background: 'white',
    padding: 12,
    config: { font: FONT, view: { stroke: '#ccc' }, axis: { labelFontSize: 11, titleFontSize: 12 } },
  };
}

/**
 * The builders assemble specs from plain objects (the Vega-Lite types reject partial objects built step by step);
 * every spec is compiled by vega-lite in test/report/render.test.ts, which is where their validity is checked.
 */
export function asSpec(spec: object): TopLevelSpec {
  return spec as unknown as TopLevelSpec;
}

export function models(results: Results): [ModelKind, ModelRecord][] {
  const out: [ModelKind, ModelRecord][] = [];
  for (const kind of ['snn', 'cnn'] as const) {
    const rec = results.models[kind];
    if (rec !== undefined) out.push([kind, rec]);
  }
  return out;
}

/** Indices 0, s, 2s, ... plus the last one, with s chosen so at most `max` points remain. */
export function strideIndices(n: number, max: number): number[] {
  const stride = Math.max(1, Math.ceil(n / Math.max(1, max)));
  const idx: number[] = [];
  for (let i = 0; i < n; i += stride) idx.push(i);
  if (n > 0 && idx.at(-1) !== n - 1) idx.push(n - 1);
  return idx;
}
