/**
 * Node-only helpers (`import { mnist } from 'spikets/node'`): data sets from files and npm packages, report
 * rendering to SVG/PNG, atomic file writes. The main entry stays free of `node:*` so it also runs in browsers.
 */
export { mnist, fromDir, fashionMnist, findIdxFiles, mnistDataDir } from './data/mnist-node.js';
export { buildReport, renderChart, specToSvg, svgToPng, type ReportBundle } from './report/render-node.js';
export { writeFileAtomic, AtomicWriteError } from './cli/atomic-write.js';
