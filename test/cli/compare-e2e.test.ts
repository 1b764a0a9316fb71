import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { experiment } from 'spikets';
import { runCli, smallRun, startCli, tempDir } from './run-cli.js';

const readJson = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));

describe('spikets compare end to end (built CLI, MNIST subset)', () => {
  const out = join(tempDir('e2e'), 'run');
  let r: ReturnType<typeof runCli>;
  beforeAll(() => {
    r = runCli(['compare', ...smallRun, '--out', out]);
  }, 300_000);

  it('exits 0 and writes every output file', () => {
    expect(r.status, r.stderr).toBe(0);
    for (const f of [
      'results.json',
      'iterations.csv',
      'evals.csv',
      'report.html',
      'report.md',
      'analysis.json',
      'state.json',
      'checkpoints/snn.safetensors',
      'checkpoints/cnn.safetensors',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(r.stderr).toMatch(/final test accuracy/);
  });

  it('results.json validates against the schema and records both models', () => {
    const results = experiment.validateResults(readJson(join(out, 'results.json')));
    for (const kind of ['snn', 'cnn'] as const) {
      const m = results.models[kind]!;
      expect(m.status).toBe('complete');
      expect(m.iterations).toHaveLength(4);
      expect(m.evals.map((e) => e.iter)).toEqual([0, 2, 4]);
      expect(m.epochs).toHaveLength(1);
      expect(m.confusion.flat().reduce((p, q) => p + q, 0)).toBe(128);
    }
    expect(results.models.snn!.spikeRates!.length).toBe(3);
    expect(results.models.snn!.sample!.raster.length).toBe(3);
    expect(results.config.subset).toEqual({ train: 256, test: 128 });
  });

  it('the analyses agree with the records, the CSV and the report', () => {
    const results = experiment.validateResults(readJson(join(out, 'results.json')));
    const analysis = readJson(join(out, 'analysis.json'));
    const recomputed = experiment.analyse(results);
    expect(JSON.parse(JSON.stringify(recomputed))).toEqual(analysis);
    const snn = results.models.snn!;
    expect(snn.finalAccuracy).toBe(snn.evals.at(-1).testAccuracy);
    expect(snn.bestAccuracy).toBe(Math.max(...snn.evals.map((e) => e.testAccuracy)));
    const csv = readFileSync(join(out, 'iterations.csv'), 'utf8').trim().split('\n');
    expect(csv.length - 1).toBe(snn.iterations.length + results.models.cnn!.iterations.length);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const id of [
      'loss',
      'accuracy-iterations',
      'accuracy-time',
      'epoch-time',
      'confusion-snn',
      'confusion-cnn',
      'raster',
      'membrane',
    ]) {
      expect(existsSync(join(out, 'charts', `${id}.svg`)), id).toBe(true);
      expect(existsSync(join(out, 'charts', `${id}.png`)), id).toBe(true);
    }
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(8);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="?https?:/);
  });

  it('re-renders the report from results.json', () => {
    const again = runCli(['report', out]);
    expect(again.status, again.stderr).toBe(0);
  });

  it('evaluates a saved checkpoint', () => {
    const e = runCli(['eval', '--checkpoint', join(out, 'checkpoints/cnn.safetensors'), '--test-limit', '128']);
    expect(e.status, e.stderr).toBe(0);
    const results = experiment.validateResults(readJson(join(out, 'results.json')));
    expect(e.stdout).toContain(`${(results.models.cnn!.finalAccuracy! * 100).toFixed(2)}%`);
  });

  it('an interrupted run resumes to the same numbers as an uninterrupted one', async () => {
    // long enough (32 SNN iterations) that the interrupt lands mid-run however fast the engine is
    const longer = [...smallRun, '--train-limit', '2048', '--steps', '10'];
    const reference = join(tempDir('resume-reference'), 'run');
    expect(runCli(['compare', ...longer, '--out', reference]).status).toBe(0);
    const dir = join(tempDir('resume'), 'run');
    const { child, done } = startCli(['compare', ...longer, '--out', dir, '--checkpoint-every', '1']);
    // interrupt once the SNN has checkpointed its second iteration
    const stateFile = join(dir, 'state.json');
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        try {
          if (existsSync(stateFile) && readJson(stateFile).models?.snn?.progress?.iter >= 2) {
            clearInterval(poll);
            resolve();
          }
        } catch {
          // state.json is replaced atomically; a read between writes is retried
        }
        if (Date.now() - started > 200_000) {
          clearInterval(poll);
          reject(new Error('the run never checkpointed'));
        }
      }, 50);
    });
    child.kill('SIGINT');
    const first = await done;
    expect(first.status, first.stderr).toBe(130);
    const partial = experiment.validateResults(readJson(join(dir, 'results.json')));
    expect(partial.models.snn!.status).toBe('interrupted');
    const resumed = runCli(['compare', '--resume', dir, '--no-progress']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const a = experiment.validateResults(readJson(join(dir, 'results.json')));
    const b = experiment.validateResults(readJson(join(reference, 'results.json')));
    for (const kind of ['snn', 'cnn'] as const) {
      expect(a.models[kind]!.iterations.map((i) => i.loss)).toEqual(b.models[kind]!.iterations.map((i) => i.loss));
      expect(a.models[kind]!.evals.map((e) => [e.iter, e.testAccuracy, e.testLoss])).toEqual(
        b.models[kind]!.evals.map((e) => [e.iter, e.testAccuracy, e.testLoss]),
      );
      expect(a.models[kind]!.confusion).toEqual(b.models[kind]!.confusion);
    }
  });
});
