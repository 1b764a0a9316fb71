import type { Backend } from '../../backend/backend.js';
import { getBackend } from '../../backend/registry.js';
import type { Module, Parameter } from '../../nn/module.js';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU } from '../../nn/layers.js';
import { type Tensor, result, shapeToString, sizeOf } from '../../tensor/tensor.js';
import { convGeom, linearBackward, linearForward, poolGeom } from './layer-ops.js';
import { Workspace } from './workspace.js';

type PlanLayer = Conv2d | MaxPool2d | ReLU | Flatten | Linear;

/** What a forward run keeps for its backward. */
interface Trace {
  /** acts[i]: input of stage i (batch-major); the last one is the network's output. ReLU and Flatten share buffers. */
  acts: Float32Array[];
  /** Argmax of each max-pool stage (null elsewhere). */
  argmax: (Int32Array | null)[];
}

/** One layer of the plan with its per-sample input and output shapes. */
interface Stage {
  layer: PlanLayer;
  inShape: number[];
  outShape: number[];
  /** A conv whose output goes straight into a max-pool: its backward reads the pool's gradient and argmax. */
  pooled: boolean;
  /** Some earlier layer has parameters, so the gradient must flow into this layer's input. */
  needsInputGrad: boolean;
}

/**
 * A feed-forward CNN (Conv2d, MaxPool2d, ReLU, Flatten, Linear in any order, e.g. the study's CNN) executed as one
 * tape entry: the forward runs each layer's kernel into buffers of a Workspace (wasm memory with the wasm backend,
 * so no kernel copies its operands), and the backward computes every parameter's gradient in one pass:
 *   ReLU      y = max(x, 0) in place;            dx = dy * (y > 0)
 *   MaxPool2d y = max over the window, argmax;   dx = dy routed to the argmax
 *   Conv2d    y = conv(x, w) + b;                dw, db, dx from the backend's conv kernels
 *   Linear    y = x W^T + b;                     dW = dy^T x, db = sum dy, dx = dy W
 * A conv followed by a max-pool takes its gradients straight from the pool's (`poolConv2dBackwardWeight` /
 * `poolConv2dBackwardInput`): only each window's argmax position of the conv output has a nonzero gradient. The
 * numbers are those of the tape (`net.forward` then `backward`) up to float32 summation order; tests prove it.
 */
export class CnnPlan {
  private generation = 0;
  private readonly ws = new Workspace();

  private constructor(
    private readonly stages: Stage[],
    private readonly params: Parameter[],
  ) {}

  /**
   * Compiles `layers` for inputs of per-sample shape `inputShape` (e.g. `[1, 28, 28]`), or returns null when a layer
   * is not one the plan knows.
   */
  static compile(layers: readonly Module[], inputShape: readonly number[]): CnnPlan | null {
    const stages: Stage[] = [];
    let shape = [...inputShape];
    let hasParams = false;
    if (layers.length === 0 || new Set(layers).size !== layers.length) return null;
    for (const layer of layers) {
      if (!isPlanLayer(layer)) return null;
      if (layer instanceof Flatten && (layer.startDim !== 1 || (layer.endDim !== -1 && layer.endDim !== shape.length)))
        return null;
      // the tape's Linear maps the last axis of any shape; the plan keeps to [B, features]
      if (layer instanceof Linear && shape.length !== 1) return null;
      const outShape = stageOutput(layer, shape);
      stages.push({ layer, inShape: shape, outShape, pooled: false, needsInputGrad: hasParams });
      hasParams ||= layer.parameters().length > 0;
      shape = outShape;
    }
    stages.forEach((s, i) => {
      s.pooled = s.layer instanceof Conv2d && stages[i + 1]?.layer instanceof MaxPool2d;
    });
    return new CnnPlan(
      stages,
      layers.flatMap((l) => l.parameters()),
    );
  }

  /** The network's output `[B, ...]` for `x` `[B, ...inputShape]`, differentiable w.r.t. every parameter. */
  run(x: Tensor): Tensor {
    const first = this.stages[0]!.inShape;
    if (x.ndim !== first.length + 1 || x.shape.slice(1).some((d, i) => d !== first[i])) {
      throw new RangeError(`CnnPlan: input ${shapeToString(x.shape)} is not [B, ${first.join(', ')}]`);
    }
    if (x.requiresGrad) throw new Error('CnnPlan: the input requires grad; run the network on the tape instead');
    const backend = getBackend();
    this.ws.use(backend);
    const generation = ++this.generation;
    const B = x.shape[0]!;
    const trace = this.forward(backend, x.values, B);
    const outShape = [B, ...this.stages[this.stages.length - 1]!.outShape];
    return result(trace.acts[trace.acts.length - 1]!.slice(), outShape, this.params, (dOut) => {
      if (generation !== this.generation) throw new Error('CnnPlan: backward after a newer run; call backward first');
      return this.backward(backend, trace, B, dOut);
    });
  }

  private forward(backend: Backend, x: Float32Array, B: number): Trace {
    const acts = [this.ws.f32('act0', x.length)];
    acts[0]!.set(x);
    const argmax: (Int32Array | null)[] = [];
    this.stages.forEach(({ layer, inShape, outShape }, i) => {
      const h = acts[i]!;
      const n = B * sizeOf(outShape);
      argmax.push(null);
      if (layer instanceof ReLU || layer instanceof Flatten) {
        // in place: no layer's backward needs the input of a ReLU (its own mask is y > 0)
        if (layer instanceof ReLU) backend.relu(h.length, h, h);
        acts.push(h);
        return;
      }
      const out = this.ws.f32(`act${i + 1}`, n);
      if (layer instanceof Conv2d) {
        // Winograd where the backend has it: a ReLU network is smooth in its sums (unlike a spiking one)
        const g = convGeom(layer, inShape, B);
        backend.conv2dForward(g, h, layer.weight.values, layer.bias?.values ?? null, out, { winograd: true });
      } else if (layer instanceof MaxPool2d) {
        const am = this.ws.i32(`argmax${i}`, n);
        argmax[i] = am;
        backend.maxPool2dForward(poolGeom(layer, inShape, B), h, out, am);
      } else {
        linearForward(backend, layer, h, B, out);
      }
      acts.push(out);
    });
    return { acts, argmax };
  }

  /** Every parameter's gradient from the gradient of the output, layers in reverse. */
  private backward(backend: Backend, trace: Trace, B: number, dOut: Float32Array): Float32Array[] {
    const { acts, argmax } = trace;
    const grads = new Map<Parameter, Float32Array>(this.params.map((p) => [p, new Float32Array(p.size)]));
    // a copy in the workspace: the ReLU masks below work in place
    let g = this.ws.f32('dOut', dOut.length);
    g.set(dOut);
    for (let i = this.stages.length - 1; i >= 0; i--) {
      const { layer, inShape, pooled, needsInputGrad } = this.stages[i]!;
      const dIn = (): Float32Array => this.ws.f32(`d${i}`, B * sizeOf(inShape));
      if (layer instanceof ReLU) {
        backend.reluBackward(g.length, acts[i + 1]!, g, g);
      } else if (layer instanceof MaxPool2d) {
        // a pool right after a conv hands its gradient and argmax to the conv's fused backward
        if (!this.stages[i - 1]?.pooled && needsInputGrad) {
          const dx = dIn();
          backend.maxPool2dBackward(poolGeom(layer, inShape, B), g, argmax[i]!, dx);
          g = dx;
        }
      } else if (layer instanceof Conv2d) {
        const geom = convGeom(layer, inShape, B);
        const w = layer.weight.values;
        const dw = grads.get(layer.weight)!;
        const db = layer.bias ? grads.get(layer.bias)! : null;
        const dx = needsInputGrad ? dIn() : null;
        if (pooled) {
          const pool = this.stages[i + 1]!;
          const pg = poolGeom(pool.layer as MaxPool2d, pool.inShape, B);
          const am = argmax[i + 1]!;
          backend.poolConv2dBackwardWeight(geom, pg, acts[i]!, g, am, dw, db, false);
          if (dx) backend.poolConv2dBackwardInput(geom, pg, g, am, w, dx);
        } else {
          backend.conv2dBackwardWeight(geom, acts[i]!, g, dw, db, false);
          if (dx) backend.conv2dBackwardInput(geom, g, w, dx);
        }
        if (dx) g = dx;
      } else if (layer instanceof Linear) {
        const dx = needsInputGrad ? dIn() : null;
        linearBackward(backend, layer, acts[i]!, g, B, grads, dx);
        if (dx) g = dx;
      }
      if (!needsInputGrad) break;
    }
    return this.params.map((p) => grads.get(p)!);
  }

  /** Returns the plan's buffers to the backend (wasm memory is not garbage-collected); the plan stays usable. */
  release(): void {
    this.ws.release();
  }
}

function isPlanLayer(layer: Module): layer is PlanLayer {
  return (
    layer instanceof Conv2d ||
    layer instanceof MaxPool2d ||
    layer instanceof ReLU ||
    layer instanceof Flatten ||
    layer instanceof Linear
  );
}

/** Per-sample output shape of a layer, validating its input. */
function stageOutput(layer: PlanLayer, s: number[]): number[] {
  if (layer instanceof Conv2d) {
    const g = convGeom(layer, s, 1);
    return [g.outC, g.outH, g.outW];
  }
  if (layer instanceof MaxPool2d) {
    const g = poolGeom(layer, s, 1);
    return [g.channels, g.outH, g.outW];
  }
  if (layer instanceof Flatten) return [sizeOf(s)];
  if (layer instanceof Linear) {
    if (s.length !== 1 || s[0] !== layer.inFeatures)
      throw new RangeError(`CnnPlan: Linear(${layer.inFeatures}) got ${shapeToString(s)}`);
    return [layer.outFeatures];
  }
  return s;
}

