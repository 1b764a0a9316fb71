import type { Backend, LifArgs, LifConstants } from '../../backend/backend.js';
import { getBackend } from '../../backend/registry.js';
import { isGradEnabled } from '../../tensor/autograd.js';
import type { Module, Parameter } from '../../nn/module.js';
import { Conv2d, Flatten, Linear, MaxPool2d } from '../../nn/layers.js';
import { Tensor, result, shapeToString, sizeOf } from '../../tensor/tensor.js';
import { convGeom, linearBackward, linearForward, poolGeom } from './layer-ops.js';
import { Workspace } from './workspace.js';

/** What the plan needs to know of a spiking layer to run it with the fused LIF kernel. */
export type LifSpec = LifConstants;

type Stateless = Conv2d | MaxPool2d | Flatten | Linear;

/** A run of stateless layers between two spiking layers, executed over chunks of time steps as one batch. */
interface Segment {
  layers: Stateless[];
}

/** What one run keeps for its backward. */
interface RunRecord {
  x: Tensor;
  staticInput: boolean;
  T: number;
  B: number;
  /** Neurons per sample of each spiking layer. */
  neurons: number[];
  traces: LayerTrace[][];
  spikes: Float32Array[];
  mems: (Float32Array | null)[];
}

/** Per-run buffers of one stateless layer (what its backward needs). */
interface LayerTrace {
  /** Input of the layer for all T*B samples (conv/linear not at the start of a segment). */
  input: Float32Array | null;
  /** Argmax of a max-pool for all T*B samples. */
  argmax: Int32Array | null;
}

/** The spikes of the latest run, for counting (valid until the next run). */
interface LastRun {
  generation: number;
  T: number;
  B: number;
  spikes: Float32Array[];
  neurons: number[];
}

export interface PlanOutput {
  /** Output spikes `[T, B, C]` of the last spiking layer, differentiable w.r.t. every parameter of the plan. */
  spk: Tensor;
  /** Membrane of the last spiking layer `[T, B, C]` (not differentiable). */
  mem: Tensor;
  /** Neurons per sample of each spiking layer. */
  neurons: number[];
}

/**
 * A feed-forward SNN (stateless layers interleaved with LIF layers, e.g. the seed conv-SNN) executed layer by layer
 * over time instead of step by step:
 *  - each stateless segment processes a chunk of time steps as one batch `[t*B, ...]`;
 *  - each LIF layer runs the fused multi-step kernel over all T;
 *  - with a static input (the same image at every step) the first segment runs once per batch and its weight
 *    gradient uses the sum over time of the incoming gradient.
 * This gives the same numbers as stepping the network T times (tests prove it), in a fraction of the time and
 * without a tape entry per op per step: the whole network is one tape entry whose backward is BPTT.
 * Activation buffers live in a Workspace reused across runs of the same shape (in wasm memory with the wasm
 * backend, so kernels read and write them without copies, and memory stays flat across iterations).
 */
export class FeedForwardPlan {
  private generation = 0;
  private readonly ws = new Workspace();
  private last: LastRun | null = null;

  private constructor(
    private readonly inputShape: readonly number[],
    private readonly segments: Segment[],
    private readonly lifs: LifSpec[],
    private readonly params: Parameter[],
  ) {}

  /**
   * Compiles `layers` (in order) or returns null when they are not a feed-forward stack of Conv2d / MaxPool2d /
   * Flatten / Linear and spiking layers ending with a spiking layer. `lifSpecOf` says whether a layer is a spiking
   * layer the fused kernel supports (null: not fusable, and then the plan is not applicable).
   */
  static compile(
    layers: readonly Module[],
    inputShape: readonly number[],
    lifSpecOf: (m: Module) => LifSpec | null,
  ): FeedForwardPlan | null {
    const segments: Segment[] = [{ layers: [] }];
    const lifs: LifSpec[] = [];
    for (const layer of layers) {
      if (
        layer instanceof Conv2d ||
        layer instanceof MaxPool2d ||
        layer instanceof Flatten ||
        layer instanceof Linear
      ) {
        segments[segments.length - 1]!.layers.push(layer);
        continue;
      }
      const spec = lifSpecOf(layer);
      if (!spec) return null;
      lifs.push(spec);
      segments.push({ layers: [] });
    }
    if (lifs.length === 0 || segments[segments.length - 1]!.layers.length > 0) return null;
    segments.pop();
    const params = layers.flatMap((l) => l.parameters());
    return new FeedForwardPlan(inputShape, segments, lifs, params);
  }

  /**
   * Runs the network for `numSteps` steps. `x` is `[B, ...inputShape]` (static: the same input at every step) or
   * `[T, B, ...inputShape]` (time-varying).
   */
  run(x: Tensor, numSteps: number): PlanOutput {
    const backend = getBackend();
    this.ws.use(backend);
    const generation = ++this.generation;
    const staticInput = x.ndim === this.inputShape.length + 1;
    if (!staticInput && (x.ndim !== this.inputShape.length + 2 || x.shape[0] !== numSteps)) {
      throw new RangeError(
        `plan: input ${shapeToString(x.shape)} is neither [B, ${this.inputShape.join(', ')}] nor [${numSteps}, B, ${this.inputShape.join(', ')}]`,
      );
    }
    const T = numSteps;
    const B = x.shape[staticInput ? 0 : 1]!;
    // without a gradient to compute (inference), nothing is recorded for backward
    const training = isGradEnabled() && this.params.some((p) => p.requiresGrad);
    const traces: LayerTrace[][] = [];
    const spikes: Float32Array[] = [];
    const mems: (Float32Array | null)[] = [];
    const neurons: number[] = [];

    // segment 0 on the input (once when static), then each LIF and the segment after it
    let current = x.values;
    let currentShape = [...this.inputShape];
    let samples = staticInput ? B : T * B;
    for (let s = 0; s < this.segments.length; s++) {
      const { out, shape, trace } = this.segmentForward(backend, s, current, currentShape, samples, training);
      traces.push(trace);
      const perSample = sizeOf(shape);
      const n = B * perSample;
      const spk = this.ws.f32(`lif${s}.spk`, T * n);
      const mem = training || s === this.segments.length - 1 ? this.ws.f32(`lif${s}.mem`, T * n) : null;
      const args = this.lifArgs(this.lifs[s]!, T, n, s === 0 && staticInput);
      backend.lifForward(args, out, this.ws.f32(`lif${s}.mem0`, n, true), spk, mem);
      spikes.push(spk);
      mems.push(mem);
      neurons.push(perSample);
      current = spk;
      currentShape = shape;
      samples = T * B;
    }

    this.last = { generation, T, B, spikes, neurons };
    const last = this.segments.length - 1;
    const outShape = [T, B, ...currentShape];
    const spk = result(spikes[last]!.slice(), outShape, this.params, (dSpkOut) => {
      if (generation !== this.generation)
        throw new Error('plan: backward after a newer run; call backward before running again');
      return this.backward(backend, { x, staticInput, T, B, neurons, traces, spikes, mems }, dSpkOut);
    });
    return { spk, mem: new Tensor(mems[last]!.slice(), outShape), neurons };
  }

  /** Spikes per spiking layer and step of the latest run, summed over the batch: `counts[layer][t]`. */
  spikeCounts(): Float64Array[] {
    const last = this.last;
    if (!last || last.generation !== this.generation) throw new Error('plan: spikeCounts before a run');
    return last.spikes.map((spk, s) => countPerStep(spk, last.T, last.B * last.neurons[s]!));
  }

  /** Returns the plan's buffers to the backend (wasm memory is not garbage-collected); the plan stays usable. */
  release(): void {
    this.ws.release();
  }

  private lifArgs(spec: LifSpec, steps: number, n: number, staticInput: boolean): LifArgs {
    return {
      steps,
      neurons: n,
      beta: spec.beta,
      threshold: spec.threshold,
      reset: spec.reset,
      surrogate: spec.surrogate,
      staticInput,
    };
  }

  /** Runs a stateless segment over `samples` inputs, in chunks that bound the intermediate buffers. */
  private segmentForward(
    backend: Backend,
    segIndex: number,
    input: Float32Array,
    inShape: number[],
    samples: number,
    training: boolean,
  ): { out: Float32Array; shape: number[]; trace: LayerTrace[] } {
    const seg = this.segments[segIndex]!;
    const shapes = segmentShapes(seg, inShape);
    const outShape = shapes[shapes.length - 1]!;
    const name = (i: number, what: string): string => `seg${segIndex}.${i}.${what}`;
    // a conv or linear keeps its input for the weight gradient, unless that input is the segment's own (reshaped)
    const trace: LayerTrace[] = seg.layers.map((layer, i) => ({
      input:
        training && (layer instanceof Conv2d || layer instanceof Linear) && !readsSegmentInput(seg, i)
          ? this.ws.f32(name(i, 'input'), samples * sizeOf(shapes[i]!))
          : null,
      argmax: layer instanceof MaxPool2d ? this.ws.i32(name(i, 'argmax'), samples * sizeOf(shapes[i + 1]!)) : null,
    }));
    const out = this.ws.f32(name(seg.layers.length, 'out'), samples * sizeOf(outShape));
    const chunk = chunkSize(shapes, samples);
    for (let s0 = 0; s0 < samples; s0 += chunk) {
      const n = Math.min(chunk, samples - s0);
      let h = input.subarray(s0 * sizeOf(inShape), (s0 + n) * sizeOf(inShape));
      for (let i = 0; i < seg.layers.length; i++) {
        const layer = seg.layers[i]!;
        trace[i]!.input?.set(h, s0 * sizeOf(shapes[i]!));
        if (layer instanceof Flatten && i < seg.layers.length - 1) continue; // a reshape: same values, same order
        // a conv reading a spiking layer's output sees 0/1 spikes: the backend may go sparse, and pool in the same pass
        const spikeConv = layer instanceof Conv2d && segIndex > 0 && i === 0;
        const pool = spikeConvPool(seg, segIndex, i) ? seg.layers[i + 1] : undefined;
        const last = pool ? i + 1 : i; // the layer whose output this step writes
        const outSize = sizeOf(shapes[last + 1]!);
        const dst =
          last === seg.layers.length - 1
            ? out.subarray(s0 * outSize, (s0 + n) * outSize)
            : this.ws.f32(name(last, 'chunk'), chunk * outSize).subarray(0, n * outSize);
        const argmaxOf = (j: number): Int32Array => trace[j]!.argmax!.subarray(s0 * outSize, (s0 + n) * outSize);
        if (layer instanceof Conv2d) {
          const geom = convGeom(layer, shapes[i]!, n);
          const bias = layer.bias?.values ?? null;
          if (pool instanceof MaxPool2d) {
            const pg = poolGeom(pool, shapes[i + 1]!, n);
            backend.spikeConv2dPoolForward(geom, pg, h, layer.weight.values, bias, dst, argmaxOf(i + 1));
          } else if (spikeConv) backend.spikeConv2dForward(geom, h, layer.weight.values, bias, dst);
          else backend.conv2dForward(geom, h, layer.weight.values, bias, dst);
        } else if (layer instanceof MaxPool2d) {
          backend.maxPool2dForward(poolGeom(layer, shapes[i]!, n), h, dst, argmaxOf(i));
        } else if (layer instanceof Linear) {
          linearForward(backend, layer, h, n, dst);
        } else {
          dst.set(h);
        }
        h = dst;
        i = last;
      }
      if (seg.layers.length === 0) out.set(h, s0 * sizeOf(outShape));
    }
    return { out, shape: outShape, trace };
  }

  /** BPTT through the whole stack: LIF layers backward over all T, stateless segments in chunks. */
  private backward(backend: Backend, run: RunRecord, dSpkOut: Float32Array): Float32Array[] {
    const { x, staticInput, T, B, neurons, traces, spikes, mems } = run;
    const grads = new Map<Parameter, Float32Array>(this.params.map((p) => [p, new Float32Array(p.size)]));
    let dSpk = dSpkOut;
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const n = B * neurons[s]!;
      // the same input at every step: the first segment's gradient is the sum over time (the kernel sums it)
      const summed = s === 0 && staticInput;
      const dx = this.ws.f32(`lif${s}.dx`, summed ? n : T * n);
      const mem0 = this.ws.f32(`lif${s}.mem0`, n, true);
      backend.lifBackward(
        this.lifArgs(this.lifs[s]!, T, n, summed),
        mems[s]!,
        mem0,
        dSpk,
        null,
        dx,
        this.ws.f32(`lif${s}.dMem0`, n),
      );
      const inShape = this.shapeBefore(s);
      if (s === 0) {
        this.segmentBackward(backend, 0, x.values, inShape, summed ? B : T * B, dx, traces[0]!, grads, false);
        break;
      }
      dSpk = this.segmentBackward(backend, s, spikes[s - 1]!, inShape, T * B, dx, traces[s]!, grads, true)!;
    }
    return this.params.map((p) => grads.get(p)!);
  }

  /** Input shape (per sample) of segment s. */
  private shapeBefore(s: number): number[] {
    let shape = [...this.inputShape];
    for (let i = 0; i < s; i++) shape = segmentShapes(this.segments[i]!, shape).at(-1)!;
    return shape;
  }

  /** Backward of a stateless segment in chunks; returns the input gradient when asked. */
  private segmentBackward(
    backend: Backend,
    segIndex: number,
    input: Float32Array,
    inShape: number[],
    samples: number,
    dOut: Float32Array,
    trace: LayerTrace[],
    grads: Map<Parameter, Float32Array>,
    needInputGrad: boolean,
  ): Float32Array | null {
    const seg = this.segments[segIndex]!;
    const shapes = segmentShapes(seg, inShape);
    const name = (i: number, what: string): string => `seg${segIndex}.${i}.${what}`;
    const dInput = needInputGrad ? this.ws.f32(name(0, 'dInput'), samples * sizeOf(inShape)) : null;
    const chunk = chunkSize(shapes, samples);
    for (let s0 = 0; s0 < samples; s0 += chunk) {
      const n = Math.min(chunk, samples - s0);
      const outSize = sizeOf(shapes[shapes.length - 1]!);
      let g = dOut.subarray(s0 * outSize, (s0 + n) * outSize);
      // gradient into the output of layer i+1 (the pool after a conv: its sparse form feeds the conv's input grad)
      let gAfter: Float32Array | null = null;
      for (let i = seg.layers.length - 1; i >= 0; i--) {
        const layer = seg.layers[i]!;
        if (layer instanceof Flatten) continue; // a reshape: the gradient is the same array
        if (i > 0 && spikeConvPool(seg, segIndex, i - 1)) continue; // the conv before takes the pool's gradient
        const inSize = sizeOf(shapes[i]!);
        const first = readsSegmentInput(seg, i);
        const layerInput = first
          ? input.subarray(s0 * inSize, (s0 + n) * inSize)
          : trace[i]!.input?.subarray(s0 * inSize, (s0 + n) * inSize);
        const dIn = !first
          ? this.ws.f32(name(i, 'dchunk'), chunk * inSize).subarray(0, n * inSize)
          : needInputGrad
            ? dInput!.subarray(s0 * inSize, (s0 + n) * inSize)
            : null;
        if (layer instanceof Conv2d) {
          const geom = convGeom(layer, shapes[i]!, n);
          const dw = grads.get(layer.weight)!;
          const db = layer.bias ? grads.get(layer.bias)! : null;
          const w = layer.weight.values;
          const next = seg.layers[i + 1];
          const spikes = segIndex > 0 && i === 0;
          if (next instanceof MaxPool2d && (spikes || dIn)) {
            // only each pooling window's argmax has a conv-output gradient: both gradients start from the pool's
            const pg = poolGeom(next, shapes[i + 1]!, n);
            const pooled = sizeOf(shapes[i + 2]!);
            const argmax = trace[i + 1]!.argmax!.subarray(s0 * pooled, (s0 + n) * pooled);
            const dPool = spikes ? g : gAfter!; // a fused pair skipped the pool's own backward
            if (spikes) backend.spikePoolConv2dBackwardWeight(geom, pg, layerInput!, dPool, argmax, dw, db, true);
            else backend.conv2dBackwardWeight(geom, layerInput!, g, dw, db, true);
            if (dIn) backend.poolConv2dBackwardInput(geom, pg, dPool, argmax, w, dIn);
          } else {
            if (spikes) backend.spikeConv2dBackwardWeight(geom, layerInput!, g, dw, db, true);
            else backend.conv2dBackwardWeight(geom, layerInput!, g, dw, db, true);
            if (dIn) backend.conv2dBackwardInput(geom, g, w, dIn);
          }
        } else if (layer instanceof MaxPool2d) {
          const outLen = sizeOf(shapes[i + 1]!);
          if (dIn)
            backend.maxPool2dBackward(
              poolGeom(layer, shapes[i]!, n),
              g,
              trace[i]!.argmax!.subarray(s0 * outLen, (s0 + n) * outLen),
              dIn,
            );
        } else {
          linearBackward(backend, layer, layerInput!, g, n, grads, dIn);
        }
        if (!dIn) break;
        gAfter = g;
        g = dIn;
      }
      // only reshapes (or nothing) in the segment: the input gradient is the output gradient
      if (dInput && seg.layers.every((l) => l instanceof Flatten)) dInput.set(g, s0 * sizeOf(inShape));
    }
    return dInput;
  }
}

/**
 * Whether layer i of segment segIndex is a conv on spikes (the first layer after a spiking layer) followed by a
 * max-pool: the pair runs as one fused kernel forward, and backward from the pool's gradient.
 */
function spikeConvPool(seg: Segment, segIndex: number, i: number): boolean {
  return segIndex > 0 && i === 0 && seg.layers[0] instanceof Conv2d && seg.layers[1] instanceof MaxPool2d;
}

/** Whether layer i of a segment sees the segment's input as it is (only reshapes before it). */
function readsSegmentInput(seg: Segment, i: number): boolean {
  return seg.layers.slice(0, i).every((l) => l instanceof Flatten);
}

/** Per-sample shapes at every boundary of a segment: [input, after layer 0, ...]. */
function segmentShapes(seg: Segment, inShape: number[]): number[][] {
  const shapes = [inShape];
  for (const layer of seg.layers) {
    const s = shapes[shapes.length - 1]!;
    if (layer instanceof Conv2d) {
      const g = convGeom(layer, s, 1);
      shapes.push([g.outC, g.outH, g.outW]);
    } else if (layer instanceof MaxPool2d) {
      const g = poolGeom(layer, s, 1);
      shapes.push([g.channels, g.outH, g.outW]);
    } else if (layer instanceof Flatten) {
      shapes.push([sizeOf(s)]);
    } else {
      if (s.length !== 1 || s[0] !== layer.inFeatures)
        throw new RangeError(`plan: Linear(${layer.inFeatures}) got ${shapeToString(s)}`);
      shapes.push([layer.outFeatures]);
    }
  }
  return shapes;
}

/** Samples per chunk so that the largest per-chunk activation stays near 8M floats (32 MB). */
function chunkSize(shapes: number[][], samples: number): number {
  const widest = Math.max(...shapes.map(sizeOf));
  return Math.max(1, Math.min(samples, Math.floor((8 << 20) / widest)));
}

function countPerStep(spk: Float32Array, T: number, n: number): Float64Array {
  const counts = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let c = 0;
    for (let i = t * n; i < (t + 1) * n; i++) c += spk[i]!;
    counts[t] = c;
  }
  return counts;
}
