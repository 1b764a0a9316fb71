import { describe, expect, it } from 'vitest';
import { Alpha } from '../../src/snn/neurons/alpha.js';
import type { ResetMechanism } from '../../src/snn/neurons/common.js';
import { Lapicque } from '../../src/snn/neurons/lapicque.js';
import type { NeuronState, SpikingNeuron } from '../../src/snn/neurons/neuron.js';
import { RLeaky } from '../../src/snn/neurons/rleaky.js';
import { RSynaptic } from '../../src/snn/neurons/rsynaptic.js';
import { Synaptic } from '../../src/snn/neurons/synaptic.js';
import { Linear } from '../../src/nn/layers.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { golden } from '../helpers/golden.js';
import { expectClose, expectExact, expectParamGrad, g, runSteps, snnTol } from './helpers.js';

const file = golden('neurons.json');

/** Golden state name -> spikets state field ('spk' is the returned spike train). */
const fieldOf: Record<string, string> = { spk: 'spk', syn: 'syn', mem: 'mem', syn_exc: 'synExc', syn_inh: 'synInh' };

interface GoldenCase {
  reset_mechanism: ResetMechanism;
  objective_value: number;
  grad_V?: number;
  [field: string]: unknown;
}

interface GoldenNeuron extends Entry {
  state_names: string[];
  cases: GoldenCase[];
}

interface Entry {
  recurrent_weight?: unknown;
  recurrent_bias?: unknown;
}

function loadLinear(layer: unknown, entry: Entry): void {
  if (!(layer instanceof Linear)) throw new Error('expected a Linear recurrence');
  layer.weight.values.set(g(entry.recurrent_weight).values);
  layer.bias!.values.set(g(entry.recurrent_bias).values);
}

const builders: Record<string, (reset: ResetMechanism, entry: Entry) => SpikingNeuron<NeuronState>> = {
  'Synaptic_alpha0.9_beta0.8': (reset) => new Synaptic({ alpha: 0.9, beta: 0.8, resetMechanism: reset }),
  'Alpha_alpha0.9_beta0.8': (reset) => new Alpha({ alpha: 0.9, beta: 0.8, resetMechanism: reset }),
  'Lapicque_beta0.5': (reset) => new Lapicque({ beta: 0.5, resetMechanism: reset }),
  'Lapicque_R5.1_C5e-3_dt1e-3': (reset) => new Lapicque({ R: 5.1, C: 5e-3, timeStep: 1e-3, resetMechanism: reset }),
  'RLeaky_beta0.9_linear4': (reset, entry) => {
    const n = new RLeaky({ beta: 0.9, linearFeatures: 4, resetMechanism: reset });
    loadLinear(n.recurrent, entry);
    return n;
  },
  'RSynaptic_alpha0.9_beta0.8_linear4': (reset, entry) => {
    const n = new RSynaptic({ alpha: 0.9, beta: 0.8, linearFeatures: 4, resetMechanism: reset });
    loadLinear(n.recurrent, entry);
    return n;
  },
  'RLeaky_beta0.9_one_to_one_V0.5': (reset) =>
    new RLeaky({ beta: 0.9, allToAll: false, V: 0.5, resetMechanism: reset }),
};

describe('neuron golden parity (neurons.json)', () => {
  it('covers every neuron in the file', () => {
    expect(Object.keys(file.neurons).sort()).toEqual(Object.keys(builders).sort());
  });

  for (const [key, entry] of Object.entries<GoldenNeuron>(file.neurons)) {
    for (const c of entry.cases) {
      it(`${key} reset=${c.reset_mechanism}: states over time, input and recurrent gradients`, () => {
        const neuron = builders[key]!(c.reset_mechanism, entry);
        const input = new Tensor(g(file.input).values.slice(), [20, 3, 4], { requiresGrad: true });
        const { spk, states, objective } = runSteps(neuron, input);
        for (const name of entry.state_names) {
          const field = fieldOf[name]!;
          const actual = field === 'spk' ? spk : states[field]!;
          if (name === 'spk') expectExact(actual.values, g(c.spk).values, 'spk');
          else expectClose(actual.values, g(c[name]).values, snnTol.membrane, 0, name);
        }
        expect(objective.item()).toBeCloseTo(c.objective_value, 2);
        objective.backward();
        expectClose(input.grad!.values, g(c.grad_input).values, snnTol.inputGrad, 0, 'grad_input');
        if (c['grad_recurrent.weight'] !== undefined) {
          const rec = (neuron as RLeaky | RSynaptic).recurrent as Linear;
          const gw = g(c['grad_recurrent.weight']).values;
          rec.weight.grad!.values.forEach((v, i) => expectParamGrad(v, gw[i]!, `grad_recurrent.weight[${i}]`));
          const gb = g(c['grad_recurrent.bias']).values;
          rec.bias!.grad!.values.forEach((v, i) => expectParamGrad(v, gb[i]!, `grad_recurrent.bias[${i}]`));
        }
        if (c.grad_V !== undefined) expectParamGrad((neuron as RLeaky).V!.grad!.item(), c.grad_V, 'grad_V');
      });
    }
  }

  it('Lapicque derives C = dt/(R ln(1/beta)) in the beta form and beta = exp(-dt/(RC)) from R and C', () => {
    const a = new Lapicque({ beta: 0.5 });
    expect(a.rc().R.item()).toBe(file.neurons['Lapicque_beta0.5'].derived_R);
    expect(a.rc().C.item()).toBeCloseTo(file.neurons['Lapicque_beta0.5'].derived_C, 6);
    const b = new Lapicque({ R: 5.1, C: 5e-3, timeStep: 1e-3 });
    expect(b.derived).toBe('beta');
    expect(b.beta.item()).toBeCloseTo(file.neurons['Lapicque_R5.1_C5e-3_dt1e-3'].derived_beta, 6);
  });
});
