import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DataLoader } from '../data/loader.js';
import { createCnnModel, createSnnModel } from '../experiment/models.js';
import { evaluateModel } from '../experiment/runner.js';
import { runComparison } from '../experiment/experiment.js';
import { validateResults } from '../experiment/results.js';
import { decodeSafetensors } from '../tensor/safetensors.js';
import { loadState } from '../train/checkpoint.js';
import { formatTextTable } from '../report/tables.js';
import { activateBackend } from './backend.js';
import { runCommand } from './compare.js';
import { EXIT, UsageError, oneLine } from './errors.js';
import { nodeEnvironment, spiketsVersion } from './environment.js';
import { addConfigOptions, loadDataset, resolveConfig, type ConfigFlags } from './options.js';
import { defaultRunDir, writeOutputs } from './run-folder.js';
import { performance } from 'node:perf_hooks';

interface RunFlags extends ConfigFlags {
  out?: string;
  resume?: string;
  progress: boolean;
  checkpointEvery: number;
}

function runFlags(cmd: Command, options: { steps?: boolean } = {}): Command {
  return addConfigOptions(cmd, options)
    .option('--out <dir>', 'run folder (default runs/<timestamp>)')
    .option('--resume <dir>', 'continue an interrupted run in its folder')
    .option('--no-progress', 'no progress bar (one line per evaluation instead)')
    .option('--checkpoint-every <n>', 'also checkpoint every n iterations', (v) => Number(v), 100);
}

/** Builds the `spikets` program; `exit` receives the exit code. */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('spikets')
    .description('Spiking neural networks in TypeScript: train and compare an SNN and a CNN on MNIST')
    .version(spiketsVersion())
    .showHelpAfterError()
    .exitOverride();

  runFlags(program.command('compare'))
    .description('train the SNN and the CNN of the study under identical conditions and write a report (the main job)')
    .action(async (flags: RunFlags) => exit(await runCommand(resolveConfig(flags), runOptions(flags))));

  runFlags(program.command('train'))
    .description('train one model (same protocol and outputs as compare)')
    .addOption(new Option('--model <kind>', 'which model').choices(['snn', 'cnn']).makeOptionMandatory())
    .action(async (flags: RunFlags & { model: 'snn' | 'cnn' }) =>
      exit(await runCommand(resolveConfig(flags, { models: [flags.model] }), runOptions(flags))),
    );

  addConfigOptions(program.command('eval'))
    .description('evaluate a checkpoint (checkpoints/snn.safetensors or cnn.safetensors of a run) on the test set')
    .requiredOption('--checkpoint <file>', 'safetensors checkpoint written by spikets')
    .action(async (flags: ConfigFlags & { checkpoint: string }) => exit(await evalCommand(flags)));

  program
    .command('report')
    .description('re-render report.html, report.md, CSVs and charts from a run folder')
    .argument('<run-dir>', 'folder holding results.json')
    .action(async (dir: string) => exit(await reportCommand(dir)));

  runFlags(program.command('sweep'), { steps: false })
    .description('SNN accuracy and time per epoch as a function of the number of time steps')
    .option('--steps <list>', 'comma-separated time steps', parseSteps, [5, 10, 25, 50])
    .action(async (flags: Omit<RunFlags, 'steps'> & { steps: number[] }) => exit(await sweepCommand(flags)));

  return program;
}

function parseSteps(v: string): number[] {
  const steps = v.split(',').map((s) => Number(s.trim()));
  if (steps.length === 0 || steps.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new InvalidArgumentError(`expected comma-separated positive integers, got '${v}'`);
  }
  return steps;
}

function runOptions(flags: RunFlags): { out: string; resume?: string; progress: boolean; checkpointEvery: number } {
  return {
    out: flags.out ?? defaultRunDir(),
    ...(flags.resume ? { resume: flags.resume } : {}),
    progress: flags.progress,
    checkpointEvery: flags.checkpointEvery,
  };
}

async function evalCommand(flags: ConfigFlags & { checkpoint: string }): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(flags.checkpoint));
  } catch (error) {
    throw new UsageError(`cannot read checkpoint ${flags.checkpoint}: ${oneLine(error)}`);
  }
  const kind = decodeSafetensors(bytes, flags.checkpoint).metadata.kind;
  if (kind !== 'snn' && kind !== 'cnn')
    throw new UsageError(`checkpoint ${flags.checkpoint}: metadata 'kind' must be 'snn' or 'cnn', got ${String(kind)}`);
  const config = resolveConfig(flags);
  const backend = await activateBackend(config.backend, config.threads);
  try {
    const model = kind === 'snn' ? createSnnModel(config) : createCnnModel(config);
    loadState(bytes, model.net, undefined, flags.checkpoint);
    const data = loadDataset(config.dataset);
    const test = new DataLoader(data.test, {
      batchSize: 256,
      ...(config.testLimit ? { limit: config.testLimit } : {}),
    });
    const t0 = performance.now();
    const r = evaluateModel(model, test);
    process.stdout.write(
      formatTextTable({
        header: ['model', 'test samples', 'accuracy', 'loss', 'time'],
        rows: [
          [
            kind.toUpperCase(),
            String(test.numExamples),
            `${(r.accuracy * 100).toFixed(2)}%`,
            r.loss.toFixed(4),
            `${((performance.now() - t0) / 1000).toFixed(1)} s`,
          ],
        ],
        align: ['left', 'right', 'right', 'right', 'right'],
      }) + '\n',
    );
  } finally {
    backend.dispose();
  }
  return EXIT.ok;
}

async function reportCommand(dir: string): Promise<number> {
  const file = join(resolve(dir), 'results.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${oneLine(error)}`);
  }
  let results;
  try {
    results = validateResults(json);
  } catch (error) {
    throw new UsageError(`${file}: ${oneLine(error)}`);
  }
  const written = await writeOutputs(resolve(dir), results, (m) => void process.stderr.write(`warning: ${m}\n`));
  process.stderr.write(`report: ${join(written, 'report.html')}\n`);
  return EXIT.ok;
}

/** Trains the SNN once per number of steps (config epochs) and tabulates accuracy and time per epoch. */
async function sweepCommand(flags: Omit<RunFlags, 'steps'> & { steps: number[] }): Promise<number> {
  const { steps: stepsList, ...rest } = flags;
  const base = resolveConfig(rest, { models: ['snn'] });
  const out = resolve(flags.out ?? defaultRunDir());
  await mkdir(out, { recursive: true });
  const data = loadDataset(base.dataset);
  const backend = await activateBackend(base.backend, base.threads);
  const rows: {
    steps: number;
    finalAccuracy: number | null;
    bestAccuracy: number | null;
    epochTimeS: number;
    iterationS: number;
  }[] = [];
  try {
    for (const steps of stepsList) {
      const config = { ...base, numSteps: steps };
      process.stderr.write(`sweep: T = ${steps}\n`);
      const { results } = await runComparison({
        config,
        data,
        environment: nodeEnvironment(backend.name, backend.threads),
        now: () => performance.now(),
      });
      const snn = results.models.snn!;
      const iterTimes = snn.iterations.map((i) => i.timeS).sort((a, b) => a - b);
      rows.push({
        steps,
        finalAccuracy: snn.finalAccuracy,
        bestAccuracy: snn.bestAccuracy,
        epochTimeS: snn.epochs.reduce((p, e) => p + e.trainTimeS, 0) / Math.max(1, snn.epochs.length),
        iterationS: iterTimes[Math.floor(iterTimes.length / 2)] ?? 0,
      });
    }
  } finally {
    backend.dispose();
  }
  const table = formatTextTable({
    header: ['T', 'final acc', 'best acc', 'train s / epoch', 'median s / iter'],
    rows: rows.map((r) => [
      String(r.steps),
      pct(r.finalAccuracy),
      pct(r.bestAccuracy),
      r.epochTimeS.toFixed(1),
      r.iterationS.toFixed(3),
    ]),
    align: ['right', 'right', 'right', 'right', 'right'],
  });
  await writeFile(join(out, 'sweep.json'), JSON.stringify({ config: base, rows }, null, 1) + '\n');
  await writeFile(join(out, 'sweep.md'), `# SNN time-step sweep\n\n\`\`\`\n${table}\n\`\`\`\n`);
  process.stdout.write(table + '\n');
  return EXIT.ok;
}

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);

/** Runs the CLI; resolves to the exit code (0 ok, 1 failed run, 2 usage/config/data error, 130 interrupted). */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`error: ${oneLine(error)}\n`);
    if (process.env.SPIKETS_DEBUG) console.error(error);
    return EXIT.failed;
  }
}
