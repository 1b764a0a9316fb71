/**
 * The compute contract. A backend implements the coarse, compute-heavy kernels; everything memory-bound and cheap
 * (elementwise maps, broadcasting, small reductions) is plain TypeScript in `src/tensor/ops`, where V8's JIT is
 * already within a small factor of memory bandwidth (ReLU excepted: a fused plan runs it on engine memory, where a
 * branchy JS loop over a shared-memory view is 30x slower, see `relu`). Every array is row-major and contiguous; an
 * operand's layout is stated next to it. Kernels write into caller-provided outputs and allocate nothing the caller
 * must free.
 *
 * `KernelName` is the checked union of kernel names: a backend declared as `Backend` that misses one fails to compile.
 */

/** `C[m,n] = (accumulate ? C : 0) + alpha * op(A)[m,k] @ op(B)[k,n]`; A is `[m,k]` (or `[k,m]` with `transA`), B is `[k,n]` (or `[n,k]` with `transB`). */
export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  accumulate: boolean;
  alpha?: number;
}

/** Geometry of a 2-D convolution on NCHW input `[batch,inC,inH,inW]`, weight `[outC,inC,kH,kW]`, output `[batch,outC,outH,outW]`. */
export interface Conv2dGeometry {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  outH: number;
  outW: number;
}

/** Geometry of a 2-D pooling window over NCHW `[batch,channels,inH,inW]` -> `[batch,channels,outH,outW]`. */
export interface Pool2dGeometry {
  batch: number;
  channels: number;
  inH: number;
  inW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  outH: number;
  outW: number;
}

/** Surrogate derivatives a fused LIF kernel knows natively (others go through composed ops). */
export type FusedSurrogate = { kind: 'fastSigmoid'; slope: number } | { kind: 'atan'; alpha: number };

/**
 * Leaky integrate-and-fire over T steps for N neurons (snnTorch `Leaky`, `reset_delay=true`, scalar beta/threshold):
 * `r_t = H(m_{t-1} - thr)` (detached); subtract: `m_t = beta*m_{t-1} + x_t - r_t*thr`;
 * zero: `m_t = beta*(1-r_t)*m_{t-1} + x_t`; none: `m_t = beta*m_{t-1} + x_t`; `s_t = H(m_t - thr)`, `H(u) = u > 0`.
 */
export interface LifArgs {
  steps: number;
  neurons: number;
  beta: number;
  threshold: number;
  reset: 'subtract' | 'zero' | 'none';
  surrogate: FusedSurrogate;
  /**
   * The same input at every step (direct encoding): forward reads x `[N]` as x_t for every t, and backward gives the
   * static input's gradient `dx [N] = sum_t dx_t`. Default false: x and dx are `[T,N]`.
   */
  staticInput?: boolean;
}

/** The constants of a fused LIF layer (LifArgs without the sizes). */
export type LifConstants = Omit<LifArgs, 'steps' | 'neurons'>;

export interface AdamArgs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count after increment (PyTorch's `state['step']`). */
  step: number;
  amsgrad: boolean;
}

/**
 * Buffers a backend's kernels use without copying (views of wasm memory for the wasm backend). Code that calls the
 * same kernels every iteration (the fused SNN plan) keeps its activations in these and reuses them, so nothing is
 * copied per op and memory stays flat across iterations. `free` returns a buffer; using it afterwards is an error.
 */
export interface BufferProvider {
  f32(length: number): Float32Array;
  i32(length: number): Int32Array;
  free(buffer: Float32Array | Int32Array): void;
}

/** How a convolution forward may compute its sums. */
export interface ConvForwardOptions {
  /**
   * Allow Winograd's minimal filtering where the backend has it (the wasm engine: 5x5 kernels, stride 1, no
   * padding): 2.8x fewer multiply-adds, float32 error about 1e-6 relative instead of 1e-7. Off by default: a spiking
   * layer thresholds the result, and the golden spike trains are reproduced exactly.
   */
  winograd?: boolean;
}

export interface Backend {
  readonly name: string;
  /** Zero-copy buffers, where the backend has its own memory (absent: plain typed arrays are as good). */
  readonly buffers?: BufferProvider;
  gemm(args: GemmArgs): void;
  /** `out = conv(x, w) + bias`. */
  conv2dForward(
    g: Conv2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    options?: ConvForwardOptions,
  ): void;
  /** `dx = conv_transpose(dOut, w)` (overwrites dx). */
  conv2dBackwardInput(g: Conv2dGeometry, dOut: Float32Array, w: Float32Array, dx: Float32Array): void;
  /** `dw (+)= sum_b corr(x, dOut)`, `dBias (+)= sum dOut` over batch and space. */
  conv2dBackwardWeight(
    g: Conv2dGeometry,
    x: Float32Array,
    dOut: Float32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void;
  /**
   * `conv2dForward` for an input of 0/1 spikes: same result (up to summation order), but a backend may accumulate
   * only the weight rows of active inputs, choosing sparse or dense by the measured density.
   */
  spikeConv2dForward(
    g: Conv2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
  ): void;
  /**
   * A spike conv and the max-pool that reads its output, in one call: bit for bit `spikeConv2dForward(conv, x, w,
   * bias, convOut)` then `maxPool2dForward(pool, convOut, out, argmax)` (same argmax rule), where `pool` reads
   * `[conv.batch, conv.outC, conv.outH, conv.outW]`. A backend need not write the conv output anywhere: for a 2x2
   * pool it is 4x the pooled output, and re-reading it costs more than pooling.
   */
  spikeConv2dPoolForward(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    argmax: Int32Array,
  ): void;
  /** `conv2dBackwardWeight` for an input of 0/1 spikes (sparse over the active inputs where that is faster). */
  spikeConv2dBackwardWeight(
    g: Conv2dGeometry,
    x: Float32Array,
    dOut: Float32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void;
  /**
   * The input gradient of a conv followed by a max-pool, from the pool's gradient: `dx =
   * conv2dBackwardInput(conv, maxPool2dBackward(pool, dPool, argmax), w)`. Only each window's argmax position has a
   * nonzero conv-output gradient, so a backend can skip the other 3/4 of a 2x2 pool's rows (overwrites dx).
   */
  poolConv2dBackwardInput(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    dPool: Float32Array,
    argmax: Int32Array,
    w: Float32Array,
    dx: Float32Array,
  ): void;
  /**
   * The weight gradient of a conv of 0/1 spikes followed by a max-pool, from the pool's gradient:
   * `spikeConv2dBackwardWeight(conv, x, maxPool2dBackward(pool, dPool, argmax), dw, dBias, accumulate)`. A backend
   * can build each image's conv-output gradient straight from `dPool` and `argmax` instead of materialising it.
   */
  spikePoolConv2dBackwardWeight(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    dPool: Float32Array,
    argmax: Int32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void;
  /**
   * The weight gradient of a conv followed by a max-pool, from the pool's gradient: `dw (+)=
   * conv2dBackwardWeight(conv, x, maxPool2dBackward(pool, dPool, argmax))`, `dBias (+)=` the sum of dPool. Only each
   * window's argmax position has a nonzero conv-output gradient, so a backend can accumulate one input patch per
   * nonzero pooled gradient instead of a dense product over every output pixel.
   */
  poolConv2dBackwardWeight(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    dPool: Float32Array,
    argmax: Int32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void;
  /** Max over each window; `argmax` holds the flat input index within the (b,c) plane of the first maximum in row-major window order (-1 for an all-padding window). */
  maxPool2dForward(g: Pool2dGeometry, x: Float32Array, out: Float32Array, argmax: Int32Array): void;
  /** Routes dOut to the argmax positions (overwrites dx). */
  maxPool2dBackward(g: Pool2dGeometry, dOut: Float32Array, argmax: Int32Array, dx: Float32Array): void;
  /** Mean over each window, padding counted (PyTorch `count_include_pad=true`). */
  avgPool2dForward(g: Pool2dGeometry, x: Float32Array, out: Float32Array): void;
  avgPool2dBackward(g: Pool2dGeometry, dOut: Float32Array, dx: Float32Array): void;
  /** `out = x > 0 ? x : 0` over `n` elements (NaN gives 0, like the tape's relu); `out` may be `x`. */
  relu(n: number, x: Float32Array, out: Float32Array): void;
  /** `dx = y > 0 ? dy : 0` over `n` elements (y: the ReLU's output); `dx` may be `dy`. */
  reluBackward(n: number, y: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** Row-wise log-softmax of `[rows, cols]`. */
  logSoftmax(rows: number, cols: number, x: Float32Array, out: Float32Array): void;
  /**
   * Fused multi-step LIF forward: x `[T,N]` (`[N]` with `staticInput`), mem0 `[N]` -> spk `[T,N]`, mem `[T,N]`
   * (null: membranes not recorded, for inference).
   */
  lifForward(p: LifArgs, x: Float32Array, mem0: Float32Array, spk: Float32Array, mem: Float32Array | null): void;
  /**
   * Fused LIF backward (BPTT through the membrane; reset detached). Given dSpk `[T,N]`, dMem `[T,N]` (gradient
   * flowing into the recorded membranes, may be null), mem `[T,N]` from forward, returns dx `[T,N]` (`[N]`, the sum
   * over time, with `staticInput`) and dMem0 `[N]`.
   */
  lifBackward(
    p: LifArgs,
    mem: Float32Array,
    mem0: Float32Array,
    dSpk: Float32Array,
    dMem: Float32Array | null,
    dx: Float32Array,
    dMem0: Float32Array,
  ): void;
  /** In-place Adam (PyTorch semantics, bias-corrected, L2 weight decay added to the gradient). */
  adamStep(
    a: AdamArgs,
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    vMax: Float32Array | null,
  ): void;
}

export type KernelName = Exclude<keyof Backend, 'name' | 'buffers'>;
