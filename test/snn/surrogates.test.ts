import { describe, expect, it } from 'vitest';
import { Leaky } from '../../src/snn/neurons/leaky.js';
import {
  atan,
  custom,
  fastSigmoid,
  heaviside,
  leakySpikeOperator,
  sigmoid,
  sparseFastSigmoid,
  spikeRateEscape,
  straightThroughEstimator,
  triangular,
} from '../../src/snn/surrogate/functions.js';
import { stochasticSpikeOperator } from '../../src/snn/surrogate/stochastic.js';
import { spike, type Surrogate } from '../../src/snn/surrogate/surrogate.js';
import { SurrogateError } from '../../src/snn/errors.js';
import { Rng } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { golden } from '../helpers/golden.js';
import { expectClose, expectExact, g } from './helpers.js';

const file = golden('surrogates.json');
const x = g(file.x).values;
const shifts = ['0.0', '0.5', '1.0'] as const;

const customFastSigmoid = custom({ derivative: (u) => 1 / (25 * Math.abs(u) + 1) ** 2 });

/** Golden key -> the spikets surrogate with the same options. */
const surrogates: Record<string, Surrogate> = {
  atan_alpha2: atan({ alpha: 2 }),
  atan_alpha1: atan({ alpha: 1 }),
  fast_sigmoid_slope25: fastSigmoid({ slope: 25 }),
  fast_sigmoid_slope5: fastSigmoid({ slope: 5 }),
  sigmoid_slope25: sigmoid({ slope: 25 }),
  triangular_threshold1: triangular({ threshold: 1 }),
  straight_through_estimator: straightThroughEstimator(),
  spike_rate_escape_beta1_slope25: spikeRateEscape({ beta: 1, slope: 25 }),
  heaviside: heaviside(),
  SFS_slope25_B1: sparseFastSigmoid({ slope: 25, B: 1 }),
  'SFS_slope25_Bm0.5': sparseFastSigmoid({ slope: 25, B: -0.5 }),
  custom_surrogate_fast_sigmoid: customFastSigmoid,
};

/** Forward and d out/d x of `spike(x - shift)` through the tape, as the golden generator measured them. */
function run(s: Surrogate, shift: number, upstream?: Float32Array): { out: Float32Array; grad: Float32Array } {
  const u = new Tensor(
    x.map((v) => v - shift),
    [x.length],
    { requiresGrad: true },
  );
  const out = spike(u, s);
  out.backward(new Tensor(upstream ?? new Float32Array(x.length).fill(1), [x.length]));
  return { out: out.values, grad: u.grad!.values };
}

describe('surrogates golden parity (surrogates.json)', () => {
  it('covers every deterministic surrogate of the file', () => {
    const keys = Object.keys(file.surrogates).filter((k) => !k.startsWith('SSO'));
    expect(keys.sort()).toEqual(Object.keys(surrogates).sort());
  });

  for (const [key, s] of Object.entries(surrogates)) {
    for (const shift of shifts) {
      it(`${key} at threshold shift ${shift}: forward exact, derivative at all 41 points`, () => {
        const ref = file.surrogates[key][`threshold_${shift}`];
        const { out, grad } = run(s, Number(shift));
        expectExact(out, g(ref.forward).values, 'forward');
        // float32 evaluation upstream vs double here: a few ulps; sigmoid's float32 underflow to 0 is within atol
        expectClose(grad, g(ref.grad).values, 1e-6, 1e-5, 'grad');
      });
    }
  }

  it('stochastic spike operator: 1 above threshold, U[-0.1, 0.1) below (mean 0, variance 0.2), seeded', () => {
    const ref = file.surrogates['SSO_mean0_var0.2']['threshold_0.0'];
    const { out, grad } = run(stochasticSpikeOperator({ rng: new Rng(7) }), 0);
    expectExact(out, g(ref.forward).values, 'forward');
    const above = Array.from(grad).filter((_, i) => x[i]! > 0);
    expectExact(above, g(ref.grad_where_x_gt_0).values, 'grad where x > 0');
    const below = Array.from(grad).filter((_, i) => !(x[i]! > 0));
    const [lo, hi] = ref.grad_below_range as [number, number];
    expect(lo).toBeGreaterThanOrEqual(-0.1);
    expect(hi).toBeLessThan(0.1);
    for (const v of below) expect(v >= -0.1 && v < 0.1).toBe(true);
    expect(new Set(below).size).toBe(below.length);
    // the same seed reproduces the draws; another seed does not
    expectExact(run(stochasticSpikeOperator({ rng: new Rng(7) }), 0).grad, grad, 'reseeded');
    expect(run(stochasticSpikeOperator({ rng: new Rng(8) }), 0).grad).not.toEqual(grad);
    // mean and variance shift and scale the noise
    const shifted = run(stochasticSpikeOperator({ rng: new Rng(7), mean: 1, variance: 2 }), 0).grad;
    for (let i = 0; i < x.length; i++) {
      if (!(x[i]! > 0)) expect(shifted[i]).toBeCloseTo((grad[i]! / 0.2 + 1) * 2, 5);
    }
  });

  it('leaky spike operator: snnTorch raises (LSO_status); spikets implements the documented gradient', () => {
    expect(file.LSO_status).toMatch(/TypeError/);
    const { out, grad } = run(leakySpikeOperator(), 0);
    for (let i = 0; i < x.length; i++) {
      expect(out[i]).toBe(x[i]! > 0 ? 1 : 0);
      expect(grad[i]).toBeCloseTo(x[i]! > 0 ? 1 : 0.1, 7);
    }
    expect(run(leakySpikeOperator({ slope: 0.3 }), 0).grad[0]).toBeCloseTo(0.3, 7);
  });

  it('surrogate_disable: Leaky spikes carry no gradient (threshold 0)', () => {
    const ref = file.surrogate_disable_leaky_threshold0;
    const input = new Tensor(x.slice(), [x.length], { requiresGrad: true });
    const lif = new Leaky({ beta: 0.5, threshold: 0, surrogateDisable: true });
    const { spk, state } = lif.step(input, lif.initState());
    expectExact(spk.values, g(ref.forward).values, 'forward');
    expect(spk.requiresGrad).toBe(ref.spk_requires_grad);
    expect(state.mem.requiresGrad).toBe(true);
  });
});

/** Points of [-3, 3] at least 1e-3 away from each kink. */
function grid(kinks: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i <= 240; i++) {
    const u = -3 + i * 0.025 + 0.0037;
    if (kinks.every((k) => Math.abs(u - k) > 1e-3)) out.push(u);
  }
  return out;
}

describe('surrogate gradchecks', () => {
  const checked: [string, Surrogate, number[]][] = [
    ['atan', atan(), []],
    ['atan alpha 0.7', atan({ alpha: 0.7 }), []],
    ['fastSigmoid', fastSigmoid(), [0]],
    ['fastSigmoid slope 3', fastSigmoid({ slope: 3 }), [0]],
    ['sigmoid', sigmoid(), []],
    ['sigmoid slope 4', sigmoid({ slope: 4 }), []],
    ['sparseFastSigmoid', sparseFastSigmoid(), [0, 1]],
    ['sparseFastSigmoid B -0.5', sparseFastSigmoid({ B: -0.5 }), [0, -0.5]],
    ['triangular', triangular(), [0]],
    ['triangular thr 0.4', triangular({ threshold: 0.4 }), [0]],
    ['straightThroughEstimator', straightThroughEstimator(), []],
    ['heaviside', heaviside(), [0]],
    ['spikeRateEscape', spikeRateEscape(), [1]],
    ['spikeRateEscape beta 2 slope 3', spikeRateEscape({ beta: 2, slope: 3 }), [1]],
    ['leakySpikeOperator', leakySpikeOperator(), [0]],
    ['custom', custom({ derivative: (u) => Math.cos(u), antiderivative: Math.sin }), []],
  ];

  for (const [name, s, kinks] of checked) {
    it(`${name}: derivative = central difference of its antiderivative away from kinks`, () => {
      const F = s.antiderivative!;
      const h = 1e-5;
      for (const u of grid(kinks)) {
        const numeric = (F(u + h) - F(u - h)) / (2 * h);
        const d = s.derivative(u);
        if (!(Math.abs(numeric - d) <= 1e-6 + 1e-5 * Math.abs(d))) {
          throw new Error(`${name}: at u=${u}: derivative ${d}, finite difference ${numeric}`);
        }
      }
    });

    it(`${name}: spike() backward is upstream * derivative(u) (one tape primitive)`, () => {
      const rng = new Rng(3);
      const upstream = new Float32Array(x.length).map(() => rng.uniformRange(-2, 2));
      const { out, grad } = run(s, 0.25, upstream);
      for (let i = 0; i < x.length; i++) {
        const u = Math.fround(x[i]! - 0.25);
        expect(out[i]).toBe(u > 0 ? 1 : 0);
        expect(grad[i]).toBe(Math.fround(upstream[i]! * s.derivative(u)));
      }
    });
  }

  it('sigmoid stays finite where snnTorch overflows (u < -3.55 gives NaN upstream)', () => {
    const d = sigmoid().derivative(-5);
    expect(Number.isFinite(d)).toBe(true);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeCloseTo(25 * Math.exp(-125), 60);
  });

  it('custom forward replaces the Heaviside step (and defaults to it)', () => {
    const s = custom({ forward: (u) => (u > 0.5 ? 1 : 0), derivative: (_u, out) => 1 + out });
    const { out, grad } = run(s, 0);
    for (let i = 0; i < x.length; i++) {
      expect(out[i]).toBe(x[i]! > 0.5 ? 1 : 0);
      expect(grad[i]).toBe(x[i]! > 0.5 ? 2 : 1);
    }
    expect(customFastSigmoid.forward(0)).toBe(0);
  });

  it('rejects bad options with a SurrogateError naming the option', () => {
    expect(() => fastSigmoid({ slope: -1 })).toThrow(SurrogateError);
    expect(() => atan({ alpha: Number.NaN })).toThrow(/alpha/);
    expect(() => stochasticSpikeOperator({} as never)).toThrow(/rng/);
    expect(() => custom({} as never)).toThrow(/derivative/);
  });

  it('atan and fastSigmoid carry the fused-kernel descriptor, the others none', () => {
    expect(atan({ alpha: 3 }).fused).toEqual({ kind: 'atan', alpha: 3 });
    expect(fastSigmoid({ slope: 5 }).fused).toEqual({ kind: 'fastSigmoid', slope: 5 });
    expect(sigmoid().fused).toBeUndefined();
    expect(triangular().fused).toBeUndefined();
  });
});
