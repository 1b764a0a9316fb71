import { describe, expect, it } from 'vitest';
import { experiment } from 'spikets';
import { DataLoader } from '../../src/data/loader.js';
import { mnist } from '../../src/data/node.js';
import { decodeF32, decodeI32, golden } from '../helpers/golden.js';

const replay = golden('train_replay_init.json');
const names = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', 'fc.bias'];

/** Every parameter's bits against the reference run's initial weights (`torch.manual_seed(0)` + building the net). */
function expectReferenceInit(params: { values: Float32Array }[]): void {
  expect(params.length).toBe(names.length);
  params.forEach((p, i) => {
    const want = decodeF32(replay.init_weights[names[i]!].f32_b64);
    expect(p.values.length, names[i]).toBe(want.length);
    let differing = 0;
    for (let j = 0; j < want.length; j++) if (!Object.is(p.values[j], want[j])) differing++;
    expect(differing, `${names[i]}: elements differing from PyTorch's`).toBe(0);
  });
}

describe("seed 0 is PyTorch's seed 0 (train_replay_init.json)", () => {
  it('the study SNN and CNN start from the reference weights, bit for bit', () => {
    const config = { beta: 0.5, surrogate: { kind: 'fastSigmoid' as const, slope: 25 }, seed: 0 };
    expectReferenceInit(experiment.buildSnnNet(config).parameters());
    expectReferenceInit(experiment.buildCnnNet(config).parameters());
  });

  it("a shuffling DataLoader's first epoch is the reference batch order", () => {
    const loader = new DataLoader(mnist().train, { batchSize: 128, shuffle: true, seed: 0 });
    expect(Array.from(loader.batchOrder(0))).toEqual(Array.from(decodeI32(replay.perm_int32_b64)));
  });
});
