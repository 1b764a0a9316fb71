/** The two networks' answers for a drawn digit: SNN output spikes per class, CNN softmax probabilities. */
import type { Inference } from './protocol.js';

function bars(values: readonly number[], max: number, winner: number, format: (v: number) => string): HTMLElement {
  const list = document.createElement('div');
  list.className = 'bars';
  values.forEach((v, cls) => {
    const row = document.createElement('div');
    row.className = cls === winner ? 'bar-row winner' : 'bar-row';
    const name = document.createElement('span');
    name.textContent = String(cls);
    const track = document.createElement('span');
    track.className = 'bar-track';
    const fill = document.createElement('span');
    fill.className = 'bar-fill';
    fill.style.width = `${max > 0 ? (100 * v) / max : 0}%`;
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'bar-value';
    value.textContent = format(v);
    row.append(name, track, value);
    list.append(row);
  });
  return list;
}

function heading(text: string): HTMLElement {
  const h = document.createElement('h3');
  h.textContent = text;
  return h;
}

function note(text: string): HTMLElement {
  const p = document.createElement('p');
  p.className = 'muted';
  p.textContent = text;
  return p;
}

export function showAnswers(snnBox: HTMLElement, cnnBox: HTMLElement, inf: Inference | null): void {
  const snn = inf?.snn ?? null;
  if (snn === null) {
    snnBox.replaceChildren(heading('SNN'), note('not trained yet'));
    delete snnBox.dataset.prediction;
  } else {
    const steps = snn.membrane[0]?.values.length ?? 1;
    const silent = snn.outputCounts.every((n) => n === 0);
    snnBox.replaceChildren(
      heading(`SNN says ${snn.prediction}${silent ? ' (no output spike: a tie, broken toward 0)' : ''}`),
      note(`output spikes per class over ${steps} steps (weights of iteration ${inf?.snnIter ?? '?'})`),
      bars(snn.outputCounts, steps, snn.prediction, String),
    );
    snnBox.dataset.prediction = String(snn.prediction);
  }
  const cnn = inf?.cnn ?? null;
  if (cnn === null) {
    cnnBox.replaceChildren(heading('CNN'), note('not trained yet'));
    delete cnnBox.dataset.prediction;
  } else {
    cnnBox.replaceChildren(
      heading(`CNN says ${cnn.prediction}`),
      note(`softmax probability per class (weights of iteration ${inf?.cnnIter ?? '?'})`),
      bars(cnn.probabilities, 1, cnn.prediction, (p) => `${(100 * p).toFixed(1)}%`),
    );
    cnnBox.dataset.prediction = String(cnn.prediction);
  }
}
