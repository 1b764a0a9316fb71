import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/random.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import {
  ceCountLoss,
  ceMaxMembraneLoss,
  ceRateLoss,
  ceTemporalLoss,
  l1RateSparsity,
  mseCountLoss,
  mseMembraneLoss,
  mseTemporalLoss,
  type SpikeLoss,
} from '../../src/functional/index.js';
import { gradcheck, randomTensor } from '../helpers/numeric.js';

const rng = new Rng(11);
const T = 4;
const B = 3;
const C = 6;
const y = tensor(Int32Array.from([0, 5, 2]));
const yPop = tensor(Int32Array.from([0, 2, 1]));
const smooth = (): Tensor => randomTensor([T, B, C], rng, { requiresGrad: true });
/** Distinct values (gaps 2/size) in random order: the max over time stays put under the probe. */
const spread = (): Tensor => {
  const n = T * B * C;
  const perm = rng.permutation(n);
  return new Tensor(
    Float32Array.from(perm, (k) => -1 + (2 * k) / n),
    [T, B, C],
    { requiresGrad: true },
  );
};
const check = (loss: SpikeLoss, x: Tensor, targets: Tensor, eps = 1e-2): void =>
  gradcheck((v) => loss(v, targets), [x], { eps });

describe('finite-difference gradchecks of every loss on smooth inputs', () => {
  it('ceRateLoss: reductions, class weights, population code', () => {
    check(ceRateLoss(), smooth(), y);
    check(ceRateLoss({ reduction: 'none' }), smooth(), y);
    check(ceRateLoss({ reduction: 'sum', weight: [1, 2, 0.5, 1, 3, 0.2] }), smooth(), y);
    check(ceRateLoss({ weight: [1, 2, 0.5, 1, 3, 0.2] }), smooth(), y);
    check(ceRateLoss({ populationCode: true, numClasses: 3, weight: [0.3, 1, 2] }), smooth(), yPop);
  });

  it('ceCountLoss and ceMaxMembraneLoss', () => {
    check(ceCountLoss(), smooth(), y);
    check(ceCountLoss({ reduction: 'none', weight: [1, 2, 0.5, 1, 3, 0.2] }), smooth(), y);
    check(ceCountLoss({ populationCode: true, numClasses: 2 }), smooth(), tensor(Int32Array.from([0, 1, 1])));
    check(ceMaxMembraneLoss(), spread(), y, 1e-3);
    check(ceMaxMembraneLoss({ reduction: 'sum', weight: [1, 2, 0.5, 1, 3, 0.2] }), spread(), y, 1e-3);
  });

  it('mseCountLoss and mseMembraneLoss', () => {
    check(mseCountLoss({ correctRate: 0.75, incorrectRate: 0.25 }), smooth(), y);
    check(mseCountLoss({ reduction: 'none', weight: [1, 2, 0.5, 1, 3, 0.2] }), smooth(), y);
    check(mseCountLoss({ populationCode: true, numClasses: 3, reduction: 'sum' }), smooth(), yPop);
    check(mseMembraneLoss({ onTarget: 1.5, offTarget: 0.2 }), smooth(), y);
    check(mseMembraneLoss({ reduction: 'none', weight: [1, 2, 0.5, 1, 3, 0.2] }), smooth(), y);
    const timeVarying = tensor(
      Int32Array.from({ length: T * B }, (_, i) => i % C),
      { shape: [T, B] },
    );
    check(mseMembraneLoss({ weight: [1, 2, 0.5, 1, 3, 0.2] }), smooth(), timeVarying);
  });

  it('l1RateSparsity', () => {
    gradcheck((v) => l1RateSparsity({ lambda: 0.3 })(v), [smooth()]);
  });
});

describe('temporal losses: the sign estimator (spike times are piecewise constant, so no finite differences)', () => {
  // spikes: sample b neuron n first fires at step first[b][n] (T-1 = silent)
  const first = [
    [0, 2, 3, 1, 3, 2],
    [1, 1, 0, 3, 2, 3],
    [3, 0, 2, 2, 1, 0],
  ];
  const record = (): Tensor => {
    const v = new Float32Array(T * B * C);
    first.forEach((row, b) => row.forEach((f, n) => f < T - 1 && (v[(f * B + b) * C + n] = 1)));
    // a later spike of neuron 0 must not matter
    v[(3 * B + 0) * C + 0] = 1;
    return new Tensor(v, [T, B, C], { requiresGrad: true });
  };

  it('ceTemporalLoss(negate): d spk[f] = -(dL/ds) with dL/ds = -(softmax(-s) - onehot) / B', () => {
    const spk = record();
    const loss = ceTemporalLoss()(spk, y);
    loss.backward();
    const grad = spk.grad!.values;
    let expected = 0;
    first.forEach((s, b) => {
      const z = s.map((e) => -e);
      const m = Math.max(...z);
      const den = z.reduce((acc, e) => acc + Math.exp(e - m), 0);
      expected += (Math.log(den) + m - z[y.ints[b]!]!) / B;
      s.forEach((f, n) => {
        const dz = (Math.exp(z[n]! - m) / den - (n === y.ints[b] ? 1 : 0)) / B;
        const dS = -dz; // z = -s
        expect(grad[(f * B + b) * C + n]).toBeCloseTo(-dS, 6);
        for (let t = 0; t < T; t++) if (t !== f) expect(grad[(t * B + b) * C + n]).toBe(0);
      });
    });
    expect(loss.item()).toBeCloseTo(expected, 5);
  });

  it('mseTemporalLoss with explicit target times: d spk[f] = -2 (s - tgt) / (T^2 B N)', () => {
    const spk = record();
    const tgt = tensor(
      Int32Array.from({ length: B * C }, (_, i) => (i % 3) - 1),
      { shape: [B, C] },
    ); // -1 -> T-1
    const loss = mseTemporalLoss({ targetIsTime: true })(spk, tgt);
    loss.backward();
    let expected = 0;
    first.forEach((s, b) =>
      s.forEach((f, n) => {
        let t0 = tgt.ints[b * C + n]!;
        if (t0 < 0) t0 += T;
        expected += (f - t0) ** 2 / (T * T * B * C);
        expect(spk.grad!.values[(f * B + b) * C + n]).toBeCloseTo((-2 * (f - t0)) / (T * T * B * C), 6);
      }),
    );
    expect(loss.item()).toBeCloseTo(expected, 6);
  });

  it('mseTemporalLoss tolerance snaps near times to the target in the forward pass only', () => {
    const spk = record();
    const tgt = tensor(
      Int32Array.from({ length: B * C }, () => 1),
      { shape: [B, C] },
    );
    // |s - 1| < 1.5 for s in {0, 1, 2}: only the silent / step-3 neurons contribute (s = 3 -> (2/T)^2)
    const loss = mseTemporalLoss({ targetIsTime: true, tolerance: 1.5 })(spk, tgt);
    const far = first.flat().filter((f) => f === 3).length;
    expect(loss.item()).toBeCloseTo((far * (2 / T) ** 2) / (B * C), 6);
    loss.backward();
    // straight-through: snapped neurons still get the (now zero-difference) gradient, i.e. 0
    expect(spk.grad!.values.filter((e) => e !== 0).length).toBe(far);
  });
});

describe('ceRateLoss is one fused tape node', () => {
  it('the loss depends directly on the recording (no per-step nodes)', () => {
    const x = smooth();
    const loss = ceRateLoss()(x, y);
    expect(loss.node?.parents).toEqual([x]);
  });
});
