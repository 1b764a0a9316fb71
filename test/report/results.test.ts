import { describe, expect, it } from 'vitest';
import { ResultsValidationError, formatPath, validateResults, type Results } from '../../src/experiment/results.js';
import { syntheticResults } from './fixture.js';

/** A JSON copy (what a reader of results.json gets), mutable for the rejection tests. */
 
function json(r: Results = syntheticResults()): any {
  return JSON.parse(JSON.stringify(r));
}

function errorOf(fn: () => unknown): ResultsValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ResultsValidationError) return e;
    throw e;
  }
  throw new Error('expected a ResultsValidationError');
}

describe('ResultsSchema', () => {
  it('round-trips synthetic results through JSON unchanged', () => {
    const r = syntheticResults();
    const back = validateResults(JSON.parse(JSON.stringify(r)));
    expect(back).toEqual(r);
    expect(back.models.snn!.sample!.raster.length).toBe(3);
  });

  it('keeps extra config and environment fields (the runner may record more)', () => {
    const j = json();
    j.config.encoding = 'direct';
    j.environment.gpu = 'none';
    const r = validateResults(j);
    expect(r.config.encoding).toBe('direct');
    expect(r.environment.gpu).toBe('none');
  });

  it('accepts a single-model run and a failed run without evaluations', () => {
    const j = json(syntheticResults({ models: ['cnn'] }));
    j.models.cnn.evals = [];
    j.models.cnn.finalAccuracy = null;
    j.models.cnn.bestAccuracy = null;
    j.models.cnn.status = 'failed';
    j.models.cnn.message = 'loss became NaN at iteration 12';
    const r = validateResults(j);
    expect(r.models.snn).toBeUndefined();
    expect(r.models.cnn!.status).toBe('failed');
  });

  it('rejects a wrong type with a one-line message naming the field path and the expectation', () => {
    const j = json();
    j.models.snn.iterations[3].loss = 'oops';
    const e = errorOf(() => validateResults(j));
    expect(e.path).toBe('models.snn.iterations[3].loss');
    expect(e.message).toContain('models.snn.iterations[3].loss');
    expect(e.message).toMatch(/expected number/);
    expect(e.message).not.toContain('\n');
  });

  it('rejects out-of-range values and counts the other issues', () => {
    const j = json();
    j.models.cnn.evals[1].testAccuracy = 1.5;
    j.models.cnn.iterations[0].timeS = -1;
    const e = errorOf(() => validateResults(j));
    expect(e.message).toMatch(/^invalid results: models\.cnn\.iterations\[0\]\.timeS: .*>=0.*\(and 1 more issue\)$/);
  });

  it('names the schema version it supports', () => {
    const j = json();
    j.schemaVersion = 2;
    expect(() => validateResults(j)).toThrow(/schemaVersion: unsupported schema version 2, expected 1/);
  });

  it('checks the confusion matrix is 10 x 10', () => {
    const j = json();
    j.models.cnn.confusion.pop();
    expect(errorOf(() => validateResults(j)).path).toBe('models.cnn.confusion');
    const k = json();
    k.models.cnn.confusion[4].push(0);
    expect(errorOf(() => validateResults(k)).path).toBe('models.cnn.confusion[4]');
  });

  it('checks the raster: one list per step, neuron indices inside the layer', () => {
    const j = json();
    j.models.snn.sample.raster[2].spikes[5] = [3, 10];
    const e = errorOf(() => validateResults(j));
    expect(e.path).toBe('models.snn.sample.raster[2].spikes[5][1]');
    expect(e.message).toMatch(/neuron index < 10, got 10/);
    const k = json();
    k.models.snn.sample.raster[0].spikes.pop();
    expect(errorOf(() => validateResults(k)).message).toMatch(/raster\[0\]\.spikes: expected 50 steps, got 49/);
  });

  it('checks that a model stored under snn is an snn', () => {
    const j = json();
    j.models.snn.kind = 'cnn';
    expect(errorOf(() => validateResults(j)).message).toMatch(/models\.snn\.kind: expected 'snn'/);
  });

  it('rejects a malformed timestamp, a missing field and a non-object', () => {
    const j = json();
    j.createdAt = 'yesterday';
    expect(errorOf(() => validateResults(j)).path).toBe('createdAt');
    const k = json();
    delete k.environment.cpu;
    expect(errorOf(() => validateResults(k)).message).toMatch(/environment\.cpu: expected string, received undefined/);
    expect(errorOf(() => validateResults(null)).path).toBe('(root)');
  });

  it('formats paths like code', () => {
    expect(formatPath(['models', 'snn', 'evals', 3, 'iter'])).toBe('models.snn.evals[3].iter');
    expect(formatPath([])).toBe('(root)');
  });
});
