import { describe, expect, it } from 'vitest';
import { experiment, useBackend, referenceBackend } from 'spikets';
import { mnist } from '../../src/node.js';

const environment: experiment.Environment = {
  backend: 'reference',
  threads: 1,
  cpu: 'test',
  cores: 1,
  userAgent: 'test',
  platform: 'test',
  spiketsVersion: '0',
};

async function compare(evalSamples: number | null): Promise<experiment.Results> {
  const config = experiment.parseConfig({
    batchSize: 16,
    numSteps: 2,
    epochs: { snn: 1, cnn: 1 },
    evalEvery: 2,
    evalSamples,
    trainLimit: 48,
    testLimit: 40,
  });
  const { results, status } = await experiment.runComparison({ config, data: mnist(), environment, now: () => 0 });
  expect(status).toBe('complete');
  return results;
}

describe('runComparison: periodic evaluations', () => {
  it('use a fixed subset of evalSamples test images; epoch ends, final and best accuracy the whole test set', async () => {
    useBackend(referenceBackend);
    const results = await compare(10);
    for (const kind of ['snn', 'cnn'] as const) {
      const rec = results.models[kind]!;
      // before training, at iteration 2 (periodic: the subset), at the epoch end (iteration 3: all 40)
      expect(rec.evals.map((e) => [e.iter, e.samples])).toEqual([
        [0, 10],
        [2, 10],
        [3, 40],
      ]);
      expect(rec.finalAccuracy).toBe(rec.evals[2]!.testAccuracy);
      expect(rec.bestAccuracy).toBe(rec.evals[2]!.testAccuracy);
      expect(rec.confusion.flat().reduce((a, b) => a + b)).toBe(40);
    }
    const whole = await compare(null);
    expect(whole.models.snn!.evals.map((e) => e.samples)).toEqual([40, 40, 40]);
    // the epoch-end evaluation does not depend on what the periodic ones looked at
    expect(whole.models.snn!.evals[2]!.testAccuracy).toBe(results.models.snn!.evals[2]!.testAccuracy);
  });
});
