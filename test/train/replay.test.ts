import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experiment, functional, optim, useBackend, getBackend } from 'spikets';
import { mnist } from '../../src/data/node.js';
import { DataLoader } from '../../src/data/loader.js';
import { createWasmBackend, type WasmBackend } from '../../src/backend/wasm/index.js';
import { SnnRunner } from '../../src/train/snn-runner.js';
import { decodeF32, decodeI32, golden, sharedDir } from '../helpers/golden.js';

const reference = JSON.parse(readFileSync(join(sharedDir, 'reference', 'snntorch-epoch1-snn.json'), 'utf8'));
const replay = golden('train_replay_init.json');
const names = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', 'fc.bias'];
/**
 * Iterations compared at 1e-3. Our losses equal snnTorch's to ~4e-6 through iteration 9, then drift by an amount
 * that depends on float32 summation order (iteration 10: 5e-4 or 1.2e-3 with two orders of one kernel; 6e-2 by
 * 20): see docs/numerics.md, "Training replay". The first 7 iterations are silent (ln 10).
 */
const ITERATIONS = 9;

/**
 * Replays the reference snnTorch training run (same initial weights, same batch order, T = 50, batch 128, Adam 1e-2)
 * and compares the loss of each of the first 9 iterations with snnTorch's (tolerance 1e-3).
 */
describe('training replay against snnTorch (train_replay_init.json)', () => {
  let wasm: WasmBackend;
  const previous = getBackend();
  beforeAll(async () => {
    wasm = await createWasmBackend();
    useBackend(wasm);
  });
  afterAll(() => {
    useBackend(previous);
    wasm.dispose();
  });

  it('matches the reference losses', () => {
    const net = experiment.buildSnnNet({ beta: 0.5, surrogate: { kind: 'fastSigmoid', slope: 25 }, seed: 0 });
    net.parameters().forEach((p, i) => p.values.set(decodeF32(replay.init_weights[names[i]!].f32_b64)));
    const optimizer = new optim.Adam(net.parameters(), { lr: 1e-2, betas: [0.9, 0.999] });
    const loss = functional.ceRateLoss();
    const runner = new SnnRunner(net, [1, 28, 28]);
    const perm = decodeI32(replay.perm_int32_b64);
    const loader = new DataLoader(mnist().train, { batchSize: 128 });
    const losses: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const batch = loader.makeBatch(perm.subarray(128 * i, 128 * (i + 1)));
      const l = loss(runner.run(batch.x, 50).spk, batch.y);
      optimizer.zeroGrad();
      l.backward();
      optimizer.step();
      losses.push(l.item());
    }
    const expected = (reference.iter_loss as number[]).slice(0, ITERATIONS);
    const diffs = losses.map((l, i) => Math.abs(l - expected[i]!));
    expect(Math.max(...diffs), `ours ${losses.map((l) => l.toFixed(5)).join(' ')}`).toBeLessThan(1e-3);
  });
});
