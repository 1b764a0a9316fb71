import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/random.js';
import { Tensor, tensor, zeros } from '../../src/tensor/tensor.js';
import {
  FunctionalError,
  accuracyRate,
  accuracyTemporal,
  ceCountLoss,
  ceMaxMembraneLoss,
  ceRateLoss,
  ceTemporalLoss,
  mseCountLoss,
  mseMembraneLoss,
  mseTemporalLoss,
} from '../../src/functional/index.js';
import { golden, goldenTensor } from '../helpers/golden.js';
import { randomTensor } from '../helpers/numeric.js';

const g = golden('losses.json');
const ids = (xs: number[]): Tensor => tensor(Int32Array.from(xs));

describe('accuracy metrics (losses.json accuracy cases)', () => {
  const acc = g.accuracy;

  it('accuracyRate on random spikes, and its predictions', () => {
    const spk = goldenTensor(g[acc.random_spk.spk]);
    expect(accuracyRate(spk, ids(acc.random_spk.targets))).toBe(acc.random_spk.accuracy_rate);
    expect(accuracyRate(spk, ids(acc.random_spk.pred))).toBe(1);
  });

  it('all-zero spikes predict class 0; ties go to the lowest index', () => {
    const silent = zeros([10, 4, 10]);
    expect(accuracyRate(silent, ids([0, 0, 0, 0]))).toBe(acc.all_zero_spikes.accuracy_rate_targets_0000);
    expect(accuracyRate(silent, ids([3, 0, 9, 7]))).toBe(acc.all_zero_spikes.accuracy_rate_targets_3097);
    const tie = zeros([10, 4, 10]);
    for (let t = 0; t < 10; t += 2)
      for (let b = 0; b < 4; b++) for (const c of [4, 7]) tie.values[(t * 4 + b) * 10 + c] = 1;
    expect(acc.tie_classes_4_and_7.pred).toEqual([4, 4, 4, 4]);
    expect(accuracyRate(tie, ids([4, 4, 4, 4]))).toBe(acc.tie_classes_4_and_7.accuracy_rate_targets_4444);
    expect(accuracyRate(tie, ids([7, 7, 7, 7]))).toBe(acc.tie_classes_4_and_7.accuracy_rate_targets_7777);
  });

  it('population code and temporal accuracy', () => {
    const pop = goldenTensor(g[acc.population_code_20to10.spk]);
    expect(accuracyRate(pop, ids(g.targets), { populationCode: true, numClasses: 10 })).toBe(
      acc.population_code_20to10.accuracy_rate,
    );
    const sparse = goldenTensor(g[acc.accuracy_temporal_sparse.spk]);
    expect(accuracyTemporal(sparse, ids(g.targets))).toBe(acc.accuracy_temporal_sparse.accuracy_temporal);
    // hand case: sample 0 neuron 2 fires first; sample 1 is silent (all at T-1: tie -> 0)
    const spk = zeros([3, 2, 3]);
    spk.values[(0 * 2 + 0) * 3 + 2] = 1;
    spk.values[(1 * 2 + 0) * 3 + 0] = 1;
    expect(accuracyTemporal(spk, ids([2, 0]))).toBe(1);
    expect(accuracyTemporal(spk, ids([0, 1]))).toBe(0);
  });
});

describe('reductions and class weights (snnTorch 0.9.4 conventions)', () => {
  const rng = new Rng(4);
  const x = randomTensor([5, 4, 3], rng);
  const y = ids([0, 2, 1, 2]);
  const w = [0.5, 2, 3];

  it('rate, count and max-membrane losses: a weighted mean divides by B; a weighted sum is a sum', () => {
    for (const make of [ceRateLoss, ceCountLoss, ceMaxMembraneLoss]) {
      const per = Array.from(make({ weight: w, reduction: 'none' })(x, y).values);
      const total = per.reduce((p, q) => p + q, 0);
      expect(make({ weight: w })(x, y).item()).toBeCloseTo(total / 4, 5);
      expect(make({ weight: w, reduction: 'sum' })(x, y).item()).toBeCloseTo(total, 5);
      const plain = Array.from(make({ reduction: 'none' })(x, y).values);
      // weights scale each sample by w[y_b]
      per.forEach((e, b) => expect(e).toBeCloseTo(plain[b]! * w[y.ints[b]!]!, 5));
    }
  });

  it('ceTemporalLoss: a weighted mean divides by the sum of the picked weights (PyTorch CrossEntropyLoss)', () => {
    const spk = new Tensor(
      Float32Array.from(x.values, (v) => (v > 0.3 ? 1 : 0)),
      x.shape,
    );
    const per = Array.from(ceTemporalLoss({ weight: w, reduction: 'none' })(spk, y).values);
    const wsum = Array.from(y.ints).reduce((p, k) => p + w[k]!, 0);
    expect(ceTemporalLoss({ weight: w })(spk, y).item()).toBeCloseTo(per.reduce((p, q) => p + q, 0) / wsum, 5);
  });

  it('MSE losses weight whole rows and keep [B, C] for reduction none', () => {
    const plain = mseCountLoss({ reduction: 'none' })(x, y);
    const weighted = mseCountLoss({ reduction: 'none', weight: w })(x, y);
    expect(weighted.shape).toEqual([4, 3]);
    weighted.values.forEach((e, i) => expect(e).toBeCloseTo(plain.values[i]! * w[y.ints[Math.floor(i / 3)]!]!, 5));
    expect(mseMembraneLoss({ reduction: 'none' })(x, y).shape).toEqual([4, 3]);
    const mean = mseMembraneLoss()(x, y).item();
    const sum = mseMembraneLoss({ reduction: 'sum' })(x, y).item();
    expect(sum).toBeCloseTo(mean * 12, 5);
    expect(mseTemporalLoss({ reduction: 'none' })(x, y).shape).toEqual([4, 3]);
  });

  it('mseMembraneLoss with time-varying targets [T, B] uses one one-hot per step', () => {
    const yt = tensor(Int32Array.from([0, 2, 1, 2, 0, 2, 1, 2, 0, 2, 1, 2, 0, 2, 1, 2, 0, 2, 1, 2]), { shape: [5, 4] });
    expect(mseMembraneLoss()(x, yt).item()).toBeCloseTo(mseMembraneLoss()(x, y).item(), 6);
    expect(() => mseMembraneLoss()(x, tensor(Int32Array.from([0, 1]), { shape: [1, 2] }))).toThrow(/targets/);
  });
});

describe('clear errors', () => {
  const x = zeros([2, 3, 4]);
  const field = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(FunctionalError);
      return (e as FunctionalError).field;
    }
    throw new Error('expected a throw');
  };

  it('names the field at fault', () => {
    expect(field(() => ceRateLoss()(x, ids([0, 1, 4])))).toBe('targets[2]');
    expect(field(() => ceRateLoss()(x, tensor([0, 1, 2])))).toBe('targets');
    expect(field(() => ceRateLoss()(zeros([3, 4]), ids([0, 1, 2])))).toBe('spk');
    expect(field(() => ceRateLoss({ weight: [1, 2] })(x, ids([0, 1, 2])))).toBe('weight');
    expect(field(() => ceCountLoss({ populationCode: true })(x, ids([0, 1, 1])))).toBe('numClasses');
    expect(field(() => mseCountLoss({ populationCode: true, numClasses: 3 })(x, ids([0, 1, 1])))).toBe('numClasses');
    expect(field(() => ceRateLoss({ reduction: 'avg' as 'mean' }))).toBe('reduction');
    expect(field(() => ceTemporalLoss({ inverse: 'log' as 'negate' }))).toBe('inverse');
    expect(field(() => accuracyRate(x, ids([0, 1, 9])))).toBe('targets[2]');
  });
});
