import { ceRateLoss } from '../functional/index.js';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { Sequential, resetState } from '../nn/sequential.js';
import { Adam } from '../optim/adam.js';
import { Leaky } from '../snn/neurons/leaky.js';
import { atan, fastSigmoid } from '../snn/surrogate/functions.js';
import { noGrad } from '../tensor/autograd.js';
import { crossEntropy } from '../tensor/ops/loss.js';
import { argmax, sum } from '../tensor/ops/reduce.js';
import { index, stack } from '../tensor/ops/shape.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { FeedForwardPlan, type LifSpec } from '../train/plan/feedforward.js';
import type { ExperimentConfig } from './config.js';
import type { ModelKind } from './results.js';

/** One network of the comparison with its optimizer: what the runner trains and evaluates. */
export interface ComparisonModel {
  readonly kind: ModelKind;
  readonly net: Sequential;
  readonly optimizer: Adam;
  /** One optimizer step on a batch; returns the loss. */
  trainStep(x: Tensor, y: Tensor): number;
  /** Predicted classes and the mean loss of a batch, without gradients. */
  evaluate(x: Tensor, y: Tensor): { predictions: Int32Array; loss: number };
}

/**
 * The study's layers, built in the same order for both models from one seeded generator, so the SNN and the CNN
 * start from identical weights: Conv2d(1,12,5) - MaxPool2d(2) - act - Conv2d(12,64,5) - MaxPool2d(2) - act -
 * Flatten - Linear(1024,10) [- act], act = Leaky (SNN) or ReLU (CNN).
 */
function seedLayers(rng: Rng, act: () => Module, outputAct: boolean): Module[] {
  const layers = [
    new Conv2d(1, 12, 5, { rng }),
    new MaxPool2d(2),
    act(),
    new Conv2d(12, 64, 5, { rng }),
    new MaxPool2d(2),
    act(),
    new Flatten(),
    new Linear(1024, 10, { rng }),
  ];
  return outputAct ? [...layers, act()] : layers;
}

export function buildSnnNet(config: Pick<ExperimentConfig, 'beta' | 'surrogate' | 'seed'>): Sequential {
  const spikeGrad = config.surrogate.kind === 'atan' ? atan({ alpha: config.surrogate.slope }) : fastSigmoid({ slope: config.surrogate.slope });
  return new Sequential(...seedLayers(new Rng(config.seed), () => new Leaky({ beta: config.beta, spikeGrad }), true));
}

export function buildCnnNet(config: Pick<ExperimentConfig, 'seed'>): Sequential {
  return new Sequential(...seedLayers(new Rng(config.seed), () => new ReLU(), false));
}

/** The fused-kernel description of a Leaky layer, or null when it uses an option the fused kernel does not have. */
export function leakyLifSpec(m: Module): LifSpec | null {
  if (!(m instanceof Leaky)) return null;
  const fused = m.spikeGrad.fused;
  const scalar = (t: Tensor): boolean => t.size === 1 && !t.requiresGrad;
  if (!fused || !scalar(m.beta) || !scalar(m.threshold) || !scalar(m.gradedSpikesFactor) || m.gradedSpikesFactor.item() !== 1) return null;
  if (!m.resetDelay || m.inhibition || m.stateQuant || m.surrogateDisable) return null;
  const beta = Math.min(Math.max(m.beta.item(), 0), 1);
  return { beta, threshold: m.threshold.item(), reset: m.resetMechanism, surrogate: fused };
}

/**
 * Output spikes `[T, B, C]` of a spiking Sequential over `numSteps` steps of a static input `[B, ...]` or a
 * time-varying one `[T, B, ...]`: through the fused layer-by-layer plan when the network allows it, else by
 * stepping the network (identical numbers; tests prove it).
 */
export class SnnRunner {
  private readonly plan: FeedForwardPlan | null;
  private readonly inputRank: number;

  constructor(
    readonly net: Sequential,
    inputShape: readonly number[],
  ) {
    this.plan = FeedForwardPlan.compile(net.layers, inputShape, leakyLifSpec);
    this.inputRank = inputShape.length;
  }

  get fused(): boolean {
    return this.plan !== null;
  }

  /** Output spikes `[T, B, C]`, differentiable w.r.t. the network's parameters. */
  run(x: Tensor, numSteps: number): Tensor {
    if (this.plan) return this.plan.run(x, numSteps).spk;
    return stack(this.stepAll(x, numSteps, () => undefined));
  }

  /** Spikes per spiking layer and step summed over the batch (`spikeCounts[layer][t]`), and neurons per sample. */
  activity(x: Tensor, numSteps: number): { spikeCounts: Float64Array[]; neurons: number[] } {
    if (this.plan) {
      const { spikeCounts, neurons } = this.plan.run(x, numSteps);
      return { spikeCounts, neurons };
    }
    const spikeCounts: Float64Array[] = [];
    const neurons: number[] = [];
    this.stepAll(x, numSteps, (k, t, spk) => {
      spikeCounts[k] ??= new Float64Array(numSteps);
      neurons[k] = spk.size / spk.shape[0]!;
      spikeCounts[k][t] = spk.values.reduce((p, q) => p + q, 0);
    });
    return { spikeCounts, neurons };
  }

  /** Steps the network `numSteps` times from a reset state, reporting each spiking layer's output. */
  private stepAll(x: Tensor, numSteps: number, onSpikes: (layer: number, t: number, spk: Tensor) => void): Tensor[] {
    resetState(this.net);
    const staticInput = x.ndim === this.inputRank + 1;
    const outputs: Tensor[] = [];
    for (let t = 0; t < numSteps; t++) {
      let h = staticInput ? x : index(x, t);
      let k = 0;
      for (const layer of this.net.layers) {
        h = layer.forward(h, this.net.state);
        if (layer instanceof Leaky) onSpikes(k++, t, h);
      }
      outputs.push(h);
    }
    resetState(this.net);
    return outputs;
  }
}

export function createSnnModel(config: ExperimentConfig, inputShape: readonly number[] = [1, 28, 28]): ComparisonModel {
  const net = buildSnnNet(config);
  const runner = new SnnRunner(net, inputShape);
  const optimizer = new Adam(net.parameters(), { lr: config.lr, betas: config.betas });
  const loss = ceRateLoss();
  return {
    kind: 'snn',
    net,
    optimizer,
    trainStep(x, y) {
      const l = loss(runner.run(x, config.numSteps), y);
      optimizer.zeroGrad();
      l.backward();
      optimizer.step();
      return l.item();
    },
    evaluate(x, y) {
      return noGrad(() => {
        const spk = runner.run(x, config.numSteps);
        return { predictions: argmax(sum(spk, 0), 1).ints, loss: loss(spk, y).item() };
      });
    },
  };
}

export function createCnnModel(config: ExperimentConfig): ComparisonModel {
  const net = buildCnnNet(config);
  const optimizer = new Adam(net.parameters(), { lr: config.lr, betas: config.betas });
  return {
    kind: 'cnn',
    net,
    optimizer,
    trainStep(x, y) {
      const l = crossEntropy(net.forward(x), y);
      optimizer.zeroGrad();
      l.backward();
      optimizer.step();
      return l.item();
    },
    evaluate(x, y) {
      return noGrad(() => {
        const logits = net.forward(x);
        return { predictions: argmax(logits, 1).ints, loss: crossEntropy(logits, y).item() };
      });
    },
  };
}
