import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ExperimentConfig } from '../experiment/config.js';
import { runComparison, type ComparisonOutcome, type RunState } from '../experiment/experiment.js';
import { analyse } from '../experiment/analysis.js';
import { summaryTable } from '../report/tables.js';
import { activateBackend } from './backend.js';
import { EXIT, oneLine } from './errors.js';
import { nodeEnvironment, peakRss } from './environment.js';
import { loadDataset } from './options.js';
import { progressReporter } from './progress.js';
import { loadRunState, prepareRunDir, saveRunState, writeOutputs } from './run-folder.js';

export interface RunOptions {
  out: string;
  resume?: string;
  progress: boolean;
  checkpointEvery: number;
}

/**
 * Trains the configured models into a run folder: checkpoints and state as it goes, results.json and the report at
 * the end. Ctrl-C stops after the current iteration, writes the partial results and a checkpoint, and exits 130;
 * `--resume DIR` continues and ends with the same numbers as an uninterrupted run.
 */
export async function runCommand(config: ExperimentConfig, o: RunOptions): Promise<number> {
  const resumeState: RunState | undefined = o.resume ? await loadRunState(o.resume) : undefined;
  const cfg = resumeState ? { ...resumeState.config, backend: config.backend, threads: config.threads } : config;
  const dir = await prepareRunDir(o.resume ?? o.out);
  const data = loadDataset(cfg.dataset);
  const backend = await activateBackend(cfg.backend, cfg.threads);
  const err = process.stderr;
  const warn = (m: string): void => void err.write(`warning: ${m}\n`);
  let stopRequested = false;
  const onSigint = (): void => {
    if (stopRequested) process.exit(EXIT.interrupted);
    stopRequested = true;
    err.write(
      '\ninterrupt: finishing the current iteration, then saving a checkpoint and the partial results (Ctrl-C again to quit now)\n',
    );
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const progress = progressReporter(err, o.progress);
  let writeFailed = false;
  let outcome: ComparisonOutcome;
  try {
    err.write(
      `spikets: ${cfg.models.join(' + ').toUpperCase()} on ${cfg.dataset}, backend ${backend.name} x${backend.threads}, output ${relative(process.cwd(), dir) || '.'}\n`,
    );
    outcome = await runComparison({
      config: cfg,
      data,
      environment: nodeEnvironment(backend.name, backend.threads),
      now: () => performance.now(),
      peakMemory: peakRss,
      onEvent: progress.onEvent,
      shouldStop: () => stopRequested,
      onCheckpoint: async (state) => {
        try {
          await saveRunState(dir, state);
          writeFailed = false;
        } catch (error) {
          if (!writeFailed)
            warn(`checkpoint not saved: ${oneLine(error)} (training continues; results stay in memory)`);
          writeFailed = true;
        }
      },
      checkpointEvery: o.checkpointEvery,
      ...(resumeState ? { resume: resumeState } : {}),
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    backend.dispose();
  }
  const written = await writeOutputs(dir, outcome.results, warn);
  err.write('\n' + summaryTable(analyse(outcome.results, { thresholds: cfg.accuracyTargets })) + '\n');
  err.write(`\nresults: ${relative(process.cwd(), written) || '.'}/report.html\n`);
  if (outcome.status === 'interrupted') {
    err.write(`interrupted: resume with  spikets compare --resume ${relative(process.cwd(), dir)}\n`);
    return EXIT.interrupted;
  }
  if (outcome.status === 'failed') {
    err.write(`error: ${outcome.message ?? 'training failed'}\n`);
    return EXIT.failed;
  }
  return written === dir && !writeFailed ? EXIT.ok : EXIT.failed;
}
