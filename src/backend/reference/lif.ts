import type { FusedSurrogate, LifArgs } from '../backend.js';
import { KernelArgumentError, requireCount, requireLength } from './check.js';

/*
 * Leaky integrate-and-fire over T steps (snnTorch 0.9.4 `Leaky`, reset_delay=true), arrays `[T, N]`, m_{-1} = mem0:
 *   r_t = H(m_{t-1} - thr)                        (detached: no gradient flows through the reset)
 *   subtract: m_t = beta*m_{t-1} + x_t - r_t*thr
 *   zero:     m_t = beta*((1 - r_t)*m_{t-1}) + x_t
 *   none:     m_t = beta*m_{t-1} + x_t
 *   s_t = H(m_t - thr),  H(u) = u > 0 (strict: a membrane exactly at threshold does not fire)
 * Forward rounds to float32 after every operation in PyTorch's order, so membranes match snnTorch bit for bit.
 * For float32 a and b, a - b > 0 exactly when a > b, so H(a - b) is computed as a comparison.
 *
 * Backward (BPTT), with dm_t the total gradient into m_t and surrogate' the derivative of the spike at u = m_t - thr:
 *   dm_t  = dSpk_t * surrogate'(m_t - thr) + dMem_t + dm_{t+1} * dm_{t+1}/dm_t
 *   dm_{t+1}/dm_t = beta (subtract, none) or beta*(1 - r_{t+1}) (zero; r detached, so no term through the reset)
 *   dx_t = dm_t,  dMem0 = dm_0 * dm_0/dmem0 (the same rule with r_0 = H(mem0 - thr))
 * Static input (LifArgs.staticInput): x_t = x [N] at every step, and its gradient is dx = sum_t dm_t [N].
 */

/** The surrogate derivative d s / d u as coded in snnTorch (see ../shared/golden/README.md). */
export function surrogateGrad(s: FusedSurrogate): (u: number) => number {
  switch (s.kind) {
    case 'fastSigmoid': {
      const slope = s.slope;
      return (u) => {
        const d = slope * Math.abs(u) + 1;
        return 1 / (d * d);
      };
    }
    case 'atan': {
      const halfAlpha = s.alpha / 2;
      const c = (Math.PI / 2) * s.alpha;
      return (u) => {
        const z = c * u;
        return halfAlpha / (1 + z * z);
      };
    }
    default: {
      const unknown: never = s;
      throw new KernelArgumentError(
        `reference.lif (src/backend/reference): surrogate.kind must be 'fastSigmoid' or 'atan', got ${JSON.stringify(unknown)}`,
      );
    }
  }
}

function checkArgs(kernel: string, p: LifArgs): void {
  requireCount(kernel, 'steps', p.steps);
  requireCount(kernel, 'neurons', p.neurons);
  if (p.reset !== 'subtract' && p.reset !== 'zero' && p.reset !== 'none') {
    throw new KernelArgumentError(
      `reference.${kernel} (src/backend/reference): reset must be 'subtract', 'zero' or 'none', got ${String(p.reset)}`,
    );
  }
}

export function lifForward(
  p: LifArgs,
  x: Float32Array,
  mem0: Float32Array,
  spk: Float32Array,
  mem: Float32Array | null,
): void {
  checkArgs('lifForward', p);
  const { steps: T, neurons: N, reset } = p;
  const xStep = p.staticInput ? 0 : N;
  requireLength('lifForward', 'x', x, p.staticInput ? N : T * N);
  requireLength('lifForward', 'mem0', mem0, N);
  requireLength('lifForward', 'spk', spk, T * N);
  if (mem) requireLength('lifForward', 'mem', mem, T * N);
  // snnTorch holds beta and threshold as float32 tensors.
  const beta = Math.fround(p.beta);
  const thr = Math.fround(p.threshold);
  const fr = Math.fround;

  const state = Float32Array.from(mem0);
  for (let t = 0; t < T; t++) {
    const base = t * N;
    for (let n = 0; n < N; n++) {
      const prev = state[n]!;
      const r = prev > thr ? 1 : 0;
      const xt = x[t * xStep + n]!;
      let m: number;
      if (reset === 'subtract') m = fr(fr(beta * prev) + xt) - r * thr;
      else if (reset === 'zero') m = fr(beta * fr((1 - r) * prev)) + xt;
      else m = fr(beta * prev) + xt;
      const m32 = fr(m);
      state[n] = m32;
      if (mem) mem[base + n] = m32;
      spk[base + n] = m32 > thr ? 1 : 0;
    }
  }
}

export function lifBackward(
  p: LifArgs,
  mem: Float32Array,
  mem0: Float32Array,
  dSpk: Float32Array,
  dMem: Float32Array | null,
  dx: Float32Array,
  dMem0: Float32Array,
): void {
  checkArgs('lifBackward', p);
  const { steps: T, neurons: N, reset } = p;
  requireLength('lifBackward', 'mem', mem, T * N);
  requireLength('lifBackward', 'mem0', mem0, N);
  requireLength('lifBackward', 'dSpk', dSpk, T * N);
  if (dMem) requireLength('lifBackward', 'dMem', dMem, T * N);
  requireLength('lifBackward', 'dx', dx, p.staticInput ? N : T * N);
  requireLength('lifBackward', 'dMem0', dMem0, N);
  const beta = Math.fround(p.beta);
  const thr = Math.fround(p.threshold);
  const sg = surrogateGrad(p.surrogate);

  // carry[n] = dm_{t+1} * dm_{t+1}/dm_t: the gradient reaching m_t from the future.
  const carry = new Float64Array(N);
  const sum = p.staticInput ? new Float64Array(N) : null;
  for (let t = T - 1; t >= 0; t--) {
    const base = t * N;
    const prevArr = t === 0 ? mem0 : mem;
    const prevBase = t === 0 ? 0 : base - N;
    for (let n = 0; n < N; n++) {
      const i = base + n;
      const u = Math.fround(mem[i]! - thr);
      const dm = dSpk[i]! * sg(u) + (dMem ? dMem[i]! : 0) + carry[n]!;
      if (sum) sum[n]! += dm;
      else dx[i] = dm;
      const decay = reset === 'zero' && prevArr[prevBase + n]! > thr ? 0 : beta;
      carry[n] = dm * decay;
    }
  }
  for (let n = 0; n < N; n++) dMem0[n] = carry[n]!;
  if (sum) dx.set(sum);
}
