import { access, constants, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { RunState } from '../experiment/experiment.js';
import { parseConfig } from '../experiment/config.js';
import type { ModelRecord, Results } from '../experiment/results.js';
import type { Progress } from '../experiment/runner.js';
import { buildReport } from '../report/render-node.js';
import { writeFileAtomic } from './atomic-write.js';
import { UsageError, oneLine } from './errors.js';

/** `runs/2026-11-28T15-40-00` (local clock, file-name safe). */
export function defaultRunDir(now = new Date()): string {
  return join('runs', now.toISOString().replace(/:/g, '-').replace(/\..*$/, ''));
}

/** Creates the folder and proves it is writable before any training starts. */
export async function prepareRunDir(dir: string): Promise<string> {
  const abs = resolve(dir);
  try {
    await mkdir(join(abs, 'checkpoints'), { recursive: true });
    await access(abs, constants.W_OK);
    const probe = join(abs, '.write-test');
    await writeFile(probe, 'ok');
    await rm(probe);
  } catch (error) {
    throw new UsageError(`output folder ${abs} is not writable: ${oneLine(error)}`);
  }
  return abs;
}

const STATE_FILE = 'state.json';

interface SavedModel {
  progress: Progress;
  status: ModelRecord['status'];
  message?: string;
}

/** Writes the resumable state: state.json (progress, config) and checkpoints/<model>.safetensors, all atomically. */
export async function saveRunState(dir: string, state: RunState): Promise<void> {
  const models: Record<string, unknown> = {};
  for (const [kind, m] of Object.entries(state.models)) {
    if (m.checkpoint) await writeFileAtomic(join(dir, 'checkpoints', `${kind}.safetensors`), m.checkpoint);
    models[kind] = { progress: m.progress, status: m.status, ...(m.message ? { message: m.message } : {}) };
  }
  const json = JSON.stringify({ version: 1, config: state.config, createdAt: state.createdAt, models }, null, 1);
  await writeFileAtomic(join(dir, STATE_FILE), new TextEncoder().encode(json));
}

/** Reads what `saveRunState` wrote, for `--resume`. */
export async function loadRunState(dir: string): Promise<RunState> {
  const file = join(resolve(dir), STATE_FILE);
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot resume from ${dir}: ${file} is missing or unreadable (${oneLine(error)})`);
  }
  let parsed: { version?: unknown; config?: unknown; createdAt?: unknown; models?: Record<string, SavedModel> };
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch (error) {
    throw new UsageError(`cannot resume from ${dir}: ${file} is not valid JSON (${oneLine(error)})`);
  }
  if (parsed.version !== 1 || typeof parsed.createdAt !== 'string' || typeof parsed.models !== 'object') {
    throw new UsageError(
      `cannot resume from ${dir}: ${file} is not a spikets run state (expected version 1 with config, createdAt, models)`,
    );
  }
  const state: RunState = { config: parseConfig(parsed.config, file), createdAt: parsed.createdAt, models: {} };
  for (const [kind, m] of Object.entries(parsed.models)) {
    if (kind !== 'snn' && kind !== 'cnn') continue;
    const ckpt = join(dirname(file), 'checkpoints', `${kind}.safetensors`);
    let checkpoint: Uint8Array | null = null;
    try {
      checkpoint = new Uint8Array(await readFile(ckpt));
    } catch {
      if (m.progress.iter > 0) throw new UsageError(`cannot resume from ${dir}: checkpoint ${ckpt} is missing`);
    }
    state.models[kind] = {
      progress: m.progress,
      status: m.status,
      ...(m.message ? { message: m.message } : {}),
      checkpoint,
    };
  }
  return state;
}

/**
 * Writes results.json and the report files. When the folder cannot be written (full disk, permissions), the
 * results are saved to a fallback folder under the system temp directory instead, and its path is returned.
 */
export async function writeOutputs(dir: string, results: Results, onWarning: (m: string) => void): Promise<string> {
  const bundle = await buildReport(results);
  const files = [{ path: 'results.json', data: JSON.stringify(results, null, 1) + '\n' }, ...bundle.files];
  const write = async (root: string): Promise<void> => {
    await mkdir(join(root, 'charts'), { recursive: true });
    for (const f of files) {
      await writeFileAtomic(join(root, f.path), typeof f.data === 'string' ? new TextEncoder().encode(f.data) : f.data);
    }
  };
  try {
    await write(dir);
    return dir;
  } catch (error) {
    const fallback = join(tmpdir(), `spikets-results-${Date.now()}`);
    onWarning(`could not write the results to ${dir}: ${oneLine(error)}; saving them to ${fallback}`);
    await write(fallback);
    return fallback;
  }
}
