import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/random.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import {
  SpikegenError,
  delta,
  fromOneHot,
  latency,
  latencyCode,
  rate,
  rateConv,
  rateInterpolate,
  targetRateCode,
  targetsConvert,
  targetsRate,
  toOneHot,
  type LatencyOptions,
} from '../../src/snn/spikegen/index.js';
import { golden, goldenTensor } from '../helpers/golden.js';

/** A parsed golden JSON value (untyped by design). */
type Json = ReturnType<typeof golden>;

const g: Json = golden('spikegen.json');

/** snnTorch keyword arguments -> spikets options. */
function camel(kwargs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) out[k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = v;
  return out;
}

const ints = (xs: number[]): Tensor => tensor(Int32Array.from(xs));

describe('latency: every golden option set (snnTorch 0.9.4)', () => {
  const inputs = { data_1d: goldenTensor(g.latency_input), data_2d: goldenTensor(g.latency_input_2d) };
  for (const [name, c] of Object.entries<Json>(g.latency)) {
    it(name, () => {
      const opts = camel(c.kwargs) as LatencyOptions;
      for (const key of ['data_1d', 'data_2d'] as const) {
        const expected = c[key];
        if ('error' in expected) {
          expect(() => latency(inputs[key], opts)).toThrow(SpikegenError);
          expect(() => latency(inputs[key], opts)).toThrow(/numSteps/);
        } else {
          const out = latency(inputs[key], opts);
          expect(out.shape).toEqual(goldenTensor(expected.output).shape);
          expect(Array.from(out.values)).toEqual(Array.from(goldenTensor(expected.output).values));
        }
      }
      if (c.latency_code_spike_time) {
        const code = latencyCode(inputs.data_1d, opts);
        const want: number[] = c.latency_code_spike_time;
        code.spikeTime.values.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
        expect(Array.from(code.belowThreshold.values)).toEqual(
          c.latency_code_below_threshold_mask.map((m: boolean) => (m ? 1 : 0)),
        );
      }
    });
  }

  it('rejects data outside [0, 1], a missing numSteps and a bad threshold with named fields', () => {
    const err = (f: () => unknown): SpikegenError => {
      try {
        f();
      } catch (e) {
        return e as SpikegenError;
      }
      throw new Error('expected a throw');
    };
    expect(err(() => latency(tensor([0.5, 1.5]), { numSteps: 5 })).field).toBe('data');
    expect(err(() => latency(tensor([0.5]), {})).field).toBe('numSteps');
    expect(err(() => latency(tensor([0.5]), { numSteps: 5, threshold: 1 })).field).toBe('threshold');
    expect(err(() => latency(tensor([0.5]), { numSteps: 5, firstSpikeTime: 5 })).field).toBe('firstSpikeTime');
  });

  it('bypass with numSteps drops spikes beyond the window instead of raising', () => {
    const out = latency(tensor([0, 1]), { numSteps: 4, tau: 5, bypass: true });
    expect(out.shape).toEqual([4, 2]);
    expect(Array.from(out.values)).toEqual([0, 1, 0, 0, 0, 0, 0, 0]);
  });
});

describe('delta', () => {
  const data = goldenTensor(g.delta_input);
  for (const [name, c] of Object.entries<Json>(g.delta)) {
    it(name, () => {
      const threshold = Number(/threshold([0-9.]+)/.exec(name)![1]);
      const out = delta(data, { threshold, padding: name.includes('padding'), offSpike: name.includes('off_spike') });
      expect(out.shape).toEqual(c.shape);
      expect(Array.from(out.values)).toEqual(Array.from(goldenTensor(c.output).values));
    });
  }

  it('hand-computed examples (snnTorch docstring example a is wrong: 3 - 2.9 < 1)', () => {
    const a = tensor([1, 2, 4, 4, 5]);
    expect(Array.from(delta(a, { threshold: 1 }).values)).toEqual([1, 1, 1, 0, 1]);
    expect(Array.from(delta(a, { threshold: 1, padding: true }).values)).toEqual([0, 1, 1, 0, 1]);
    const b = tensor([1, 2, 0, 2, 2.9]);
    expect(Array.from(delta(b, { threshold: 1, offSpike: true }).values)).toEqual([1, 1, -1, 1, 0]);
  });
});

describe('rate coding', () => {
  it('rateConv is deterministic at probabilities 0 and 1 (clamped)', () => {
    const c = g.rate_conv_deterministic;
    const out = rateConv(tensor(c.input), new Rng(1));
    expect(Array.from(out.values)).toEqual(c.output);
  });

  // each element is an independent Bernoulli over 20000 steps: compare with the exact probability and with
  // snnTorch's measured rate within 5 standard errors (p(1-p)/n for ours, twice that for the difference)
  for (const [name, c] of Object.entries<Json>(g.rate)) {
    if (!c.mean_rate) continue;
    it(`mean rates ${name} match the expected probabilities and snnTorch's measured rates`, () => {
      const out = rate(goldenTensor(g.rate_input), { numSteps: c.num_steps, ...camel(c.kwargs) }, new Rng(2024));
      expect(out.shape).toEqual(c.shape);
      const [T, n] = c.shape as [number, number];
      const v = out.values;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += v[t * n + i]!;
        const mean = s / T;
        const p = Math.fround(c.expected[i]);
        const se = Math.sqrt((p * (1 - p)) / T);
        if (p === 0 || p === 1) expect(mean).toBe(p);
        expect(Math.abs(mean - p)).toBeLessThanOrEqual(5 * se + 1e-12);
        expect(Math.abs(mean - c.mean_rate[i])).toBeLessThanOrEqual(5 * Math.SQRT2 * se + 1e-12);
      }
    });
  }

  it('firstSpikeTime zeroes the leading steps; the same seed gives the same spikes', () => {
    const c = g.rate.first_spike_time5_ns20;
    const x = goldenTensor(g.rate_input);
    const out = rate(x, { numSteps: 20, firstSpikeTime: 5 }, new Rng(9));
    expect(out.shape).toEqual(c.shape);
    expect(out.values.subarray(0, 5 * 7).every((e) => e === 0)).toBe(c.first5_all_zero);
    expect(out.values.subarray(5 * 7).some((e) => e === 1)).toBe(true);
    expect(Array.from(rate(x, { numSteps: 20, firstSpikeTime: 5 }, new Rng(9)).values)).toEqual(Array.from(out.values));
    expect(Array.from(rate(x, { numSteps: 20, firstSpikeTime: 5 }, new Rng(10)).values)).not.toEqual(
      Array.from(out.values),
    );
    // resuming a generator from its saved state reproduces the stream
    const r = new Rng(3);
    const state = r.getState();
    const a = rate(x, { numSteps: 4 }, r);
    r.setState(state);
    expect(Array.from(rate(x, { numSteps: 4 }, r).values)).toEqual(Array.from(a.values));
  });

  it('time-varying input prepends firstSpikeTime zero steps and rejects numSteps', () => {
    const x = tensor([
      [1, 0],
      [1, 1],
    ]);
    const out = rate(x, { timeVarInput: true, firstSpikeTime: 2 }, new Rng(0));
    expect(out.shape).toEqual([4, 2]);
    expect(Array.from(out.values)).toEqual([0, 0, 0, 0, 1, 0, 1, 1]);
    expect(() => rate(x, { timeVarInput: true, numSteps: 2 }, new Rng(0))).toThrow(/numSteps/);
    expect(() => rate(x, {}, new Rng(0))).toThrow(/numSteps/);
    expect(() => rate(x, { numSteps: 3, firstSpikeTime: 3 }, new Rng(0))).toThrow(/firstSpikeTime/);
  });
});

describe('targets', () => {
  const y = ints(g.targets);

  it('toOneHot / fromOneHot round-trip (fromOneHot returns classes, not row numbers)', () => {
    const oh = toOneHot(y, 10);
    expect(oh.toArray()).toEqual(g.to_one_hot);
    expect(Array.from(fromOneHot(oh).ints)).toEqual(g.targets);
    expect(fromOneHot(tensor([0, 0, 1])).item()).toBe(2);
    expect(() => toOneHot(ints([10]), 10)).toThrow(/targets\[0\]/);
    expect(() => fromOneHot(tensor([[0, 0]]))).toThrow(SpikegenError);
  });

  const tc = g.targets_convert;
  const cases: Record<string, Parameters<typeof targetsConvert>[2]> = {
    default: {},
    on8_off2: { onTarget: 8, offTarget: 2 },
    'on1_off-1': { onTarget: 1, offTarget: -1 },
    'on0_off-1': { onTarget: 0, offTarget: -1 },
    first_spike_time3_ns6: { firstSpikeTime: 3, numSteps: 6 },
    latency_ns5_normalize: { code: 'latency', numSteps: 5, normalize: true },
  };
  for (const [name, opts] of Object.entries(cases)) {
    it(`targetsConvert ${name}`, () => {
      const out = targetsConvert(y, 10, opts);
      expect(out.shape).toEqual(tc[name].shape);
      expect(Array.from(out.values)).toEqual(Array.from(goldenTensor(tc[name].output).values));
    });
  }

  it('targetRateCode regular trains', () => {
    const params: Record<string, [number, number]> = {
      'ns10_rate0.5': [0.5, 0],
      'ns10_rate0.3': [0.3, 0],
      'ns10_rate0.8': [0.8, 0],
      'ns10_rate0.25_fst2': [0.25, 2],
    };
    for (const [name, [r, fst]] of Object.entries(params)) {
      const { spikes, times } = targetRateCode(10, { rate: r, firstSpikeTime: fst });
      expect(Array.from(spikes.values)).toEqual(g.target_rate_code[name][0]);
      expect(Array.from(times)).toEqual(g.target_rate_code[name][1]);
    }
    expect(Array.from(targetRateCode(5, { rate: 0 }).spikes.values)).toEqual([0, 0, 0, 0, 0]);
    expect(() => targetRateCode(5, { rate: 0.5, firingPattern: 'poisson' })).toThrow(/rng/);
  });

  it('targetsRate with non-default rates: per-class trains (snnTorch 0.9.4 mis-broadcasts; see docs)', () => {
    // upstream gives a [10,4,10,4,10] tensor for correct 0.8 / incorrect 0.2, and raises for ns 6
    expect(tc['rate_correct0.8_incorrect0.2_ns10_regular'].shape).toEqual([10, 4, 10, 4, 10]);
    expect(tc['rate_correct0.5_incorrect0_ns6_regular']).toHaveProperty('error');
    const out = targetsRate(y, 10, { numSteps: 10, correctRate: 0.8, incorrectRate: 0.2 });
    expect(out.shape).toEqual([10, 4, 10]);
    const correct = g.target_rate_code['ns10_rate0.8'][0];
    const incorrect = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]; // arange(0, 10, 5)
    const v = out.values;
    for (let t = 0; t < 10; t++) {
      for (let b = 0; b < 4; b++) {
        for (let c = 0; c < 10; c++) {
          expect(v[(t * 4 + b) * 10 + c]).toBe(c === g.targets[b] ? correct[t] : incorrect[t]);
        }
      }
    }
    const six = targetsRate(y, 10, { numSteps: 6, correctRate: 0.5 });
    expect(Array.from({ length: 6 }, (_, t) => six.values[t * 40 + 3])).toEqual([1, 0, 1, 0, 1, 0]);
    expect(Array.from({ length: 6 }, (_, t) => six.values[t * 40 + 4])).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => targetsRate(y, 10, { correctRate: 0.5 })).toThrow(/numSteps/);
    expect(() => targetsRate(y, 10, { numSteps: 5, correctRate: 0.2, incorrectRate: 0.5 })).toThrow(/incorrectRate/);
  });

  it('rateInterpolate and the interpolated targetsRate follow the snnTorch docstring', () => {
    const ramp = rateInterpolate(Int32Array.from([0, 4]), 5, { onTarget: 1.25, offTarget: 0.25 });
    [1.25, 0.25, 0.5833, 0.9167, 1.25].forEach((e, i) => expect(ramp[i]).toBeCloseTo(e, 4));
    const out = targetsRate(ints([4]), 5, {
      numSteps: 5,
      correctRate: 0.25,
      onTarget: 1.2,
      offTarget: 0.5,
      interpolate: true,
    });
    [1.2, 0.5, 0.7333, 0.9667, 1.2].forEach((e, t) => expect(out.values[t * 5 + 4]).toBeCloseTo(e, 4));
    // incorrect rate 0: no spikes, off everywhere
    expect(out.values[0]).toBeCloseTo(0.5, 6);
  });

  it('poisson and uniform patterns draw from the given Rng reproducibly', () => {
    const a = targetsRate(
      y,
      10,
      { numSteps: 50, correctRate: 0.6, incorrectRate: 0.1, firingPattern: 'poisson' },
      new Rng(5),
    );
    const b = targetsRate(
      y,
      10,
      { numSteps: 50, correctRate: 0.6, incorrectRate: 0.1, firingPattern: 'poisson' },
      new Rng(5),
    );
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    const u = targetRateCode(20, { rate: 0.25, firingPattern: 'uniform' }, new Rng(1));
    expect(u.times.length).toBe(5);
    expect(Array.from(u.times).every((t) => t >= 0 && t < 20)).toBe(true);
  });
});
