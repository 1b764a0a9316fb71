// The machine's fused multiply-add peak as wasm sees it: 8 independent f32x4 chains, no memory traffic. Benchmarks
// divide a kernel's rate by this one's (measured in the same run) to report an efficiency that means something on
// a shared, loaded machine where absolute rates drift. Returns a value so the loop cannot be optimised away.
import { madd } from './simd';

export function fmaPeak(iterations: i32, x: f32): f32 {
  let a0 = f32x4.splat(x), a1 = f32x4.splat(x + 1), a2 = f32x4.splat(x + 2), a3 = f32x4.splat(x + 3);
  let a4 = f32x4.splat(x + 4), a5 = f32x4.splat(x + 5), a6 = f32x4.splat(x + 6), a7 = f32x4.splat(x + 7);
  const m = f32x4.splat(0.999);
  const c = f32x4.splat(0.001);
  for (let i = 0; i < iterations; i++) {
    a0 = madd(a0, m, c);
    a1 = madd(a1, m, c);
    a2 = madd(a2, m, c);
    a3 = madd(a3, m, c);
    a4 = madd(a4, m, c);
    a5 = madd(a5, m, c);
    a6 = madd(a6, m, c);
    a7 = madd(a7, m, c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0);
}
