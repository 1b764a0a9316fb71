import type { Sequential } from '../nn/sequential.js';
import { resetState } from '../nn/sequential.js';
import type { Optimizer } from '../optim/optimizer.js';
import { detachState, SpikingNeuron, type NeuronState } from '../snn/neurons/neuron.js';
import { noGrad } from '../tensor/autograd.js';
import { argmax, sum } from '../tensor/ops/reduce.js';
import { index, stack } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { SnnRunner } from './snn-runner.js';

/** A loss on a time-first record `[T, B, C]` and int32 targets `[B]` (e.g. `functional.ceRateLoss()`). */
export type RecordLoss = (record: Tensor, targets: Tensor) => Tensor;

export interface BpttOptions {
  numSteps: number;
  loss: RecordLoss;
  optimizer: Optimizer;
  /** 'spk' (default): the loss reads the output spikes; 'mem': the output membrane (mseMembraneLoss, ceMaxMembraneLoss). */
  lossOn?: 'spk' | 'mem';
  /** x is `[T, B, ...]` with one input per step (spikegen encodings); otherwise the same `x` at every step. */
  timeVarying?: boolean;
}

const runners = new WeakMap<Sequential, SnnRunner>();

/** The network's runner (fused plan when possible), cached per network and input shape. */
function runnerFor(net: Sequential, x: Tensor, timeVarying: boolean): SnnRunner {
  const inputShape = x.shape.slice(timeVarying ? 2 : 1);
  let runner = runners.get(net);
  if (!runner || runner.inputShape.join() !== inputShape.join()) {
    runner = new SnnRunner(net, inputShape);
    runners.set(net, runner);
  }
  return runner;
}

/**
 * One step of backpropagation through time (snnTorch `backprop.BPTT` for one batch): reset the network, run
 * `numSteps` steps, apply the loss to the whole record, backpropagate through all steps and update.
 * Feed-forward stacks of Conv2d/MaxPool2d/Flatten/Linear/Leaky run on the fused layer-by-layer plan; every other
 * network is stepped through its modules. Returns the loss and the output record.
 */
export function bpttStep(
  net: Sequential,
  x: Tensor,
  y: Tensor,
  o: BpttOptions,
): { loss: number; spk: Tensor; mem: Tensor } {
  const { spk, mem } = runnerFor(net, x, o.timeVarying ?? false).run(x, o.numSteps);
  const loss = o.loss(o.lossOn === 'mem' ? mem : spk, y);
  o.optimizer.zeroGrad();
  loss.backward();
  o.optimizer.step();
  return { loss: loss.item(), spk: spk.detach(), mem: mem.detach() };
}

export interface TbpttOptions extends BpttOptions {
  /** Steps per truncation window: the loss of each window is backpropagated, then the hidden state is detached. */
  k: number;
}

/**
 * Truncated BPTT (snnTorch `backprop.TBPTT`): the record is cut into windows of `k` steps; after each window the loss
 * on that window's outputs is backpropagated, the optimizer steps, and the neurons' state is detached so the next
 * window does not backpropagate into the previous one. Returns the mean window loss.
 */
export function tbptt(net: Sequential, x: Tensor, y: Tensor, o: TbpttOptions): { loss: number } {
  if (!Number.isInteger(o.k) || o.k < 1) throw new RangeError(`tbptt: k must be a positive integer, got ${o.k}`);
  resetState(net);
  const out = net.layers[net.layers.length - 1]!;
  let window: Tensor[] = [];
  let total = 0;
  let windows = 0;
  for (let t = 0; t < o.numSteps; t++) {
    const spk = net.forward(o.timeVarying ? index(x, t) : x);
    window.push(o.lossOn === 'mem' ? net.state.get<NeuronState>(out)!.mem : spk);
    if ((t + 1) % o.k !== 0 && t !== o.numSteps - 1) continue;
    const loss = o.loss(stack(window), y);
    o.optimizer.zeroGrad();
    loss.backward();
    o.optimizer.step();
    total += loss.item();
    windows++;
    window = [];
    for (const m of net.modules()) {
      const state = m instanceof SpikingNeuron ? net.state.get<NeuronState>(m) : undefined;
      if (state) net.state.set(m, detachState(state));
    }
  }
  resetState(net);
  return { loss: total / windows };
}

/** Accuracy by spike count (`accuracyRate`) and mean loss of a spiking network over batches, without gradients. */
export function evaluateSnn(
  net: Sequential,
  batches: Iterable<{ x: Tensor; y: Tensor }>,
  o: { numSteps: number; loss?: RecordLoss; timeVarying?: boolean },
): { accuracy: number; loss: number | null } {
  let correct = 0;
  let count = 0;
  let lossSum = 0;
  noGrad(() => {
    for (const { x, y } of batches) {
      const { spk } = runnerFor(net, x, o.timeVarying ?? false).run(x, o.numSteps);
      const pred = argmax(sum(spk, 0), 1).ints;
      const target = y.ints;
      for (let i = 0; i < target.length; i++) if (pred[i] === target[i]) correct++;
      if (o.loss) lossSum += o.loss(spk, y).item() * target.length;
      count += target.length;
    }
  });
  return { accuracy: count ? correct / count : 0, loss: o.loss && count ? lossSum / count : null };
}
