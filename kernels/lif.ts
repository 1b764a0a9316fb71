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
// Neurons are split across threads in groups of 4 (one f32x4 lane each); time runs inside the kernel.
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

/** `xStep`: n for an input [T, N], 0 for a static input [N]. */
export function lifForward(
  tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, steps: i32, n: i32, beta: f32, thr: f32, reset: i32,
  x: usize, xStep: i32, mem0: usize, spk: usize, mem: usize,
): void {
  const n0 = shareStart(n, 16, tid, nth);
  const n1 = shareStart(n, 16, tid + 1, nth);
  const vb = f32x4.splat(beta);
  const vt = f32x4.splat(thr);
  const one = f32x4.splat(1);
  let i = n0;
  // 16 neurons (one cache line of each array) per pass over time.
  for (; i + 16 <= n1; i += 16) {
    let p0 = v128.load(at(mem0, i));
    let p1 = v128.load(at(mem0, i), 16);
    let p2 = v128.load(at(mem0, i), 32);
    let p3 = v128.load(at(mem0, i), 48);
    for (let t = 0; t < steps; t++) {
      const o = t * n + i;
      const xp = at(x, t * xStep + i);
      const sp = at(spk, o);
      p0 = stepV(p0, v128.load(xp), vb, vt, reset);
      p1 = stepV(p1, v128.load(xp, 16), vb, vt, reset);
      p2 = stepV(p2, v128.load(xp, 32), vb, vt, reset);
      p3 = stepV(p3, v128.load(xp, 48), vb, vt, reset);
      if (mem != 0) {
        const mp = at(mem, o);
        v128.store(mp, p0);
        v128.store(mp, p1, 16);
        v128.store(mp, p2, 32);
        v128.store(mp, p3, 48);
      }
      v128.store(sp, v128.and(f32x4.gt(p0, vt), one));
      v128.store(sp, v128.and(f32x4.gt(p1, vt), one), 16);
      v128.store(sp, v128.and(f32x4.gt(p2, vt), one), 32);
      v128.store(sp, v128.and(f32x4.gt(p3, vt), one), 48);
    }
  }
  for (; i + 4 <= n1; i += 4) {
    let prev = v128.load(at(mem0, i));
    for (let t = 0; t < steps; t++) {
      const o = t * n + i;
      const m = stepV(prev, v128.load(at(x, t * xStep + i)), vb, vt, reset);
      if (mem != 0) v128.store(at(mem, o), m);
      v128.store(at(spk, o), v128.and(f32x4.gt(m, vt), one));
      prev = m;
    }
  }
  for (; i < n1; i++) {
    let prev = load<f32>(at(mem0, i));
    for (let t = 0; t < steps; t++) {
      const o = t * n + i;
      const m = stepS(prev, load<f32>(at(x, t * xStep + i)), beta, thr, reset);
      if (mem != 0) store<f32>(at(mem, o), m);
      store<f32>(at(spk, o), m > thr ? 1 : 0);
      prev = m;
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
 * `staticInput`: dx is [N] = sum over t of dx_t.
 */
export function lifBackward(
  tid: i32, nth: i32, _wsBase: usize, _wsStride: usize, steps: i32, n: i32, beta: f32, thr: f32, reset: i32,
  sgKind: i32, sgA: f32, sgB: f32, mem: usize, mem0: usize, dSpk: usize, dMem: usize, dx: usize, dMem0: usize,
  staticInput: bool,
): void {
  const n0 = shareStart(n, 4, tid, nth);
  const n1 = shareStart(n, 4, tid + 1, nth);
  const vb = f32x4.splat(beta);
  const vt = f32x4.splat(thr);
  const va = f32x4.splat(sgA);
  const vsb = f32x4.splat(sgB);
  const one = f32x4.splat(1);
  const zero = reset == RESET_ZERO;
  let i = n0;
  for (; i + 4 <= n1; i += 4) {
    let carry = f32x4.splat(0);
    let sum = f32x4.splat(0);
    for (let t = steps - 1; t >= 0; t--) {
      const o = t * n + i;
      const m = v128.load(at(mem, o));
      const g = surrogateV(f32x4.sub(m, vt), sgKind, va, vsb, one);
      let dm = f32x4.mul(v128.load(at(dSpk, o)), g);
      if (dMem != 0) dm = f32x4.add(dm, v128.load(at(dMem, o)));
      dm = f32x4.add(dm, carry);
      if (staticInput) sum = f32x4.add(sum, dm);
      else v128.store(at(dx, o), dm);
      const prev = t > 0 ? v128.load(at(mem, o - n)) : v128.load(at(mem0, i));
      carry = zero ? f32x4.mul(dm, v128.andnot(vb, f32x4.gt(prev, vt))) : f32x4.mul(dm, vb);
    }
    if (staticInput) v128.store(at(dx, i), sum);
    v128.store(at(dMem0, i), carry);
  }
  for (; i < n1; i++) {
    let carry: f32 = 0;
    let sum: f32 = 0;
    for (let t = steps - 1; t >= 0; t--) {
      const o = t * n + i;
      const m = load<f32>(at(mem, o));
      let dm = load<f32>(at(dSpk, o)) * surrogateS(m - thr, sgKind, sgA, sgB);
      if (dMem != 0) dm += load<f32>(at(dMem, o));
      dm += carry;
      if (staticInput) sum += dm;
      else store<f32>(at(dx, o), dm);
      const prev = t > 0 ? load<f32>(at(mem, o - n)) : load<f32>(at(mem0, i));
      carry = zero && prev > thr ? <f32>0 : dm * beta;
    }
    if (staticInput) store<f32>(at(dx, i), sum);
    store<f32>(at(dMem0, i), carry);
  }
}
