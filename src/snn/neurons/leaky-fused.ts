import type { LifArgs, LifConstants } from '../../backend/backend.js';
import { getBackend } from '../../backend/registry.js';
import { result, shapeToString, sizeOf, type Tensor } from '../../tensor/tensor.js';
import { NeuronError } from '../errors.js';

/** The constants of a fused LIF run (everything in `LifArgs` except the sizes). */
export type FusedLifConfig = LifConstants;

/**
 * Leaky over a whole sequence as ONE tape primitive, on the backend's fused kernels (see `LifArgs` for the equations;
 * they are `leakyStep`'s with scalar constant beta/threshold, reset_delay=true, graded factor 1).
 *
 * Forward: `lifForward(x [T,N], mem0 [N]) -> spk, mem`, written into one buffer `[2, T, ...]` (spikes then
 * membranes) whose tape entry runs `lifBackward` on the gradients of both halves; `spk` and `mem` are differentiable
 * views of its halves. Gradients reach `x` and `mem0`; none flows through the reset (it is detached, as in the step).
 */
export function lifSequence(x: Tensor, mem0: Tensor, config: FusedLifConfig): { spk: Tensor; mem: Tensor } {
  const steps = x.shape[0]!;
  const stepShape = x.shape.slice(1);
  const neurons = sizeOf(stepShape);
  if (mem0.size !== neurons) {
    throw new NeuronError(
      `Leaky.forwardSequence (src/snn/neurons): initial mem has shape ${shapeToString(mem0.shape)} but one step of the input is ${shapeToString(stepShape)}`,
    );
  }
  const args: LifArgs = { ...config, steps, neurons };
  const size = steps * neurons;
  const both = new Float32Array(2 * size);
  const spkBuf = both.subarray(0, size);
  const memBuf = both.subarray(size);
  const mem0Data = mem0.values;
  getBackend().lifForward(args, x.values, mem0Data, spkBuf, memBuf);
  const combined = result(both, [2, ...x.shape], [x, mem0], (g) => {
    const dx = new Float32Array(size);
    const dMem0 = new Float32Array(neurons);
    getBackend().lifBackward(args, memBuf, mem0Data, g.subarray(0, size), g.subarray(size), dx, dMem0);
    return [dx, dMem0];
  });
  return { spk: half(combined, 0, size, x.shape), mem: half(combined, 1, size, x.shape) };
}

/** Half `k` of the combined buffer as a differentiable view (no copy forward; backward pads with zeros). */
function half(combined: Tensor, k: 0 | 1, size: number, shape: readonly number[]): Tensor {
  const data = combined.values.subarray(k * size, (k + 1) * size);
  return result(data, shape, [combined], (g) => {
    const full = new Float32Array(2 * size);
    full.set(g, k * size);
    return [full];
  });
}
