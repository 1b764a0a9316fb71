/**
 * The network at work: the trained SNN looking at one digit, replayed step by step. Per spiking layer a raster
 * (time on x, neuron on y, one mark per spike), the membrane potential of chosen output neurons with the firing
 * threshold, and the output spikes per class accumulating over time; the class with most spikes is the answer.
 * Data: an `SnnSample` from experiment.recordSample (the same record the report draws).
 */
import type { SnnSample } from './protocol.js';

const COLORS = ['#1b6ca8', '#d95f02', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#d62728'];
const INK = '#222';
const GRID = '#e4e4e4';

function canvas(width: number, height: number, label: string): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  c.setAttribute('aria-label', label);
  return c;
}

function ctx2d(c: HTMLCanvasElement): CanvasRenderingContext2D {
  const g = c.getContext('2d');
  if (g === null) throw new Error('web/src/network-view.ts: no 2D canvas context');
  return g;
}

/** Spikes of `layer` for steps < t. */
export function drawRaster(c: HTMLCanvasElement, layer: SnnSample['raster'][number], t: number): void {
  const g = ctx2d(c);
  const { width: w, height: h } = c;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, w, h);
  const colW = w / layer.steps;
  g.strokeStyle = GRID;
  for (let s = 0; s <= layer.steps; s++) {
    g.beginPath();
    g.moveTo(Math.round(s * colW) + 0.5, 0);
    g.lineTo(Math.round(s * colW) + 0.5, h);
    g.stroke();
  }
  const rowH = Math.max(1, h / layer.neurons);
  g.fillStyle = INK;
  for (let s = 0; s < Math.min(t, layer.steps); s++) {
    const x = s * colW + Math.min(1, colW * 0.1);
    const bw = Math.max(1, colW - 2 * Math.min(1, colW * 0.1));
    for (const n of layer.spikes[s]!) g.fillRect(x, Math.floor((n * h) / layer.neurons), bw, rowH);
  }
  if (t < layer.steps) {
    g.fillStyle = 'rgba(217, 95, 2, 0.18)';
    g.fillRect(t * colW, 0, colW, h);
  }
}

/** Membrane traces of `neurons` (output layer) for steps < t, with the threshold dashed. */
export function drawMembrane(c: HTMLCanvasElement, sample: SnnSample, neurons: readonly number[], t: number): void {
  const g = ctx2d(c);
  const { width: w, height: h } = c;
  const pad = { l: 36, r: 8, t: 8, b: 20 };
  g.fillStyle = '#fff';
  g.fillRect(0, 0, w, h);
  const traces = sample.membrane.filter((m) => neurons.includes(m.neuron));
  const steps = sample.membrane[0]?.values.length ?? 0;
  if (steps === 0) return;
  const threshold = sample.membrane[0]!.threshold;
  let lo = Math.min(0, threshold);
  let hi = Math.max(threshold, 0);
  for (const m of traces) {
    lo = Math.min(lo, ...m.values);
    hi = Math.max(hi, ...m.values);
  }
  const span = hi - lo || 1;
  lo -= span * 0.05;
  hi += span * 0.05;
  const X = (s: number): number => pad.l + ((w - pad.l - pad.r) * (s + 0.5)) / steps;
  const Y = (v: number): number => pad.t + ((h - pad.t - pad.b) * (hi - v)) / (hi - lo);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#555';
  g.strokeStyle = GRID;
  for (const v of [lo, 0, threshold, hi]) {
    g.beginPath();
    g.moveTo(pad.l, Y(v));
    g.lineTo(w - pad.r, Y(v));
    g.stroke();
    g.fillText(v.toFixed(2), 2, Y(v) + 4);
  }
  g.fillText('time step →', w - pad.r - 70, h - 5);
  g.strokeStyle = '#d62728';
  g.setLineDash([5, 4]);
  g.beginPath();
  g.moveTo(pad.l, Y(threshold));
  g.lineTo(w - pad.r, Y(threshold));
  g.stroke();
  g.setLineDash([]);
  g.lineWidth = 2;
  for (const m of traces) {
    g.strokeStyle = COLORS[m.neuron % COLORS.length]!;
    g.beginPath();
    const n = Math.min(t, m.values.length);
    for (let s = 0; s < n; s++) {
      if (s === 0) g.moveTo(X(s), Y(m.values[s]!));
      else g.lineTo(X(s), Y(m.values[s]!));
    }
    g.stroke();
    for (let s = 0; s < n; s++) {
      g.fillStyle = g.strokeStyle;
      g.beginPath();
      g.arc(X(s), Y(m.values[s]!), 2, 0, 2 * Math.PI);
      g.fill();
    }
  }
  g.lineWidth = 1;
}

/** Output spikes per class over steps < t (from the last raster layer). */
export function outputCountsUpTo(sample: SnnSample, t: number): number[] {
  const out = sample.raster[sample.raster.length - 1];
  const counts = new Array<number>(10).fill(0);
  if (out === undefined) return counts;
  for (let s = 0; s < Math.min(t, out.steps); s++) for (const n of out.spikes[s]!) if (n < 10) counts[n]!++;
  return counts;
}

export function drawCounts(c: HTMLCanvasElement, sample: SnnSample, t: number, label: number | null): void {
  const g = ctx2d(c);
  const { width: w, height: h } = c;
  const pad = { l: 8, r: 8, t: 14, b: 20 };
  g.fillStyle = '#fff';
  g.fillRect(0, 0, w, h);
  const counts = outputCountsUpTo(sample, t);
  const steps = sample.raster[sample.raster.length - 1]?.steps ?? 1;
  const top = Math.max(...counts);
  const bw = (w - pad.l - pad.r) / 10;
  g.font = '12px system-ui, sans-serif';
  g.textAlign = 'center';
  counts.forEach((n, cls) => {
    const bh = ((h - pad.t - pad.b) * n) / steps;
    const x = pad.l + cls * bw;
    const leading = top > 0 && n === top;
    g.fillStyle = cls === label ? (leading ? '#2ca02c' : '#1b6ca8') : leading ? '#d62728' : '#bbb';
    g.fillRect(x + 3, h - pad.b - bh, bw - 6, bh);
    g.fillStyle = '#222';
    g.fillText(String(cls), x + bw / 2, h - 5);
    if (n > 0) g.fillText(String(n), x + bw / 2, h - pad.b - bh - 3);
  });
  g.textAlign = 'start';
}

export class NetworkView {
  private sample: SnnSample | null = null;
  private label: number | null = null;
  private neurons: number[] = [];
  private t = 0;
  private start = 0;
  private frame = 0;
  private readonly rasters: HTMLElement;
  private readonly membrane = canvas(520, 200, 'membrane potential of output neurons');
  private readonly counts = canvas(360, 170, 'output spikes per class');
  private readonly chips: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly clock: HTMLElement;

  constructor(private readonly root: HTMLElement) {
    this.caption = root.querySelector<HTMLElement>('[data-role=caption]')!;
    this.rasters = root.querySelector<HTMLElement>('[data-role=rasters]')!;
    this.chips = root.querySelector<HTMLElement>('[data-role=neurons]')!;
    this.clock = root.querySelector<HTMLElement>('[data-role=clock]')!;
    root.querySelector('[data-role=membrane]')!.append(this.membrane);
    root.querySelector('[data-role=counts]')!.append(this.counts);
    root.querySelector('[data-role=replay]')!.addEventListener('click', () => this.play());
  }

  /** Shows `sample` (label null: a drawing, no true class) and replays it from step 0. */
  show(sample: SnnSample, label: number | null, caption: string): void {
    this.sample = sample;
    this.label = label;
    this.caption.textContent = caption;
    const ranked = sample.outputCounts.map((n, cls) => [n, cls] as const).sort((a, b) => b[0] - a[0]);
    this.neurons = [...new Set([...(label !== null ? [label] : []), sample.prediction, ranked[1]![1]])];
    this.rasters.replaceChildren(
      ...sample.raster.map((layer) => {
        const fig = document.createElement('div');
        fig.className = 'raster';
        const title = document.createElement('div');
        title.className = 'raster-title';
        const fired = layer.spikes.reduce((a, s) => a + s.length, 0);
        title.textContent = `${layer.layer}: ${layer.neurons} neurons, ${fired} spikes in ${layer.steps} steps`;
        const height = Math.min(220, Math.max(50, Math.round(layer.neurons / 8)));
        const c = canvas(520, height, `spike raster of ${layer.layer}`);
        c.dataset.layer = layer.layer;
        fig.append(title, c);
        return fig;
      }),
    );
    this.renderChips();
    this.root.dataset.ready = 'true';
    this.play();
  }

  private renderChips(): void {
    const chips = Array.from({ length: 10 }, (_, cls) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip';
      b.textContent = String(cls);
      b.style.setProperty('--chip', COLORS[cls]!);
      b.setAttribute('aria-pressed', String(this.neurons.includes(cls)));
      b.addEventListener('click', () => {
        this.neurons = this.neurons.includes(cls) ? this.neurons.filter((n) => n !== cls) : [...this.neurons, cls];
        b.setAttribute('aria-pressed', String(this.neurons.includes(cls)));
        this.draw();
      });
      return b;
    });
    this.chips.replaceChildren(...chips);
  }

  play(): void {
    if (this.sample === null) return;
    cancelAnimationFrame(this.frame);
    this.start = performance.now();
    this.t = 0;
    const steps = this.sample.raster[0]?.steps ?? 1;
    const perStep = Math.max(40, 2500 / steps);
    const tick = (now: number): void => {
      this.t = Math.min(steps, Math.floor((now - this.start) / perStep) + 1);
      this.draw();
      if (this.t < steps) this.frame = requestAnimationFrame(tick);
    };
    this.frame = requestAnimationFrame(tick);
  }

  private draw(): void {
    const s = this.sample;
    if (s === null) return;
    const canvases = this.rasters.querySelectorAll('canvas');
    s.raster.forEach((layer, i) => drawRaster(canvases[i]!, layer, this.t));
    drawMembrane(this.membrane, s, this.neurons, this.t);
    drawCounts(this.counts, s, this.t, this.label);
    const steps = s.raster[0]?.steps ?? 0;
    this.clock.textContent = `step ${this.t} / ${steps}`;
  }
}
