/**
 * Charts of the trained SNN on one test digit (results.models.snn.sample): spike raster per layer, membrane
 * traces with the threshold, output spike counts per class. Each returns null when the run recorded no sample.
 */
import type { Results, SnnSample } from '../experiment/results.js';
import { WIDTH, asSpec, base, type ChartDef, type ChartOptions } from './chart-base.js';

function sampleOf(results: Results): SnnSample | null {
  return results.models.snn?.sample ?? null;
}

/** Spike raster of the trained SNN on one test digit: one panel per layer, time on x, neuron on y. */
export function rasterChart(results: Results, opts: ChartOptions = {}): ChartDef | null {
  const sample = sampleOf(results);
  if (sample === null || sample.raster.length === 0) return null;
  const maxNeurons = opts.maxRasterNeurons ?? 256;
  const panels = sample.raster.map((layer) => {
    const stride = Math.max(1, Math.ceil(layer.neurons / maxNeurons));
    const shown = Math.ceil(layer.neurons / stride);
    const height = Math.min(240, Math.max(60, shown * 2));
    const values: { step: number; neuron: number }[] = [];
    layer.spikes.forEach((ids, step) => {
      for (const neuron of ids) if (neuron % stride === 0) values.push({ step, neuron });
    });
    const note = stride > 1 ? `every ${stride}th of ${layer.neurons} neurons` : `${layer.neurons} neurons`;
    return {
      title: { text: `${layer.layer} (${note})`, fontSize: 12, anchor: 'start' },
      width: WIDTH,
      height,
      data: { values },
      mark: { type: 'tick', orient: 'vertical', thickness: 1.5, size: Math.max(1.5, Math.min(8, height / shown)) },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'Time step', scale: { domain: [0, layer.steps] } },
        y: {
          field: 'neuron',
          type: 'quantitative',
          title: 'Neuron',
          scale: { domain: [-0.5, layer.neurons - 0.5], nice: false },
          axis: { tickMinStep: 1 },
        },
        color: { value: '#222' },
      },
    };
  });
  const spec = {
    ...base('Spike raster of the trained SNN', `test digit ${sample.label}, predicted ${sample.prediction}`),
    vconcat: panels,
  };
  return {
    id: 'raster',
    title: 'Spike raster',
    caption: `Each mark is one spike of one neuron at one time step while the trained SNN looks at a test image of a ${sample.label}.`,
    spec: asSpec(spec),
  };
}

/** Membrane potential of selected neurons over time, with the firing threshold. */
export function membraneChart(results: Results): ChartDef | null {
  const sample = sampleOf(results);
  if (sample === null || sample.membrane.length === 0) return null;
  const values: Record<string, unknown>[] = [];
  for (const trace of sample.membrane) {
    const name = `${trace.layer ?? 'output'} #${trace.neuron}`;
    trace.values.forEach((v, step) => values.push({ neuron: name, step, v, threshold: trace.threshold }));
  }
  const spec = {
    ...base('Membrane potential', `test digit ${sample.label}; dashed: threshold`),
    data: { values },
    facet: { row: { field: 'neuron', type: 'nominal', title: null, sort: null } },
    spec: {
      width: WIDTH,
      height: 70,
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1.5, color: '#1b6ca8' },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'Time step' },
            y: { field: 'v', type: 'quantitative', title: 'U' },
          },
        },
        {
          transform: [{ filter: 'datum.step == 0' }],
          mark: { type: 'rule', color: '#d62728', strokeDash: [4, 3] },
          encoding: { y: { field: 'threshold', type: 'quantitative' } },
        },
      ],
    },
  };
  return {
    id: 'membrane',
    title: 'Membrane potential',
    caption:
      'How each selected neuron’s membrane potential charges over time; it spikes and resets when crossing the dashed threshold.',
    spec: asSpec(spec),
  };
}

/** Output spikes per class for the sample digit: the SNN's prediction is the tallest bar. */
export function outputCountsChart(results: Results): ChartDef | null {
  const sample = sampleOf(results);
  if (sample === null) return null;
  const role = (c: number): string =>
    c === sample.label && c === sample.prediction
      ? 'true = predicted'
      : c === sample.label
        ? 'true class'
        : c === sample.prediction
          ? 'predicted (wrong)'
          : 'other';
  const values = sample.outputCounts.map((count, cls) => ({ cls, count, role: role(cls) }));
  const spec = {
    ...base('Output spikes per class', `test digit ${sample.label}, predicted ${sample.prediction}`),
    width: 360,
    height: 220,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'cls', type: 'ordinal', title: 'Class', axis: { labelAngle: 0 } },
      y: { field: 'count', type: 'quantitative', title: 'Spikes over all time steps' },
      color: {
        field: 'role',
        type: 'nominal',
        title: null,
        scale: {
          domain: ['true = predicted', 'true class', 'predicted (wrong)', 'other'],
          range: ['#2ca02c', '#1b6ca8', '#d62728', '#bbb'],
        },
      },
    },
  };
  return {
    id: 'output-counts',
    title: 'Output spikes per class',
    caption: 'Spike count of each output neuron for the sample digit; the class with most spikes is the prediction.',
    spec: asSpec(spec),
  };
}
