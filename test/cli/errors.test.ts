import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './run-cli.js';

/** Every usage error: exit code 2 and one clear line on stderr naming what was wrong. */
function expectUsageError(args: string[], pattern: RegExp): void {
  const r = runCli(args, { timeout: 60_000 });
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('error'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('CLI errors', () => {
  const dir = tempDir('errors');

  it('rejects bad flags', () => {
    expectUsageError(['compare', '--batch-size', 'abc'], /--batch-size must be an integer/);
    expectUsageError(['compare', '--backend', 'gpu'], /--backend.*invalid|Allowed choices/i);
    expectUsageError(['compare', '--lr=-1', '--out', join(dir, 'x')], /lr/);
    expectUsageError(['frobnicate'], /unknown command/);
  });

  it('rejects a bad config file, naming the field and what was expected', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ numSteps: 0 }));
    expectUsageError(['compare', '--config', file, '--out', join(dir, 'y')], /numSteps/);
    writeFileSync(file, JSON.stringify({ lerning_rate: 0.1 }));
    expectUsageError(['compare', '--config', file, '--out', join(dir, 'y')], /lerning_rate|unrecognized/i);
    writeFileSync(file, '{ not json');
    expectUsageError(['compare', '--config', file, '--out', join(dir, 'y')], /not a JSON object/);
  });

  it('reports a missing or incomplete data folder', () => {
    expectUsageError(['compare', '--dataset', join(dir, 'nowhere'), '--out', join(dir, 'z')], /nowhere/);
    const partial = join(dir, 'partial');
    mkdirSync(partial);
    writeFileSync(
      join(partial, 'train-images-idx3-ubyte'),
      new Uint8Array([0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]),
    );
    expectUsageError(['compare', '--dataset', partial, '--out', join(dir, 'z')], /missing|labels/i);
  });

  it('reports an unwritable output folder before training', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    expectUsageError(['compare', '--out', join(blocker, 'run')], /not writable/);
    const readOnly = join(dir, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o500);
    if (process.getuid?.() !== 0) expectUsageError(['compare', '--out', join(readOnly, 'run')], /not writable/);
  });

  it('refuses to resume from a folder that is not a run', () => {
    expectUsageError(['compare', '--resume', dir], /state\.json/);
  });
});
