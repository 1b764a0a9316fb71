// Weighted sums of rows over an entry list, the inner loop of the pool-fed conv kernels (./pool-conv.ts,
// ./pool-conv-weight.ts). An entry is 8 bytes: (u32 byte address of a row, f32 weight s). For vectors
// [v0, v0 + n) of the rows,
//   dst[i] += sum over the entries e of s_e * row_e[v0 + i]          i < n
// is summed in n <= 7 f32x4 registers and each register is added to its destination once (instead of a load and a
// store per multiply-add). Seven is what TurboFan keeps in registers: it issues the seven loads of an entry before
// its multiply-adds, so 7 sums + 7 loaded vectors + the broadcast weight take 15 of the 16 xmm registers (8 measured slower).
// Entries are summed in list order.
import { at } from './gemm';
import { madd } from './simd';

/** Vectors one pass sums in registers. */
export const PASS: i32 = 7;

/** d += v (one f32x4 at byte address d). */
// @ts-ignore: decorator
@inline
function addTo(d: usize, v: v128): void {
  v128.store(d, f32x4.add(v128.load(d), v));
}

/**
 * One pass of n vectors (n and `scattered` constants where inlined), rows read at entry address + w0: the sums go
 * to dst + 16i, or with `scattered` to dst + offs[i] (u32 byte offsets).
 */
// @ts-ignore: decorator
@inline
function pass(n: i32, e0: usize, e1: usize, w0: usize, dst: usize, offs: usize, scattered: bool): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0);
  for (let e = e0; e < e1; e += 8) {
    const src = <usize>load<u32>(e) + w0;
    const s = v128.load32_splat(e, 4);
    a0 = madd(s, v128.load(src), a0);
    if (n > 1) a1 = madd(s, v128.load(src, 16), a1);
    if (n > 2) a2 = madd(s, v128.load(src, 32), a2);
    if (n > 3) a3 = madd(s, v128.load(src, 48), a3);
    if (n > 4) a4 = madd(s, v128.load(src, 64), a4);
    if (n > 5) a5 = madd(s, v128.load(src, 80), a5);
    if (n > 6) a6 = madd(s, v128.load(src, 96), a6);
  }
  addTo(scattered ? dst + <usize>load<u32>(offs) : dst, a0);
  if (n > 1) addTo(scattered ? dst + <usize>load<u32>(offs, 4) : dst + 16, a1);
  if (n > 2) addTo(scattered ? dst + <usize>load<u32>(offs, 8) : dst + 32, a2);
  if (n > 3) addTo(scattered ? dst + <usize>load<u32>(offs, 12) : dst + 48, a3);
  if (n > 4) addTo(scattered ? dst + <usize>load<u32>(offs, 16) : dst + 64, a4);
  if (n > 5) addTo(scattered ? dst + <usize>load<u32>(offs, 20) : dst + 80, a5);
  if (n > 6) addTo(scattered ? dst + <usize>load<u32>(offs, 24) : dst + 96, a6);
}

/**
 * Vectors [v, v + n) (n, `grouped` constants where inlined). Plain: one list [e0, e1), rows read at entry address
 * + w0, sums to dst + 16i. Grouped: for every group g < groups, the entries [starts[g], starts[g+1]) of `entries`,
 * sums to dst + corners[g] + offs[i].
 */
// @ts-ignore: decorator
@inline
function stripe(
  n: i32, v: i32, grouped: bool, e0: usize, e1: usize, w0: usize, dst: usize,
  entries: usize, starts: usize, corners: usize, groups: i32, offs: usize,
): void {
  const vb = <usize>v << 4;
  if (!grouped) {
    pass(n, e0, e1, w0 + vb, dst + vb, 0, false);
    return;
  }
  for (let g = 0; g < groups; g++) {
    const s = load<i32>(at(starts, g));
    const e = load<i32>(at(starts, g + 1));
    if (s == e) continue;
    const first = entries + (<usize>s << 3);
    const end = entries + (<usize>e << 3);
    pass(n, first, end, vb, dst + <usize>load<u32>(at(corners, g)), at(offs, v), true);
  }
}

/** All `vecs` vectors, stripe by stripe: stripes of PASS, then one stripe for the rest. */
// @ts-ignore: decorator
@inline
function stripes(
  vecs: i32, grouped: bool, e0: usize, e1: usize, w0: usize, dst: usize,
  entries: usize, starts: usize, corners: usize, groups: i32, offs: usize,
): void {
  let v = 0;
  for (; v + PASS <= vecs; v += PASS) stripe(PASS, v, grouped, e0, e1, w0, dst, entries, starts, corners, groups, offs);
  switch (vecs - v) {
    case 6: stripe(6, v, grouped, e0, e1, w0, dst, entries, starts, corners, groups, offs); break;
    case 5: stripe(5, v, grouped, e0, e1, w0, dst, entries, starts, corners, groups, offs); break;
    case 4: stripe(4, v, grouped, e0, e1, w0, dst, entries, starts, corners, groups, offs); break;
    case 3: stripe(3, v, grouped, e0, e1, w0, dst, entries, starts, corners, groups, offs); break;
    case 2: stripe(2, v, grouped, e0, e1, w0, dst, entries, starts, corners, groups, offs); break;
    case 1: stripe(1, v, grouped, e0, e1, w0, dst, entries, starts, corners, groups, offs); break;
    default:
  }
}

/** dst[i] += sum over [e0, e1) of s_e * row_e[i] for i < vecs (rows read at entry address + w0). */
export function sumRows(e0: usize, e1: usize, w0: usize, vecs: i32, dst: usize): void {
  stripes(vecs, false, e0, e1, w0, dst, 0, 0, 0, 0, 0);
}

/**
 * For every group g < groups, its entries [starts[g], starts[g+1]) summed (as sumRows does) with vector i going to
 * dst + corners[g] + offs[i], stripe by stripe: all groups sum vectors [0, PASS) of their rows, then all
 * [PASS, 2 PASS), ... so that while a stripe runs only its slice of the rows is read (the rows of all groups
 * together can be larger than L1; one slice is not). Each destination vector gets its groups' sums in increasing g.
 */
export function sumStripesScattered(
  entries: usize, starts: usize, corners: usize, groups: i32, vecs: i32, dst: usize, offs: usize,
): void {
  stripes(vecs, true, 0, 0, 0, dst, entries, starts, corners, groups, offs);
}
