import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, run the way a user runs it (`npm test` builds before the tests). */
export const cliPath = fileURLToPath(new URL('../../bin/spikets.js', import.meta.url));

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `spikets-${prefix}-`));
}

/** A small, fast protocol for end-to-end tests (a subset of MNIST, 5 steps). */
export const smallRun = [
  '--train-limit',
  '256',
  '--test-limit',
  '128',
  '--steps',
  '5',
  '--batch-size',
  '64',
  '--epochs',
  '1',
  '--eval-every',
  '2',
  '--no-progress',
];

export function runCli(
  args: string[],
  options: { timeout?: number } = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: options.timeout ?? 240_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI in the background (for the interrupt test). */
export function startCli(args: string[]): {
  child: ReturnType<typeof spawn>;
  done: Promise<{ status: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const done = new Promise<{ status: number | null; stderr: string }>((resolve) =>
    child.on('close', (status) => resolve({ status, stderr })),
  );
  return { child, done };
}
