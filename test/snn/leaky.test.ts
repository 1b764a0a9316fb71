import { describe, expect, it } from 'vitest';
import { Sequential, resetState } from '../../src/nn/sequential.js';
import { Leaky, type LeakyOptions } from '../../src/snn/neurons/leaky.js';
import { fastSigmoid } from '../../src/snn/surrogate/functions.js';
import { add } from '../../src/tensor/ops/elementwise.js';
import { sum } from '../../src/tensor/ops/reduce.js';
import { index, stack } from '../../src/tensor/ops/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { golden } from '../helpers/golden.js';
import { expectClose, expectExact, expectParamGrad, g, runSteps, snnTol } from './helpers.js';

const file = golden('leaky.json');

interface LeakyCase {
  name?: string;
  beta: number;
  threshold: number;
  reset_mechanism: 'subtract' | 'zero' | 'none';
  kwargs?: { graded_spikes_factor?: number; reset_delay?: boolean; spike_grad?: string };
  spk: unknown;
  mem: unknown;
  objective_value: number;
  grad_beta: number;
  grad_threshold: number;
  grad_input: unknown;
}

function optionsOf(c: LeakyCase, learn: boolean): LeakyOptions {
  const kw = c.kwargs ?? {};
  if (kw.spike_grad !== undefined) expect(kw.spike_grad).toBe('surrogate.fast_sigmoid(slope=25)');
  return {
    beta: c.beta,
    threshold: c.threshold,
    resetMechanism: c.reset_mechanism,
    learnBeta: learn,
    learnThreshold: learn,
    ...(kw.graded_spikes_factor !== undefined ? { gradedSpikesFactor: kw.graded_spikes_factor } : {}),
    ...(kw.reset_delay !== undefined ? { resetDelay: kw.reset_delay } : {}),
    ...(kw.spike_grad !== undefined ? { spikeGrad: fastSigmoid({ slope: 25 }) } : {}),
  };
}

const cases: LeakyCase[] = [...file.cases, ...file.extra_cases];
const label = (c: LeakyCase): string =>
  `${c.name ?? 'base'} beta=${c.beta} thr=${c.threshold} reset=${c.reset_mechanism}`;

describe('Leaky golden parity (leaky.json)', () => {
  it('has the 12 base cases and 5 extra cases', () => {
    expect(file.cases).toHaveLength(12);
    expect(file.extra_cases).toHaveLength(5);
  });

  for (const c of cases) {
    it(`step with explicit state: ${label(c)}`, () => {
      const input = new Tensor(g(file.input).values.slice(), [20, 3, 4], { requiresGrad: true });
      const lif = new Leaky(optionsOf(c, true));
      const { spk, states, objective } = runSteps(lif, input);
      expectExact(spk.values, g(c.spk).values, 'spk');
      expectClose(states.mem!.values, g(c.mem).values, snnTol.membrane, 0, 'mem');
      expect(objective.item()).toBeCloseTo(c.objective_value, 3);
      objective.backward();
      expectClose(input.grad!.values, g(c.grad_input).values, snnTol.inputGrad, 0, 'grad_input');
      expectParamGrad(lif.beta.grad!.item(), c.grad_beta, 'grad_beta');
      expectParamGrad(lif.threshold.grad!.item(), c.grad_threshold, 'grad_threshold');
    });

    it(`forwardSequence (auto engine) matches: ${label(c)}`, () => {
      const input = new Tensor(g(file.input).values.slice(), [20, 3, 4], { requiresGrad: true });
      const lif = new Leaky(optionsOf(c, false));
      const out = lif.forwardSequence(input);
      expectExact(out.spk.values, g(c.spk).values, 'spk');
      expectClose(out.mem.values, g(c.mem).values, snnTol.membrane, 0, 'mem');
      add(sum(out.mem), sum(out.spk)).backward();
      expectClose(input.grad!.values, g(c.grad_input).values, snnTol.inputGrad, 0, 'grad_input');
    });
  }

  it('the fused engine is chosen for the 12 base cases and the fast-sigmoid case, not for the others', () => {
    for (const c of cases) {
      const fusable = c.name === undefined || c.name === 'fast_sigmoid_slope25';
      expect(new Leaky(optionsOf(c, false)).fusedConfig() !== null, label(c)).toBe(fusable);
      expect(new Leaky(optionsOf(c, true)).fusedConfig()).toBeNull();
    }
  });

  it('edge case: mem exactly at threshold does not spike (H is strict)', () => {
    const e = file.edge_case;
    for (const reset of ['subtract', 'zero'] as const) {
      const lif = new Leaky({ beta: e.beta, threshold: e.threshold, resetMechanism: reset });
      const { spk, states } = runSteps(lif, g(e.input));
      expectExact(spk.values, g(e[reset].spk).values, `${reset} spk`);
      expectExact(states.mem!.values, g(e[reset].mem).values, `${reset} mem`);
      const fused = lif.forwardSequence(g(e.input), undefined, { engine: 'fused' });
      expectExact(fused.spk.values, g(e[reset].spk).values, `${reset} fused spk`);
      expectExact(fused.mem.values, g(e[reset].mem).values, `${reset} fused mem`);
    }
  });

  it('hidden-state mode (state in the network store) matches explicit state', () => {
    expect(file.init_hidden_output_true_matches_explicit_state).toBe(true);
    const c = file.cases[6] as LeakyCase;
    const lif = new Leaky(optionsOf(c, false));
    const net = new Sequential(lif);
    const input = g(file.input);
    const spks: Tensor[] = [];
    const mems: Tensor[] = [];
    for (let t = 0; t < 20; t++) {
      spks.push(net.forward(index(input, t)));
      mems.push(lif.stateIn(net.state)!.mem);
    }
    expectExact(stack(spks).values, g(c.spk).values, 'spk');
    expectClose(stack(mems).values, g(c.mem).values, snnTol.membrane, 0, 'mem');
    resetState(net);
    expect(lif.stateIn(net.state)).toBeUndefined();
  });
});
