import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs an ES module snippet from the project root, where `spikets` resolves to the built package (dist/). */
function runModule(code: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the built package, imported the way users import it', () => {
  it('exposes every namespace from the main entry and trains a spiking layer on the wasm backend', () => {
    const r = runModule(`
      import { Rng, nn, optim, snn, surrogate, spikegen, functional, data, train, ops, experiment, report, tensor, createWasmBackend, useBackend } from 'spikets';
      const backend = await createWasmBackend({ threads: 1 });
      useBackend(backend);
      const rng = new Rng(1);
      const net = new nn.Sequential(new nn.Linear(4, 3, { rng }), new snn.Leaky({ beta: 0.9, spikeGrad: surrogate.atan() }));
      const x = tensor([[1, 2, 3, 4], [4, 3, 2, 1]]);
      const y = tensor([0, 2], { dtype: 'int32' });
      const { loss } = train.bpttStep(net, x, y, { numSteps: 5, loss: functional.ceRateLoss(), optimizer: new optim.Adam(net.parameters()) });
      const names = [spikegen.rate, data.DataLoader, ops.conv2d, experiment.runComparison, report.buildCharts].map((f) => typeof f);
      console.log(JSON.stringify({ loss, names }));
      backend.dispose();
    `);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { loss: number; names: string[] };
    expect(Number.isFinite(out.loss)).toBe(true);
    expect(out.names.every((n) => n === 'function')).toBe(true);
  });

  it('loads the embedded MNIST through the node entry', () => {
    const r = runModule(`
      import { mnist } from 'spikets/node';
      const { train, test } = mnist();
      console.log(JSON.stringify([train.count, test.count, train.labels[0], test.labels[0]]));
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([60000, 10000, 5, 7]);
  });
});
