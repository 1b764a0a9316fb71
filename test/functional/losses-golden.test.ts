import { describe, expect, it } from 'vitest';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { sum } from '../../src/tensor/ops/reduce.js';
import {
  ceCountLoss,
  ceMaxMembraneLoss,
  ceRateLoss,
  ceTemporalLoss,
  l1RateSparsity,
  mseCountLoss,
  mseMembraneLoss,
  mseTemporalLoss,
} from '../../src/functional/index.js';
import { golden, goldenTensor } from '../helpers/golden.js';
import { maxAbsDiff, tol } from '../helpers/numeric.js';

const g = golden('losses.json');
const targets = tensor(Int32Array.from(g.targets));

/** Each golden case: the spikets loss that reproduces it (options spelled out; see docs for the mapping). */
const cases: Record<string, (x: Tensor, y: Tensor) => Tensor> = {
  ce_rate_loss: ceRateLoss(),
  ce_rate_loss_reduction_none: ceRateLoss({ reduction: 'none' }),
  ce_rate_loss_on_mem: ceRateLoss(),
  ce_count_loss: ceCountLoss(),
  ce_count_loss_reduction_none: ceCountLoss({ reduction: 'none' }),
  ce_max_membrane_loss: ceMaxMembraneLoss(),
  'mse_count_loss_c0.8_i0.2': mseCountLoss({ correctRate: 0.8, incorrectRate: 0.2 }),
  mse_count_loss_c1_i0: mseCountLoss({ correctRate: 1, incorrectRate: 0 }),
  'mse_count_loss_c0.75_i0.25': mseCountLoss({ correctRate: 0.75, incorrectRate: 0.25 }),
  mse_membrane_loss: mseMembraneLoss(),
  'mse_membrane_loss_on1_off-0.5': mseMembraneLoss({ onTarget: 1, offTarget: -0.5 }),
  ce_temporal_loss_negate: ceTemporalLoss({ inverse: 'negate' }),
  ce_temporal_loss_reciprocal: ceTemporalLoss({ inverse: 'reciprocal' }),
  mse_temporal_loss_default: mseTemporalLoss(),
  'mse_temporal_loss_on0_off-1_tol1': mseTemporalLoss({ onTarget: 0, offTarget: -1, tolerance: 1 }),
  'l1_rate_sparsity_1e-3': (x) => l1RateSparsity({ lambda: 1e-3 })(x),
  ce_rate_loss_weighted: ceRateLoss({ weight: g.losses.ce_rate_loss_weighted.weight }),
  ce_count_loss_population_code_20to10: ceCountLoss({ populationCode: true, numClasses: 10 }),
  // the golden file does not list the rates; its targets (16 and 4 spikes per group) are those of 0.8 / 0.2
  mse_count_loss_population_code_20to10: mseCountLoss({
    populationCode: true,
    numClasses: 10,
    correctRate: 0.8,
    incorrectRate: 0.2,
  }),
};

describe('losses.json: value and d(sum value)/d input of every case (snnTorch 0.9.4)', () => {
  it('covers every golden case', () => {
    const handled = new Set([...Object.keys(cases), 'ce_rate_loss_population_code_no_weight']);
    expect(Object.keys(g.losses).filter((k) => !handled.has(k))).toEqual([]);
  });

  for (const [name, loss] of Object.entries(cases)) {
    it(name, () => {
      const c = g.losses[name];
      const x = goldenTensor(g[c.input]);
      const input = new Tensor(x.values.slice(), x.shape, { requiresGrad: true });
      const out = loss(input, targets);
      // snnTorch returns shape [1] for ce_rate_loss and mse_membrane_loss; spikets returns a scalar [] (docs)
      const wantShape = c.value_shape.length === 1 && c.value_shape[0] === 1 ? [] : c.value_shape;
      expect(out.shape).toEqual(wantShape);
      const want = ([] as number[]).concat(c.value);
      expect(maxAbsDiff(out.values, want)).toBeLessThan(tol.loss);
      sum(out).backward();
      const grad = goldenTensor(c.grad_of_sum);
      expect(input.grad!.shape).toEqual(grad.shape);
      expect(maxAbsDiff(input.grad!.values, grad.values)).toBeLessThan(tol.loss);
    });
  }

  it('ce_rate_loss with a population code and no weight: upstream TypeError; spikets gives the group-sum loss', () => {
    expect(g.losses.ce_rate_loss_population_code_no_weight.error).toMatch(/TypeError/);
    const spk = goldenTensor(g.spk_rec_pop20);
    const [T, B, C] = spk.shape as [number, number, number];
    const K = 10;
    const v = spk.values;
    // hand computation in doubles: group sums per step, log-softmax, NLL, mean over batch and steps
    let expected = 0;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const z = Array.from({ length: K }, (_, k) => {
          let s = 0;
          for (let j = 0; j < C / K; j++) s += v[(t * B + b) * C + k * (C / K) + j]!;
          return s;
        });
        const m = Math.max(...z);
        const lse = m + Math.log(z.reduce((acc, e) => acc + Math.exp(e - m), 0));
        expected += (lse - z[g.targets[b]]!) / (T * B);
      }
    }
    const input = new Tensor(v.slice(), spk.shape, { requiresGrad: true });
    const out = ceRateLoss({ populationCode: true, numClasses: K })(input, targets);
    expect(out.shape).toEqual([]);
    expect(Math.abs(out.item() - expected)).toBeLessThan(tol.loss);
    out.backward();
    // the two neurons of a group receive the same gradient
    const gr = input.grad!.values;
    for (let i = 0; i < gr.length; i += 2) expect(gr[i]).toBe(gr[i + 1]);
  });
});
