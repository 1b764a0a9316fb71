import { describe, expect, it } from 'vitest';
import { experiment, type data } from 'spikets';
import { LiveRun } from '../../web/src/live-results.js';

/** A tiny random data set of 28x28 digits (the runner's code path, no files). */
function randomSplit(count: number, seed: number): data.ImageDataset {
  let s = seed;
  const next = (): number => (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  const images = Uint8Array.from({ length: count * 784 }, () => next());
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, height: 28, width: 28, numClasses: 10, names: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] };
}

describe('LiveRun (web/src/live-results.ts): results assembled from RunEvents', () => {
  it('matches what runComparison returns, and its snapshots validate while the run is in progress', async () => {
    const config = experiment.parseConfig({
      numSteps: 2, batchSize: 8, trainLimit: 16, testLimit: 8, epochs: { snn: 1, cnn: 1 }, evalEvery: 1, backend: 'reference', threads: 1,
    });
    const backend = { name: 'reference', threads: 1, simd: null, reason: 'test' };
    const environment = { backend: 'reference', threads: 1, cpu: 'test', cores: 1, userAgent: 'vitest', platform: 'test', spiketsVersion: '0' };
    const live = new LiveRun(config, backend, { train: 16, test: 8 }, environment);
    const snapshots: unknown[] = [];
    const outcome = await experiment.runComparison({
      config,
      data: { train: randomSplit(16, 1), test: randomSplit(8, 2) },
      environment,
      now: () => performance.now(),
      onEvent: (e) => {
        live.apply(e);
        if (e.type === 'iteration') snapshots.push(live.results());
      },
    });
    expect(outcome.status).toBe('complete');
    // Mid-run snapshots are valid results.json documents (what the page charts while training).
    expect(snapshots).toHaveLength(4);
    for (const s of snapshots) experiment.validateResults(s);
    const first = experiment.validateResults(snapshots[0]);
    expect(first.models.snn?.iterations).toHaveLength(1);
    expect(first.models.cnn).toBeUndefined();
    // Once every model ended, the live view holds exactly the records runComparison returns.
    const final = live.results();
    expect(final.models).toEqual(outcome.results.models);
    expect(final.config.subset).toEqual(outcome.results.config.subset);
    expect([...live.ended].sort()).toEqual(['cnn', 'snn']);
    const p = live.progressOf('snn');
    expect(p).toMatchObject({ iter: 2, totalIters: 2, ended: true });
    expect(p.lastAccuracy).toBe(outcome.results.models.snn!.finalAccuracy);
  });
});
