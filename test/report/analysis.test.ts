import { describe, expect, it } from 'vitest';
import {
  CE_RATE_LOSS_FLOOR,
  analyse,
  effectiveWindow,
  epochTimeAnalysis,
  lossConvergence,
  modelAccuracy,
  smoothLoss,
  timeToAccuracy,
} from '../../src/experiment/analysis.js';
import type { ModelKind } from '../../src/experiment/results.js';
import { Rng } from '../../src/tensor/random.js';
import { LN10, evalsAt, iterationsFromLosses, makeRecord, makeResults, syntheticConfig } from './fixture.js';

const IPE = 100;

/** Raw losses whose normalised value (loss - floor) / (initial - floor) is exactly `n`. */
function lossesFromNormalised(kind: ModelKind, n: readonly number[]): number[] {
  const floor = kind === 'snn' ? CE_RATE_LOSS_FLOOR : 0;
  return n.map((v) => floor + (LN10 - floor) * v);
}

function recordWithLosses(kind: ModelKind, n: readonly number[]) {
  return makeRecord(kind, {
    itersPerEpoch: IPE,
    iterations: iterationsFromLosses(lossesFromNormalised(kind, n), IPE, 0.1),
  });
}

describe('constants', () => {
  it('the ceRateLoss floor is log(1 + 9/e) = 1.4612 and an all-silent output gives ln 10', () => {
    expect(CE_RATE_LOSS_FLOOR).toBeCloseTo(1.4612, 4);
    // 0/1 spikes, target fires and the rest are silent: -log softmax = log(1 + 9 e^0 / e^1)
    expect(-Math.log(Math.E / (Math.E + 9))).toBeCloseTo(CE_RATE_LOSS_FLOOR, 12);
    expect(-Math.log(1 / 10)).toBeCloseTo(LN10, 12);
  });
});

describe('1. per-epoch training time', () => {
  it('pairs epochs and takes SNN / CNN ratios', () => {
    const r = makeResults({
      snn: makeRecord('snn', {
        epochs: [
          { epoch: 1, trainTimeS: 10, evalTimeS: 1, trainLoss: 2, testAccuracy: 0.9 },
          { epoch: 2, trainTimeS: 12, evalTimeS: 3, trainLoss: 1.6, testAccuracy: 0.95 },
        ],
        iterations: iterationsFromLosses([2, 2, 2, 2], 2, 0.6),
      }),
      cnn: makeRecord('cnn', {
        epochs: [
          { epoch: 1, trainTimeS: 2, evalTimeS: 0.5, trainLoss: 0.5, testAccuracy: 0.95 },
          { epoch: 2, trainTimeS: 3, evalTimeS: 0.5, trainLoss: 0.2, testAccuracy: 0.97 },
          { epoch: 3, trainTimeS: 3, evalTimeS: 0.5, trainLoss: 0.1, testAccuracy: 0.98 },
        ],
        iterations: iterationsFromLosses([1, 1, 1, 1], 2, 0.2),
      }),
    });
    const e = epochTimeAnalysis(r);
    expect(e.rows.map((x) => x.ratio)).toEqual([5, 4, null]);
    expect(e.rows[2]).toEqual({ epoch: 3, snnS: null, cnnS: 3, ratio: null });
    expect(e.snn!.meanEpochS).toBe(11);
    expect(e.cnn!.meanEpochS).toBeCloseTo(8 / 3, 12);
    expect(e.meanEpochRatio).toBeCloseTo(11 / (8 / 3), 12);
    expect(e.snn!.meanEvalS).toBe(2);
    expect(e.meanIterationRatio).toBeCloseTo(3, 12);
  });

  it('gives null ratios when a model is missing', () => {
    const r = makeResults({
      snn: makeRecord('snn', { epochs: [{ epoch: 1, trainTimeS: 10, evalTimeS: 1, trainLoss: 2, testAccuracy: 0.9 }] }),
    });
    const e = epochTimeAnalysis(r);
    expect(e.cnn).toBeNull();
    expect(e.meanEpochRatio).toBeNull();
    expect(e.rows).toEqual([{ epoch: 1, snnS: 10, cnnS: null, ratio: null }]);
  });
});

describe('2. time to accuracy', () => {
  const snnAcc: [number, number][] = [
    [0, 0.1],
    [50, 0.8],
    [100, 0.949],
    [150, 0.951],
    [200, 0.97],
  ];
  const cnnAcc: [number, number][] = [
    [0, 0.1],
    [50, 0.9],
    [100, 0.95],
    [150, 0.975],
    [200, 0.979],
  ];
  const results = makeResults({
    snn: makeRecord('snn', { itersPerEpoch: IPE, evals: evalsAt(snnAcc, IPE, 0.5) }),
    cnn: makeRecord('cnn', { itersPerEpoch: IPE, evals: evalsAt(cnnAcc, IPE, 0.1) }),
  });

  it('finds the first evaluation at or above each threshold, with fractional epochs and wall time', () => {
    const [t90, t95, t97, t98] = timeToAccuracy(results, [0.9, 0.95, 0.97, 0.98]);
    // 0.95 is crossed by the SNN at the eval of iteration 150 (0.949 at 100 is not enough).
    expect(t95!.snn).toEqual({ iter: 150, epochs: 1.5, timeS: 75, accuracy: 0.951 });
    // Reaching exactly the threshold counts.
    expect(t95!.cnn).toEqual({ iter: 100, epochs: 1, timeS: 10, accuracy: 0.95 });
    expect(t95!.ratio!.iterations).toBeCloseTo(1.5, 12);
    expect(t95!.ratio!.epochs).toBeCloseTo(1.5, 12);
    expect(t95!.ratio!.timeS).toBeCloseTo(7.5, 12);
    expect(t90!.snn!.iter).toBe(100);
    expect(t90!.cnn!.iter).toBe(50);
    expect(t90!.ratio!.timeS).toBeCloseTo(10, 12);
    expect(t97!.ratio!.iterations).toBeCloseTo(200 / 150, 12);
    // Never reached by either: no ratio.
    expect(t98).toEqual({ threshold: 0.98, snn: null, cnn: null, ratio: null });
  });

  it('gives a null ratio when only one model reaches the threshold', () => {
    const [row] = timeToAccuracy(results, [0.975]);
    expect(row!.snn).toBeNull();
    expect(row!.cnn!.iter).toBe(150);
    expect(row!.ratio).toBeNull();
  });

  it('orders evaluations by iteration and falls back to ceil(train / batch) iterations per epoch', () => {
    const evals = evalsAt(
      [
        [24, 0.96],
        [12, 0.955],
        [8, 0.5],
      ],
      8,
      1,
    );
    const r = makeResults(
      { snn: makeRecord('snn', { evals }) },
      { subset: { train: 1000, test: 100 }, batchSize: 128 },
    );
    const [row] = timeToAccuracy(r, [0.95]);
    expect(row!.snn).toEqual({ iter: 12, epochs: 1.5, timeS: 12, accuracy: 0.955 });
  });
});

describe('3. convergence and stability of the loss', () => {
  // Normalised loss exp(-(iter - 1) / tau) with tau chosen so that it is exactly 0.05 at iteration 100.
  const tau = 99 / Math.log(20);
  const expCurve = Array.from({ length: 300 }, (_, i) => Math.exp(-i / tau));

  it('settles at iteration 100 for a curve designed to enter the 5% band there (no smoothing)', () => {
    for (const kind of ['snn', 'cnn'] as const) {
      const c = lossConvergence(recordWithLosses(kind, expCurve), syntheticConfig(), 1, 0.05);
      expect(c.settle).toEqual({ index: 99, iter: 100, epochs: 1, timeS: expect.closeTo(10, 9) });
      expect(c.floor).toBe(kind === 'snn' ? CE_RATE_LOSS_FLOOR : 0);
      expect(c.initialLoss).toBeCloseTo(LN10, 12);
      expect(c.finalNormalised).toBeCloseTo(expCurve[299]!, 9);
    }
  });

  it('with noise and the default smoothing, still finds the settling point near iteration 100 (no lag)', () => {
    const settles: number[] = [];
    for (let seed = 0; seed < 10; seed++) {
      const rng = new Rng(seed);
      const noisy = expCurve.map((v, i) => (i === 0 ? v : v + 0.01 * rng.normal()));
      const c = lossConvergence(recordWithLosses('snn', noisy), syntheticConfig());
      expect(c.window).toBe(25);
      // Spread after settling = injected noise (std 0.01) combined with the clean curve's own decline there.
      const clean = expCurve.slice(c.settle!.index);
      const m = clean.reduce((x, y) => x + y, 0) / clean.length;
      const cleanVar = clean.reduce((acc, v) => acc + (v - m) ** 2, 0) / (clean.length - 1);
      const expected = Math.sqrt(0.01 ** 2 + cleanVar);
      expect(c.tail!.std / expected).toBeGreaterThan(0.85);
      expect(c.tail!.std / expected).toBeLessThan(1.15);
      settles.push(c.settle!.iter);
    }
    settles.sort((a, b) => a - b);
    expect(settles[0]).toBeGreaterThanOrEqual(95);
    expect(settles[9]).toBeLessThanOrEqual(110);
    // A trailing filter of the same width would put the median about 12 iterations late.
    const median = (settles[4]! + settles[5]!) / 2;
    expect(median).toBeGreaterThanOrEqual(99);
    expect(median).toBeLessThanOrEqual(104);
  });

  it('measures stability as the coefficient of variation of the normalised raw loss after settling', () => {
    // 1.0 for iterations 1..100, then 0.21, 0.19, 0.21, ... for 200 iterations.
    const c0 = 0.2;
    const a = 0.01;
    const n = [
      ...new Array<number>(100).fill(1),
      ...Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? c0 + a : c0 - a)),
    ];
    const c = lossConvergence(recordWithLosses('cnn', n), syntheticConfig(), 1, 0.05);
    expect(c.settle!.iter).toBe(101);
    expect(c.tail!.count).toBe(200);
    expect(c.tail!.mean).toBeCloseTo(c0, 12);
    const std = a * Math.sqrt(200 / 199);
    expect(c.tail!.std).toBeCloseTo(std, 12);
    expect(c.tail!.cv).toBeCloseTo(std / c0, 10);
  });

  it('reports a loss still moving at the end, a loss at its floor and a too-short run', () => {
    const falling = Array.from({ length: 10 }, (_, i) => 1 - 0.1 * i);
    const moving = lossConvergence(recordWithLosses('snn', falling), syntheticConfig(), 1, 0.05);
    expect(moving.settle).toBeNull();
    expect(moving.note).toMatch(/still moving/);
    const flat = makeRecord('snn', { iterations: iterationsFromLosses([CE_RATE_LOSS_FLOOR, CE_RATE_LOSS_FLOOR], 10) });
    expect(lossConvergence(flat, syntheticConfig()).note).toMatch(/not above the floor/);
    const one = makeRecord('cnn', { iterations: iterationsFromLosses([2.3], 10) });
    expect(lossConvergence(one, syntheticConfig()).note).toMatch(/fewer than 2/);
    expect(lossConvergence(makeRecord('cnn'), syntheticConfig()).initialLoss).toBeNull();
  });

  it('compares settling points SNN / CNN', () => {
    const late = Array.from({ length: 300 }, (_, i) => Math.exp(-i / (2 * tau)));
    const r = makeResults({ snn: recordWithLosses('snn', late), cnn: recordWithLosses('cnn', expCurve) });
    const a = analyse(r, { smoothingWindow: 1 });
    expect(a.convergence.cnn!.settle!.iter).toBe(100);
    // First iter with exp(-(iter - 1) / (2 tau)) - final <= 0.05.
    const expected = Math.ceil(1 + 2 * tau * Math.log(1 / (0.05 + late[299]!)));
    expect(expected).toBe(187);
    expect(a.convergence.snn!.settle!.iter).toBe(expected);
    expect(a.convergence.settleIterRatio).toBeCloseTo(a.convergence.snn!.settle!.iter / 100, 12);
  });
});

describe('smoothing', () => {
  it('is a centered moving average in the interior', () => {
    const s = smoothLoss([0, 0, 0, 9, 0, 0, 0], 3);
    expect(s).toEqual([0, 0, 3, 3, 3, 0, 0]);
  });

  it('passes a straight line through unchanged, ends included (no edge pull-down)', () => {
    const line = Array.from({ length: 40 }, (_, i) => 3 - 0.05 * i);
    smoothLoss(line, 11).forEach((v, i) => expect(v).toBeCloseTo(line[i]!, 12));
  });

  it('uses an odd window of at most a quarter of the run', () => {
    expect(effectiveWindow(300, 25)).toBe(25);
    expect(effectiveWindow(40, 25)).toBe(9);
    expect(effectiveWindow(100, 24)).toBe(23);
    expect(effectiveWindow(3, 25)).toBe(1);
  });
});

describe('4. accuracy', () => {
  it('derives per-class accuracy, the worst class and the accuracy of the confusion matrix', () => {
    const confusion = Array.from({ length: 10 }, (_, t) => {
      const row = new Array<number>(10).fill(0);
      if (t === 9) return row; // a class with no test images
      row[t] = 90 + t;
      row[(t + 1) % 10] = 10 - t;
      return row;
    });
    const rec = makeRecord('snn', {
      confusion,
      finalAccuracy: 0.9,
      bestAccuracy: 0.95,
      evals: evalsAt(
        [
          [50, 0.9],
          [100, 0.95],
          [150, 0.9],
        ],
        100,
        1,
      ),
    });
    const m = modelAccuracy(rec, 10000);
    expect(m.perClass.slice(0, 3)).toEqual([0.9, 0.91, 0.92]);
    expect(m.perClass[9]).toBeNull();
    expect(m.support[0]).toBe(100);
    expect(m.worstClass).toEqual({ cls: 0, accuracy: 0.9 });
    expect(m.confusionAccuracy).toBeCloseTo((90 * 9 + 36) / 900, 12);
    expect(m.final).toBe(0.9);
    expect(m.best).toBe(0.95);
    expect(m.bestIter).toBe(100);
  });

  it('takes the difference SNN - CNN of final accuracy and compares operations', () => {
    const r = makeResults({
      snn: makeRecord('snn', { finalAccuracy: 0.97, operationsPerInference: 2e6, peakMemoryBytes: 300 }),
      cnn: makeRecord('cnn', { finalAccuracy: 0.99, operationsPerInference: 4e6, peakMemoryBytes: null }),
    });
    const a = analyse(r);
    expect(a.accuracy.finalDifference).toBeCloseTo(-0.02, 12);
    expect(a.efficiency.operationsRatio).toBe(0.5);
    expect(a.efficiency.memoryRatio).toBeNull();
  });
});

describe('analyse', () => {
  it('validates its options', () => {
    const r = makeResults({});
    expect(() => analyse(r, { thresholds: [95] })).toThrow(
      /options\.thresholds: expected fractions in \(0, 1\], got 95/,
    );
    expect(() => analyse(r, { smoothingWindow: 0 })).toThrow(/options\.smoothingWindow/);
    expect(() => analyse(r, { settleTolerance: 0 })).toThrow(/options\.settleTolerance/);
  });

  it('summarises each model and serialises to JSON without loss', () => {
    const r = makeResults({ cnn: recordWithLosses('cnn', [1, 0.5, 0.25, 0.2]) });
    const a = analyse(r);
    expect(a.models.snn).toBeNull();
    expect(a.models.cnn).toMatchObject({ kind: 'cnn', status: 'complete', iterations: 4, itersPerEpoch: IPE });
    expect(a.models.cnn!.trainTimeS).toBeCloseTo(0.4, 12);
    expect(a.options.thresholds).toEqual([0.9, 0.95, 0.97, 0.98]);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });
});
