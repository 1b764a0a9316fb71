/**
 * The page: controls, live report, network view and drawing pad. It only draws; the worker (worker.ts) loads the
 * data, trains and infers, and talks to the page through the messages of protocol.ts.
 */
import './style.css';
import { experiment } from 'spikets';
import { showAnswers } from './answers.js';
import { BROWSER_PRESET, STUDY_PRESET, iterationsPerEpoch, readForm, writeForm } from './controls.js';
import { DrawPad, drawDigit } from './draw-pad.js';
import { browserEnvironment } from './environment.js';
import { LiveRun } from './live-results.js';
import { NetworkView } from './network-view.js';
import type { BackendInfo, DataInfo, FromWorker, Inference, Results, ToWorker } from './protocol.js';
import { ReportView } from './report-view.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`web/src/main.ts: #${id} is missing from index.html`);
  return el as T;
};

type Phase = 'loading' | 'ready' | 'running' | 'paused' | 'complete' | 'interrupted' | 'failed' | 'error';

const form = $<HTMLFormElement>('controls');
const status = $('status');
const buttons = { start: $<HTMLButtonElement>('start'), pause: $<HTMLButtonElement>('pause'), stop: $<HTMLButtonElement>('stop'), exp: $<HTMLButtonElement>('export') };
const SAMPLE_CHARTS = new Set(['raster', 'membrane', 'output-counts']);

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (msg: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(msg, transfer);

let phase: Phase = 'loading';
let dataInfo: DataInfo | null = null;
let backend: BackendInfo | null = null;
let live: LiveRun | null = null;
/** What the export button saves: the last finished (or paused) run, or the opened file. */
let saved: Results | null = null;
let liveSaved: Results | null = null;
let mode: 'live' | 'file' = 'live';
let digitIndex = 0;
let lastDrawing: Float32Array | null = null;
let lastDrawn: Inference | null = null;
let requestId = 0;
let lastRefresh = 0;

const reportView = new ReportView($('findings'), $('sections'), {
  // The live page animates the SNN sample in its own view; confusion matrices are real only once a model ends.
  omit: (r, c) => mode === 'live' && (SAMPLE_CHARTS.has(c.id) || (c.id.startsWith('confusion-') && !live?.ended.has(c.id.slice(10) as 'snn' | 'cnn'))),
});
const networkView = new NetworkView($('network'));
const pad = new DrawPad($<HTMLCanvasElement>('pad'), $<HTMLCanvasElement>('pad-preview'), (pixels) => {
  lastDrawing = pixels;
  classifyDrawing();
});

function setPhase(p: Phase, text: string): void {
  phase = p;
  status.dataset.state = p;
  status.textContent = text;
  const idle = p === 'ready' || p === 'complete' || p === 'interrupted' || p === 'failed';
  buttons.start.disabled = !idle;
  buttons.pause.disabled = !(p === 'running' || p === 'paused');
  buttons.pause.textContent = p === 'paused' ? 'Resume' : 'Pause';
  buttons.stop.disabled = !(p === 'running' || p === 'paused');
  buttons.exp.disabled = saved === null || p === 'running';
}

function showBackend(info: BackendInfo): void {
  backend = info;
  const simd = info.simd ? `, ${info.simd} SIMD` : '';
  $('backend').textContent = `Backend: ${info.name}${simd}, ${info.threads} thread${info.threads === 1 ? '' : 's'}: ${info.reason}.`;
  $('backend').dataset.backend = info.name;
  $('backend').dataset.threads = String(info.threads);
}

function updateIterations(): void {
  const n = iterationsPerEpoch(readForm(form), dataInfo?.train ?? null);
  $('iterations').textContent = n === null ? '' : `${n} iterations per epoch`;
}

function showProgress(): void {
  const box = $('progress');
  if (live === null) return box.replaceChildren();
  const rows = live.config.models.map((kind) => {
    const p = live!.progressOf(kind);
    const row = document.createElement('div');
    row.className = 'progress-row';
    row.dataset.model = kind;
    const bar = document.createElement('progress');
    bar.max = Math.max(1, p.totalIters);
    bar.value = p.iter;
    const text = document.createElement('div');
    const parts = [`${kind.toUpperCase()}: ${p.iter} / ${p.totalIters || '?'} iterations`];
    if (p.lastLoss !== null) parts.push(`loss ${p.lastLoss.toFixed(3)}`);
    if (p.lastTimeS !== null) parts.push(`${(p.lastTimeS * 1000).toFixed(0)} ms/iter`);
    if (p.lastAccuracy !== null) parts.push(`test ${(100 * p.lastAccuracy).toFixed(1)}%`);
    text.textContent = parts.join(' · ');
    row.append(text, bar);
    return row;
  });
  box.replaceChildren(...rows);
}

function requestSample(): void {
  send({ type: 'sample', index: digitIndex, id: ++requestId });
}

function classifyDrawing(): void {
  if (lastDrawing === null) {
    lastDrawn = null;
    showAnswers($('snn-answer'), $('cnn-answer'), null);
    $<HTMLButtonElement>('pad-watch').disabled = true;
    return;
  }
  send({ type: 'classify', pixels: lastDrawing.slice(), id: ++requestId });
}

/** New weights: refresh the digit view and the drawing's answers, at most every 3 s while training. */
function refreshInference(force: boolean): void {
  if (mode !== 'live') return;
  const now = performance.now();
  if (!force && now - lastRefresh < 3000) return;
  lastRefresh = now;
  requestSample();
  if (lastDrawing !== null) classifyDrawing();
}

function onMessage(msg: FromWorker): void {
  switch (msg.type) {
    case 'ready':
      dataInfo = msg.data;
      showBackend(msg.backend);
      $<HTMLInputElement>('digit-index').max = String(msg.data.test - 1);
      updateIterations();
      setPhase('ready', `Ready: MNIST loaded (${msg.data.train} training and ${msg.data.test} test images, ${(msg.data.loadMs / 1000).toFixed(1)} s).`);
      requestSample();
      return;
    case 'backend':
      showBackend(msg.backend);
      return;
    case 'event': {
      if (live === null) return;
      const kind = live.apply(msg.event);
      showProgress();
      if (mode === 'live') reportView.update(live.results());
      if (msg.event.type === 'model-end' && kind === 'snn') refreshInference(true);
      return;
    }
    case 'weights':
      refreshInference(false);
      return;
    case 'finished': {
      saved = msg.results;
      liveSaved = msg.results;
      if (mode === 'live') {
        reportView.update(msg.results, true);
        // Tells readers (and the end-to-end test) that the charts now show the finished run.
        void reportView.settled().then(() => ($('report').dataset.drawn = msg.status));
      }
      refreshInference(true);
      const why = msg.message ? `: ${msg.message}` : '';
      if (msg.resumable) setPhase('paused', 'Paused. Resume to continue where it stopped, or export what it has so far.');
      else if (msg.status === 'complete') setPhase('complete', 'Done: both curves, the four analyses and the trained networks are below.');
      else setPhase(msg.status, `Run ${msg.status === 'failed' ? 'failed' : 'stopped'}${why}.`);
      return;
    }
    case 'sample': {
      if (msg.index !== digitIndex) return;
      drawDigit($<HTMLCanvasElement>('digit'), msg.pixels);
      const { snn, cnn } = msg.inference;
      const answers = [`This is a ${msg.label}.`];
      if (snn) answers.push(`SNN: ${snn.prediction}.`);
      if (cnn) answers.push(`CNN: ${cnn.prediction} (${(100 * cnn.probabilities[cnn.prediction]!).toFixed(0)}%).`);
      $('digit-answers').textContent = answers.join(' ');
      if (snn && mode === 'live') {
        networkView.show(snn, msg.label, `Test digit #${msg.index}, a ${msg.label}: the SNN (weights of iteration ${msg.inference.snnIter}) answers ${snn.prediction}.`);
      }
      return;
    }
    case 'classified':
      lastDrawn = msg.inference;
      showAnswers($('snn-answer'), $('cnn-answer'), msg.inference);
      $<HTMLButtonElement>('pad-watch').disabled = msg.inference.snn === null;
      return;
    case 'error':
      $('form-error').textContent = msg.message;
      if (phase === 'loading') setPhase('error', `Could not start: ${msg.message}`);
      else if (phase === 'running') setPhase('failed', `Run failed: ${msg.message}`);
      return;
  }
}

worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => onMessage(ev.data));
worker.addEventListener('error', (ev) => setPhase('error', `The worker failed: ${ev.message}`));

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (buttons.start.disabled || backend === null || dataInfo === null) return;
  const values = readForm(form);
  let config: experiment.ExperimentConfig;
  try {
    config = experiment.parseConfig(values.config, 'the form');
  } catch (e) {
    $('form-error').textContent = e instanceof Error ? e.message : String(e);
    return;
  }
  $('form-error').textContent = '';
  const subset = { train: Math.min(config.trainLimit ?? dataInfo.train, dataInfo.train), test: Math.min(config.testLimit ?? dataInfo.test, dataInfo.test) };
  live = new LiveRun(config, backend, subset, browserEnvironment(backend));
  saved = null;
  mode = 'live';
  $('source').textContent = '';
  $('back-live').hidden = true;
  reportView.clear();
  $('report').dataset.drawn = 'live';
  showProgress();
  setPhase('running', `Training ${config.models.map((m) => m.toUpperCase()).join(' then ')}…`);
  send({ type: 'start', config: values.config, threads: values.threads });
});

buttons.pause.addEventListener('click', () => {
  if (phase === 'running') {
    buttons.pause.disabled = true;
    send({ type: 'pause' });
  } else if (phase === 'paused') {
    setPhase('running', 'Training resumed…');
    send({ type: 'resume' });
  }
});

buttons.stop.addEventListener('click', () => {
  if (phase === 'paused') setPhase('interrupted', 'Stopped. The results so far can be exported.');
  send({ type: 'stop' });
});

buttons.exp.addEventListener('click', () => {
  if (saved === null) return;
  const blob = new Blob([JSON.stringify(saved, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'results.json';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
});

$<HTMLInputElement>('open').addEventListener('change', (ev) => {
  const input = ev.target as HTMLInputElement;
  const file = input.files?.[0];
  if (file === undefined) return;
  void file.text().then((text) => {
    let results: Results;
    try {
      results = experiment.validateResults(JSON.parse(text));
    } catch (e) {
      $('source').textContent = `${file.name} is not a spikets results.json: ${e instanceof Error ? e.message : String(e)}`;
      return;
    }
    mode = 'file';
    saved = results;
    buttons.exp.disabled = phase === 'running';
    const env = results.environment;
    $('source').textContent = `Viewing ${file.name}: run of ${results.createdAt}, ${env.backend} backend with ${env.threads} thread(s), ${env.userAgent}.`;
    $('source').dataset.file = file.name;
    $('back-live').hidden = live === null;
    reportView.clear();
    reportView.update(results, true);
    const sample = results.models.snn?.sample;
    if (sample) networkView.show(sample, sample.label, `The sample digit recorded in ${file.name}: a ${sample.label}, answered ${sample.prediction}.`);
    input.value = '';
  });
});

$('back-live').addEventListener('click', () => {
  mode = 'live';
  saved = liveSaved;
  $('source').textContent = '';
  $('back-live').hidden = true;
  reportView.clear();
  if (live) reportView.update(liveSaved ?? live.results(), true);
  refreshInference(true);
});

$('preset-browser').addEventListener('click', () => {
  writeForm(form, BROWSER_PRESET);
  updateIterations();
});
$('preset-study').addEventListener('click', () => {
  writeForm(form, STUDY_PRESET);
  updateIterations();
});
form.addEventListener('input', updateIterations);

$('digit-index').addEventListener('change', (ev) => {
  digitIndex = Math.max(0, Math.trunc(Number((ev.target as HTMLInputElement).value)) || 0);
  requestSample();
});
$('digit-random').addEventListener('click', () => {
  digitIndex = Math.floor(Math.random() * (dataInfo?.test ?? 1));
  $<HTMLInputElement>('digit-index').value = String(digitIndex);
  requestSample();
});
$('pad-clear').addEventListener('click', () => {
  pad.clear();
  lastDrawing = null;
  classifyDrawing();
});
$('pad-watch').addEventListener('click', () => {
  const snn = lastDrawn?.snn;
  if (snn) {
    networkView.show(snn, null, `Your drawing: the SNN answers ${snn.prediction}.`);
    $('network').scrollIntoView({ behavior: 'smooth' });
  }
});

writeForm(form, BROWSER_PRESET);
setPhase('loading', 'Loading MNIST…');
send({ type: 'init', dataBase: new URL('mnist/', document.baseURI).href, threads: readForm(form).threads });
