/**
 * A canvas to draw a digit on (white ink on black, like MNIST), turned into the 28x28 network input by
 * preprocess.ts after every stroke.
 */
import { MNIST_SIZE, toMnist } from './preprocess.js';

export class DrawPad {
  private readonly g: CanvasRenderingContext2D;
  private last: { x: number; y: number } | null = null;
  private dirty = false;

  constructor(
    private readonly pad: HTMLCanvasElement,
    private readonly preview: HTMLCanvasElement,
    /** Called with the 28x28 input after each stroke (null: the pad is empty). */
    private readonly onInput: (pixels: Float32Array | null) => void,
  ) {
    const g = pad.getContext('2d', { willReadFrequently: true });
    if (g === null) throw new Error('web/src/draw-pad.ts: no 2D canvas context');
    this.g = g;
    this.clear();
    pad.addEventListener('pointerdown', (e) => {
      pad.setPointerCapture(e.pointerId);
      this.last = this.point(e);
      this.stroke(this.last, this.last);
    });
    pad.addEventListener('pointermove', (e) => {
      if (this.last === null) return;
      const p = this.point(e);
      this.stroke(this.last, p);
      this.last = p;
    });
    const end = (): void => {
      if (this.last === null) return;
      this.last = null;
      if (this.dirty) this.emit();
    };
    pad.addEventListener('pointerup', end);
    pad.addEventListener('pointercancel', end);
  }

  clear(): void {
    this.g.fillStyle = '#000';
    this.g.fillRect(0, 0, this.pad.width, this.pad.height);
    this.dirty = false;
    this.drawPreview(new Float32Array(MNIST_SIZE * MNIST_SIZE));
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.pad.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * this.pad.width) / r.width, y: ((e.clientY - r.top) * this.pad.height) / r.height };
  }

  private stroke(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const g = this.g;
    // About 2.5 px of a 28 px frame once the digit is scaled into its 20 px box, like MNIST's pen.
    g.lineWidth = this.pad.width / 12;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.strokeStyle = '#fff';
    g.beginPath();
    g.moveTo(a.x, a.y);
    g.lineTo(b.x, b.y);
    g.stroke();
    this.dirty = true;
  }

  /** The ink of the pad (red channel), in [0, 1]. */
  ink(): { ink: Float32Array; width: number; height: number } {
    const { width, height } = this.pad;
    const rgba = this.g.getImageData(0, 0, width, height).data;
    const ink = new Float32Array(width * height);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[i * 4]! / 255;
    return { ink, width, height };
  }

  private emit(): void {
    const pixels = toMnist(this.ink());
    this.drawPreview(pixels ?? new Float32Array(MNIST_SIZE * MNIST_SIZE));
    this.onInput(pixels);
  }

  private drawPreview(pixels: Float32Array): void {
    drawDigit(this.preview, pixels);
  }
}

/** Draws a 28x28 image in [0, 1] on `c` (nearest-neighbour upscaled). */
export function drawDigit(c: HTMLCanvasElement, pixels: Float32Array): void {
  const g = c.getContext('2d');
  if (g === null) return;
  const img = new ImageData(MNIST_SIZE, MNIST_SIZE);
  for (let i = 0; i < pixels.length; i++) {
    const v = Math.round(Math.min(1, Math.max(0, pixels[i]!)) * 255);
    img.data.set([v, v, v, 255], i * 4);
  }
  const tmp = document.createElement('canvas');
  tmp.width = MNIST_SIZE;
  tmp.height = MNIST_SIZE;
  tmp.getContext('2d')!.putImageData(img, 0, 0);
  g.imageSmoothingEnabled = false;
  g.drawImage(tmp, 0, 0, c.width, c.height);
}
