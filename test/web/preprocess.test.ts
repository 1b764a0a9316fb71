import { describe, expect, it } from 'vitest';
import { centreOfMass, inkBounds, resampleArea, toMnist, type InkImage } from '../../web/src/preprocess.js';

/** A w x h black image with the rectangle [x0, x1) x [y0, y1) fully inked. */
function rect(w: number, h: number, x0: number, y0: number, x1: number, y1: number): InkImage {
  const ink = new Float32Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) ink[y * w + x] = 1;
  return { ink, width: w, height: h };
}

function box28(pixels: Float32Array): { w: number; h: number } {
  const b = inkBounds({ ink: pixels, width: 28, height: 28 })!;
  return { w: b.x1 - b.x0, h: b.y1 - b.y0 };
}

describe('drawing -> MNIST-like 28x28 input (web/src/preprocess.ts)', () => {
  it('returns null for an empty pad and rejects a mis-sized image', () => {
    expect(toMnist({ ink: new Float32Array(280 * 280), width: 280, height: 280 })).toBeNull();
    expect(() => toMnist({ ink: new Float32Array(10), width: 4, height: 4 })).toThrow(RangeError);
  });

  it('scales the ink box to 20 px on its long side, keeping the aspect ratio', () => {
    const tall = toMnist(rect(280, 280, 30, 20, 60, 220))!; // 30 x 200 -> 3 x 20
    expect(box28(tall)).toEqual({ w: 3, h: 20 });
    const wide = toMnist(rect(280, 280, 10, 200, 250, 260))!; // 240 x 60 -> 20 x 5
    expect(box28(wide)).toEqual({ w: 20, h: 5 });
  });

  it('puts the centre of mass at the centre of the frame, wherever the digit was drawn', () => {
    for (const img of [rect(280, 280, 0, 0, 100, 150), rect(280, 280, 200, 150, 280, 280), rect(100, 60, 70, 5, 90, 55)]) {
      const out = toMnist(img)!;
      const com = centreOfMass(out, 28, 28)!;
      expect(Math.abs(com.x - 14)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(com.y - 14)).toBeLessThanOrEqual(0.5);
      for (const v of out) expect(v >= 0 && v <= 1).toBe(true);
    }
  });

  it('area-averages: full ink stays 1 inside, partial pixels get their covered share, mass is kept', () => {
    const img = rect(10, 10, 0, 0, 5, 10); // left half inked
    const out = resampleArea(img, 0, 0, 10, 10, 4, 4); // 2.5 source px per output px
    expect(Array.from(out.slice(0, 4))).toEqual([1, 1, 0, 0]);
    const half = resampleArea(rect(3, 1, 0, 0, 1, 1), 0, 0, 3, 1, 2, 1); // 1.5 px per output px, 1 px inked
    expect(half[0]).toBeCloseTo(1 / 1.5, 6);
    expect(half[1]).toBe(0);
    const src = rect(280, 280, 37, 41, 203, 170);
    const small = resampleArea(src, 0, 0, 280, 280, 20, 20);
    const mass = small.reduce((a, b) => a + b, 0) * (280 / 20) ** 2;
    expect(mass).toBeCloseTo(src.ink.reduce((a, b) => a + b, 0), 0);
  });
});
