// Fused multi-step leaky integrate-and-fire (snnTorch `Leaky`, reset_delay=true), arrays [T, N], m_{-1} = mem0:
//   r_t = H(m_{t-1} - thr) (detached)
//   subtract: m_t = (beta*m_{t-1} + x_t) - r_t*thr     zero: m_t = beta*((1 - r_t)*m_{t-1}) + x_t
//   none:     m_t = beta*m_{t-1} + x_t                  s_t = H(m_t - thr), H(u) = u > 0
// Forward rounds after every operation in PyTorch's order (no fused multiply-add), so membranes and spikes match
// the reference bit for bit. Backward (BPTT, reset detached), g the surrogate derivative at u = m_t - thr:
//   dm_t = (dSpk_t*g + dMem_t) + dm_{t+1}*decay_{t+1},  decay_t = beta, or 0 where reset=zero and r_t = 1
//   dx_t = dm_t,  dMem0 = dm_0*decay_0
// Static input (the same x_t = x at every step, x is [N]): forward reads x once per neuron, and backward writes the
// input's gradient sum_t dx_t ([N]) instead of dx [T, N]. mem = 0 in forward: membranes not recorded (inference).
// Neurons are split across threads in groups of 16 and walked in blocks (see lifForward); f32x4 lanes are neurons.
import { at } from './gemm';
import { shareStart } from './simd';

export const RESET_SUBTRACT: i32 = 0;
export const RESET_ZERO: i32 = 1;
export const RESET_NONE: i32 = 2;
export const SURROGATE_FAST_SIGMOID: i32 = 0;
export const SURROGATE_ATAN: i32 = 1;

// @ts-ignore: decorator
@inline
function stepV(prev: v128, xt: v128, beta: v128, thr: v128, reset: i32): v128 {
  const fired = f32x4.gt(prev, thr);
  if (reset == RESET_SUBTRACT) return f32x4.sub(f32x4.add(f32x4.mul(beta, prev), xt), v128.and(fired, thr));
  if (reset == RESET_ZERO) return f32x4.add(f32x4.mul(beta, v128.andnot(prev, fired)), xt);
  return f32x4.add(f32x4.mul(beta, prev), xt);
}

// @ts-ignore: decorator
@inline
function stepS(prev: f32, xt: f32, beta: f32, thr: f32, reset: i32): f32 {
  const fired = prev > thr;
  if (reset == RESET_SUBTRACT) return beta * prev + xt - (fired ? thr : 0);
  if (reset == RESET_ZERO) return beta * (fired ? <f32>0 : prev) + xt;
  return beta * prev + xt;
}

/** Neurons per block: the state of a block stays in L1 while time runs over it (rows of 4 KB per array). */
const BLOCK: i32 = 1024;

/** Scratch bytes per thread: the membrane state (forward), or carry and sum (backward), of one block. */
export function lifWorkspace(): i32 {
  return BLOCK * 2 * 4;
}

/**
 * `xStep`: n for an input [T, N], 0 for a static input [N]. Each thread walks its neurons in blocks; for each step
 * it streams one contiguous row of every array (a [T, N] array read neuron by neuron down the time axis would jump
 * N*4 bytes per access, and for N a multiple of 1024 all those lines fall in the same cache set).
 */
export function lifForward(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, steps: i32, n: i32, beta: f32, thr: f32, reset: i32,
  x: usize, xStep: i32, mem0: usize, spk: usize, mem: usize,
): void {
  const n0 = shareStart(n, 16, tid, nth);
  const n1 = shareStart(n, 16, tid + 1, nth);
  const state = wsBase + <usize>tid * wsStride;
  const vb = f32x4.splat(beta);
  const vt = f32x4.splat(thr);
  const one = f32x4.splat(1);
  for (let b0 = n0; b0 < n1; b0 += BLOCK) {
    const len = min(BLOCK, n1 - b0);
    const len4 = len & ~3;
    memory.copy(state, at(mem0, b0), <usize>len << 2);
    for (let t = 0; t < steps; t++) {
      const xr = at(x, t * xStep + b0);
      const sr = at(spk, t * n + b0);
      const mr = mem != 0 ? at(mem, t * n + b0) : 0;
      let j = 0;
      for (; j < len4; j += 4) {
        const m = stepV(v128.load(at(state, j)), v128.load(at(xr, j)), vb, vt, reset);
        v128.store(at(state, j), m);
        if (mem != 0) v128.store(at(mr, j), m);
        v128.store(at(sr, j), v128.and(f32x4.gt(m, vt), one));
      }
      for (; j < len; j++) {
        const m = stepS(load<f32>(at(state, j)), load<f32>(at(xr, j)), beta, thr, reset);
        store<f32>(at(state, j), m);
        if (mem != 0) store<f32>(at(mr, j), m);
        store<f32>(at(sr, j), m > thr ? 1 : 0);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function surrogateV(u: v128, kind: i32, a: v128, b: v128, one: v128): v128 {
  if (kind == SURROGATE_FAST_SIGMOID) {
    // 1 / (slope*|u| + 1)^2, a = slope
    const d = f32x4.add(f32x4.mul(a, f32x4.abs(u)), one);
    return f32x4.div(one, f32x4.mul(d, d));
  }
  // alpha/2 / (1 + (pi/2*alpha*u)^2), a = pi/2*alpha, b = alpha/2
  const z = f32x4.mul(a, u);
  return f32x4.div(b, f32x4.add(one, f32x4.mul(z, z)));
}

// @ts-ignore: decorator
@inline
function surrogateS(u: f32, kind: i32, a: f32, b: f32): f32 {
  if (kind == SURROGATE_FAST_SIGMOID) {
    const d = a * Mathf.abs(u) + 1;
    return 1 / (d * d);
  }
  const z = a * u;
  return b / (1 + z * z);
}

/**
 * `sgA`, `sgB`: slope and unused (fastSigmoid), or pi/2*alpha and alpha/2 (atan). `dMem` = 0 means none.
 * `staticInput`: dx is [N] = sum over t of dx_t. Blocked like the forward, time running backwards.
 */
export function lifBackward(
  tid: i32, nth: i32, wsBase: usize, wsStride: usize, steps: i32, n: i32, beta: f32, thr: f32, reset: i32,
  sgKind: i32, sgA: f32, sgB: f32, mem: usize, mem0: usize, dSpk: usize, dMem: usize, dx: usize, dMem0: usize,
  staticInput: bool,
): void {
  const n0 = shareStart(n, 16, tid, nth);
  const n1 = shareStart(n, 16, tid + 1, nth);
  const carry = wsBase + <usize>tid * wsStride;
  const sum = at(carry, BLOCK);
  const vb = f32x4.splat(beta);
  const vt = f32x4.splat(thr);
  const va = f32x4.splat(sgA);
  const vsb = f32x4.splat(sgB);
  const one = f32x4.splat(1);
  const zero = reset == RESET_ZERO;
  for (let b0 = n0; b0 < n1; b0 += BLOCK) {
    const len = min(BLOCK, n1 - b0);
    const len4 = len & ~3;
    memory.fill(carry, 0, <usize>len << 2);
    if (staticInput) memory.fill(sum, 0, <usize>len << 2);
    for (let t = steps - 1; t >= 0; t--) {
      const o = t * n + b0;
      const mr = at(mem, o);
      const dsr = at(dSpk, o);
      const dmr = dMem != 0 ? at(dMem, o) : 0;
      const dxr = at(dx, o);
      // r_t reads the previous membrane (zero reset only)
      const pr = t > 0 ? at(mem, o - n) : at(mem0, b0);
      let j = 0;
      for (; j < len4; j += 4) {
        const g = surrogateV(f32x4.sub(v128.load(at(mr, j)), vt), sgKind, va, vsb, one);
        let dm = f32x4.mul(v128.load(at(dsr, j)), g);
        if (dMem != 0) dm = f32x4.add(dm, v128.load(at(dmr, j)));
        dm = f32x4.add(dm, v128.load(at(carry, j)));
        if (staticInput) v128.store(at(sum, j), f32x4.add(v128.load(at(sum, j)), dm));
        else v128.store(at(dxr, j), dm);
        v128.store(
          at(carry, j),
          zero ? f32x4.mul(dm, v128.andnot(vb, f32x4.gt(v128.load(at(pr, j)), vt))) : f32x4.mul(dm, vb),
        );
      }
      for (; j < len; j++) {
        let dm = load<f32>(at(dsr, j)) * surrogateS(load<f32>(at(mr, j)) - thr, sgKind, sgA, sgB);
        if (dMem != 0) dm += load<f32>(at(dmr, j));
        dm += load<f32>(at(carry, j));
        if (staticInput) store<f32>(at(sum, j), load<f32>(at(sum, j)) + dm);
        else store<f32>(at(dxr, j), dm);
        store<f32>(at(carry, j), zero && load<f32>(at(pr, j)) > thr ? <f32>0 : dm * beta);
      }
    }
    memory.copy(at(dMem0, b0), carry, <usize>len << 2);
    if (staticInput) memory.copy(at(dx, b0), sum, <usize>len << 2);
  }
}
