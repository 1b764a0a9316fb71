/**
 * A drawn digit to an MNIST-like 28x28 input, the way MNIST itself was made (LeCun et al.): the ink's bounding box
 * is scaled, keeping its aspect ratio, to fit a 20x20 box with area averaging (anti-aliased grey levels), then
 * placed in the 28x28 frame so that its centre of mass sits at the centre (14, 14). Values are ink in [0, 1]
 * (0 = background), as the DataLoader's 'unit' scale gives for MNIST.
 */

export const MNIST_SIZE = 28;
export const MNIST_BOX = 20;

export interface InkImage {
  /** Ink per pixel in [0, 1], row-major. */
  ink: Float32Array;
  width: number;
  height: number;
}

/** Pixels with at least this much ink count toward the bounding box (ignores faint anti-aliasing dust). */
const INK_THRESHOLD = 0.05;

/** Bounding box of the ink, or null for an empty drawing. */
export function inkBounds(img: InkImage): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = img.width;
  let y0 = img.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.ink[y * img.width + x]! < INK_THRESHOLD) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/**
 * Area-average resampling of the source rectangle [sx, sx+sw) x [sy, sy+sh) onto tw x th pixels: each output pixel
 * is the mean ink of the source area it covers, fractional pixel overlaps weighted by their area.
 */
export function resampleArea(img: InkImage, sx: number, sy: number, sw: number, sh: number, tw: number, th: number): Float32Array {
  const out = new Float32Array(tw * th);
  const fx = sw / tw;
  const fy = sh / th;
  for (let oy = 0; oy < th; oy++) {
    const ya = sy + oy * fy;
    const yb = ya + fy;
    for (let ox = 0; ox < tw; ox++) {
      const xa = sx + ox * fx;
      const xb = xa + fx;
      let sum = 0;
      for (let y = Math.floor(ya); y < Math.ceil(yb); y++) {
        const wy = Math.min(yb, y + 1) - Math.max(ya, y);
        if (wy <= 0 || y < 0 || y >= img.height) continue;
        for (let x = Math.floor(xa); x < Math.ceil(xb); x++) {
          const wx = Math.min(xb, x + 1) - Math.max(xa, x);
          if (wx <= 0 || x < 0 || x >= img.width) continue;
          sum += wx * wy * img.ink[y * img.width + x]!;
        }
      }
      out[oy * tw + ox] = sum / (fx * fy);
    }
  }
  return out;
}

/** Centre of mass (x, y) of an image, in pixel-centre coordinates; null when it has no ink. */
export function centreOfMass(values: Float32Array, width: number, height: number): { x: number; y: number } | null {
  let m = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = values[y * width + x]!;
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  return m > 0 ? { x: mx / m, y: my / m } : null;
}

/** The MNIST-like 28x28 input of a drawing, or null when nothing is drawn. */
export function toMnist(img: InkImage): Float32Array | null {
  if (img.ink.length !== img.width * img.height) {
    throw new RangeError(`toMnist (web/src/preprocess.ts): ink has ${img.ink.length} values, expected width*height = ${img.width * img.height}`);
  }
  const box = inkBounds(img);
  if (box === null) return null;
  const bw = box.x1 - box.x0;
  const bh = box.y1 - box.y0;
  const scale = MNIST_BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale));
  const th = Math.max(1, Math.round(bh * scale));
  const digit = resampleArea(img, box.x0, box.y0, bw, bh, tw, th);
  const com = centreOfMass(digit, tw, th)!;
  const dx = Math.round(MNIST_SIZE / 2 - com.x);
  const dy = Math.round(MNIST_SIZE / 2 - com.y);
  const out = new Float32Array(MNIST_SIZE * MNIST_SIZE);
  for (let y = 0; y < th; y++) {
    const ty = y + dy;
    if (ty < 0 || ty >= MNIST_SIZE) continue;
    for (let x = 0; x < tw; x++) {
      const tx = x + dx;
      if (tx < 0 || tx >= MNIST_SIZE) continue;
      out[ty * MNIST_SIZE + tx] = Math.min(1, Math.max(0, digit[y * tw + x]!));
    }
  }
  return out;
}
