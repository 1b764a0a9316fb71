/**
 * The training worker: owns the data, the compute backend, the training run and the trained networks, so the page's
 * main thread only draws. Training is `experiment.runComparison`, the same function as the CLI, so the results it
 * returns are the CLI's results.json. Pause stops the run at the next iteration and keeps its resumable state.
 *
 * Messages are handled between training iterations (the runner yields to the event loop every 100 ms), which is
 * what lets the page pause, stop, pick a test digit or classify a drawing while a model trains.
 */
import { data, experiment, nn, noGrad, tensor, train } from 'spikets';
import { chooseBackend, type ActiveBackend } from './backend-choice.js';
import { browserCores, browserEnvironment } from './environment.js';
import type { BackendInfo, CnnPrediction, FromWorker, Inference, ModelKind, ToWorker } from './protocol.js';

interface Scope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<ToWorker>) => void): void;
  crossOriginIsolated?: boolean;
}
const scope = self as unknown as Scope;
const post = (message: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

type Config = experiment.ExperimentConfig;
type RunState = experiment.RunState;
type Datasets = data.SplitDatasets;

/** A trained network for inference, rebuilt from the run's latest checkpoint of that model. */
interface View {
  net: nn.Sequential;
  config: Config;
  iter: number;
  checkpoint: Uint8Array;
}

let datasets: Datasets | null = null;
let backend: ActiveBackend | null = null;
let running = false;
let stopRequest: 'pause' | 'stop' | null = null;
/** The paused run, while it can be resumed. */
let paused: { config: Config; state: RunState } | null = null;
const views: Record<ModelKind, View | null> = { snn: null, cnn: null };

/** Image `i` scaled to [0, 1] exactly as the DataLoader does (scale 'unit': fround(v / 255)). */
function imageAtUnit(ds: data.ImageDataset, i: number): Float32Array {
  return Float32Array.from(data.imageAt(ds, i), (v) => Math.fround(v / 255));
}

function softmax(logits: readonly number[]): number[] {
  const top = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

async function ensureBackend(threads: number): Promise<BackendInfo> {
  if (backend !== null && backend.requested === threads) return backend.info;
  const previous = backend;
  backend = await chooseBackend(threads, { crossOriginIsolated: scope.crossOriginIsolated === true, cores: browserCores() });
  previous?.dispose();
  return backend.info;
}

async function loadData(base: string): Promise<Datasets> {
  const url = (name: string): string => new URL(`${name}.gz`, base).href;
  return data.fromUrls({
    trainImages: url('train-images-idx3-ubyte'),
    trainLabels: url('train-labels-idx1-ubyte'),
    testImages: url('t10k-images-idx3-ubyte'),
    testLabels: url('t10k-labels-idx1-ubyte'),
  });
}

/** Rebuilds the inference networks from the checkpoints that changed; tells the page when any did. */
function refreshViews(config: Config, state: RunState): void {
  let changed = false;
  for (const kind of ['snn', 'cnn'] as const) {
    const saved = state.models[kind];
    if (!saved?.checkpoint) continue;
    const current = views[kind];
    if (current !== null && current.checkpoint === saved.checkpoint) continue;
    const net = current !== null && current.config === config ? current.net : kind === 'snn' ? experiment.buildSnnNet(config) : experiment.buildCnnNet(config);
    train.loadState(saved.checkpoint, net, undefined, `${kind} checkpoint`);
    views[kind] = { net, config, iter: saved.progress.iter, checkpoint: saved.checkpoint };
    changed = true;
  }
  if (changed) post({ type: 'weights', snnIter: views.snn?.iter ?? null, cnnIter: views.cnn?.iter ?? null });
}

async function runTraining(config: Config, resume: RunState | null): Promise<void> {
  if (datasets === null) throw new Error('web/src/worker.ts: the data set is not loaded yet');
  const info = backend!.info;
  running = true;
  stopRequest = null;
  paused = null;
  try {
    const outcome = await experiment.runComparison({
      config: { ...config, backend: info.name === 'wasm' ? 'wasm' : 'reference', threads: info.threads },
      data: datasets,
      environment: browserEnvironment(info),
      now: () => performance.now(),
      onEvent: (event) => post({ type: 'event', event }),
      shouldStop: () => stopRequest !== null,
      onCheckpoint: (state) => refreshViews(config, state),
      checkpointEvery: config.evalEvery,
      ...(resume ? { resume } : {}),
    });
    const resumable = outcome.status === 'interrupted' && stopRequest === 'pause';
    if (resumable) paused = { config, state: outcome.state };
    refreshViews(config, outcome.state);
    post({
      type: 'finished',
      results: outcome.results,
      status: outcome.status,
      resumable,
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
    });
  } finally {
    running = false;
    stopRequest = null;
  }
}

function infer(x: Float32Array, label: number): Inference {
  const input = tensor(x, { shape: [1, 1, 28, 28] });
  const snn = views.snn;
  const cnn = views.cnn;
  let cnnOut: CnnPrediction | null = null;
  if (cnn !== null) {
    const logits = noGrad(() => cnn.net.forward(input));
    const probabilities = softmax(Array.from(logits.values));
    cnnOut = { prediction: probabilities.indexOf(Math.max(...probabilities)), probabilities };
  }
  return {
    snn: snn === null ? null : experiment.recordSample(snn.net, input, label, snn.config.numSteps),
    cnn: cnnOut,
    snnIter: snn?.iter ?? null,
    cnnIter: cnn?.iter ?? null,
  };
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init': {
      const t0 = performance.now();
      const [info, loaded] = await Promise.all([ensureBackend(msg.threads), loadData(msg.dataBase)]);
      datasets = loaded;
      post({ type: 'ready', backend: info, data: { train: loaded.train.count, test: loaded.test.count, loadMs: performance.now() - t0 } });
      return;
    }
    case 'start': {
      if (running) throw new Error('web/src/worker.ts: a run is already in progress; stop it first');
      const config = experiment.parseConfig(msg.config, 'page controls');
      post({ type: 'backend', backend: await ensureBackend(msg.threads) });
      views.snn = null;
      views.cnn = null;
      await runTraining(config, null);
      return;
    }
    case 'pause':
      if (running) stopRequest = 'pause';
      return;
    case 'stop':
      if (running) stopRequest = 'stop';
      paused = null;
      return;
    case 'resume': {
      if (running || paused === null) throw new Error('web/src/worker.ts: nothing to resume (no paused run)');
      await runTraining(paused.config, paused.state);
      return;
    }
    case 'sample': {
      if (datasets === null) throw new Error('web/src/worker.ts: the data set is not loaded yet');
      const test = datasets.test;
      const index = Math.min(Math.max(0, Math.trunc(msg.index)), test.count - 1);
      const pixels = imageAtUnit(test, index);
      const label = test.labels[index]!;
      const inference = infer(pixels, label);
      post({ type: 'sample', id: msg.id, index, label, pixels, inference }, [pixels.buffer]);
      return;
    }
    case 'classify': {
      // Label 0 is a placeholder: a drawing has no true class, and the page never shows it for drawings.
      post({ type: 'classified', id: msg.id, inference: infer(msg.pixels, 0) });
      return;
    }
  }
}

scope.addEventListener('message', (ev) => {
  handle(ev.data).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
});
