import { describe, expect, it } from 'vitest';
import { Tensor, data, experiment } from 'spikets';

/** A tiny synthetic image data set (8 images of 2x2). */
function tinyDataset(): data.ImageDataset {
  return {
    images: new Uint8Array(8 * 4).fill(1),
    labels: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]),
    count: 8,
    height: 2,
    width: 2,
    numClasses: 10,
    names: data.MNIST_CLASSES,
  };
}

/** A stand-in model whose loss is given per step (to provoke a NaN). */
function fakeModel(losses: number[]): experiment.ComparisonModel {
  let step = 0;
  return {
    kind: 'snn',
    net: null as never,
    optimizer: null as never,
    trainStep: () => losses[step++] ?? 1,
    evaluate: (_x: Tensor, y: Tensor) => ({ predictions: new Int32Array(y.size), loss: 1 }),
    dispose: () => undefined,
  };
}

describe('trainModel', () => {
  it('stops on a non-finite loss with a clear message, without checkpointing the bad state', async () => {
    const config = experiment.parseConfig({ batchSize: 2, epochs: { snn: 1, cnn: 1 }, evalEvery: 100 });
    const ds = tinyDataset();
    const checkpoints: number[] = [];
    const outcome = await experiment.trainModel({
      model: fakeModel([2, 1.5, NaN]),
      config,
      train: new data.DataLoader(ds, { batchSize: 2 }),
      test: new data.DataLoader(ds, { batchSize: 4 }),
      progress: experiment.freshProgress(),
      now: () => 0,
      onCheckpoint: (p) => void checkpoints.push(p.iter),
      checkpointEvery: 1,
    });
    expect(outcome).toEqual({
      status: 'failed',
      message: expect.stringMatching(/SNN loss became NaN at iteration 3 .*last good checkpoint/),
    });
    expect(checkpoints).toEqual([1, 2]);
  });
});
