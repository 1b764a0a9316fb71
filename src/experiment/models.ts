import { ceRateLoss } from '../functional/index.js';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU } from '../nn/layers.js';
import { Sequential } from '../nn/sequential.js';
import type { Module } from '../nn/module.js';
import { Adam } from '../optim/adam.js';
import { Leaky } from '../snn/neurons/leaky.js';
import { atan, fastSigmoid } from '../snn/surrogate/functions.js';
import { noGrad } from '../tensor/autograd.js';
import { crossEntropy } from '../tensor/ops/loss.js';
import { argmax, sum } from '../tensor/ops/reduce.js';
import { TorchGenerator } from '../tensor/torch-generator.js';
import type { Tensor } from '../tensor/tensor.js';
import { CnnPlan } from '../train/plan/cnn.js';
import { SnnRunner } from '../train/snn-runner.js';
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
  /** Frees engine memory held for this model (the fused plan's buffers). */
  dispose(): void;
}

/**
 * The study's layers, built in the same order for both models from one seeded generator, so the SNN and the CNN
 * start from identical weights: Conv2d(1,12,5) - MaxPool2d(2) - act - Conv2d(12,64,5) - MaxPool2d(2) - act -
 * Flatten - Linear(1024,10) [- act], act = Leaky (SNN) or ReLU (CNN). The generator is PyTorch's, so seed s gives
 * the weights of the study's PyTorch networks after `torch.manual_seed(s)` (for s = 0, the reference run's).
 */
function seedLayers(rng: TorchGenerator, act: () => Module, outputAct: boolean): Module[] {
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
  const spikeGrad =
    config.surrogate.kind === 'atan'
      ? atan({ alpha: config.surrogate.slope })
      : fastSigmoid({ slope: config.surrogate.slope });
  return new Sequential(
    ...seedLayers(new TorchGenerator(config.seed), () => new Leaky({ beta: config.beta, spikeGrad }), true),
  );
}

export function buildCnnNet(config: Pick<ExperimentConfig, 'seed'>): Sequential {
  return new Sequential(...seedLayers(new TorchGenerator(config.seed), () => new ReLU(), false));
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
      const l = loss(runner.run(x, config.numSteps).spk, y);
      optimizer.zeroGrad();
      l.backward();
      optimizer.step();
      return l.item();
    },
    evaluate(x, y) {
      return noGrad(() => {
        const { spk } = runner.run(x, config.numSteps);
        return { predictions: argmax(sum(spk, 0), 1).ints, loss: loss(spk, y).item() };
      });
    },
    dispose: () => runner.dispose(),
  };
}

export function createCnnModel(config: ExperimentConfig): ComparisonModel {
  const net = buildCnnNet(config);
  const optimizer = new Adam(net.parameters(), { lr: config.lr, betas: config.betas });
  // The fused plan (one tape entry, buffers reused in engine memory) for the per-sample shape last seen.
  let plan: { key: string; plan: CnnPlan | null } | null = null;
  const forward = (x: Tensor): Tensor => {
    const key = x.shape.slice(1).join('x');
    if (plan?.key !== key) {
      plan?.plan?.release();
      plan = { key, plan: CnnPlan.compile(net.layers, x.shape.slice(1)) };
    }
    return plan.plan && !x.requiresGrad ? plan.plan.run(x) : net.forward(x);
  };
  return {
    kind: 'cnn',
    net,
    optimizer,
    trainStep(x, y) {
      const l = crossEntropy(forward(x), y);
      optimizer.zeroGrad();
      l.backward();
      optimizer.step();
      return l.item();
    },
    evaluate(x, y) {
      return noGrad(() => {
        const logits = forward(x);
        return { predictions: argmax(logits, 1).ints, loss: crossEntropy(logits, y).item() };
      });
    },
    dispose: () => plan?.plan?.release(),
  };
}
