/**
 * The report's pure parts (no node:*, no native modules): tables, charts as Vega-Lite specs, HTML and Markdown
 * from pre-rendered charts, CSV. Rendering specs to SVG/PNG in Node lives in the separate entry render-node.ts.
 */
export * from './charts.js';
export * from './charts-snn.js';
export * from './csv.js';
export * from './format.js';
export * from './html.js';
export * from './markdown.js';
export * from './sections.js';
export * from './tables.js';
