import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from '../helpers/golden.js';
import { describe, expect, it } from 'vitest';
import type { Conv2dGeometry, LifArgs, Pool2dGeometry } from '../../src/backend/backend.js';
import { conv2dOutputSize, GeometryError, makeConv2dGeometry, makePool2dGeometry } from '../../src/backend/geometry.js';
import { KernelArgumentError, referenceBackend as ref, surrogateGrad } from '../../src/backend/reference/index.js';
import { Rng } from '../../src/tensor/random.js';

const rand = (rng: Rng, n: number, lo = -1, hi = 1): Float32Array =>
  Float32Array.from({ length: n }, () => rng.uniformRange(lo, hi));

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    // Equal values (infinities included) pass; NaN never does.
    const err = actual[i] === expected[i] ? 0 : Math.abs(actual[i]! - expected[i]!) - rtol * Math.abs(expected[i]!);
    if (!(err <= worst)) [worst, at] = [err, i]; // NaN counts as a failure
  }
  if (at >= 0 && !(worst <= atol)) {
    expect.fail(`index ${at}: got ${actual[at]}, expected ${expected[at]} (|err| beyond tolerance by ${worst - atol})`);
  }
}

describe('reference gemm', () => {
  // Naive triple loop straight from the contract, in float64.
  function naiveGemm(tA: boolean, tB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array) {
    const c = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++)
        for (let p = 0; p < k; p++) c[i * n + j]! += a[tA ? p * m + i : i * k + p]! * b[tB ? j * k + p : p * n + j]!;
    return c;
  }

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`matches the naive product (transA=${transA}, transB=${transB}), overwrite and accumulate with alpha`, () => {
        const rng = new Rng(11);
        for (const [m, n, k] of [
          [5, 7, 3],
          [1, 9, 13],
          [8, 1, 6],
          [3, 4, 0],
          [131, 5, 4],
        ] as const) {
          const a = rand(rng, m * k);
          const b = rand(rng, k * n);
          const want = naiveGemm(transA, transB, m, n, k, a, b);
          const c = rand(rng, m * n, 5, 6); // garbage that must be overwritten
          ref.gemm({ transA, transB, m, n, k, a, b, c, accumulate: false });
          expectClose(c, want, 1e-6);
          const c0 = rand(rng, m * n);
          const c1 = c0.slice();
          ref.gemm({ transA, transB, m, n, k, a, b, c: c1, accumulate: true, alpha: -0.5 });
          expectClose(
            c1,
            Array.from(want, (v, i) => c0[i]! - 0.5 * v),
            1e-6,
          );
        }
      });
    }
  }

  it('refuses a buffer that is too small', () => {
    const f = new Float32Array(6);
    expect(() =>
      ref.gemm({ transA: false, transB: false, m: 2, n: 3, k: 4, a: f, b: f, c: f, accumulate: false }),
    ).toThrow(KernelArgumentError);
  });
});

// Naive 7-loop convolution in float64 with bounds tests per tap: the formula the fast loops must reproduce.
function naiveConv(g: Conv2dGeometry, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null) {
  const out = new Float64Array(g.batch * g.outC * g.outH * g.outW);
  for (let b = 0; b < g.batch; b++)
    for (let oc = 0; oc < g.outC; oc++)
      for (let oh = 0; oh < g.outH; oh++)
        for (let ow = 0; ow < g.outW; ow++) {
          let s = bias ? bias[oc]! : 0;
          for (let ic = 0; ic < g.inC; ic++)
            for (let kh = 0; kh < g.kH; kh++)
              for (let kw = 0; kw < g.kW; kw++) {
                const ih = oh * g.strideH - g.padH + kh;
                const iw = ow * g.strideW - g.padW + kw;
                if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
                s += w[((oc * g.inC + ic) * g.kH + kh) * g.kW + kw]! * x[((b * g.inC + ic) * g.inH + ih) * g.inW + iw]!;
              }
          out[((b * g.outC + oc) * g.outH + oh) * g.outW + ow] = s;
        }
  return out;
}

const convCases = [
  { batch: 1, inC: 3, inH: 7, inW: 9, outC: 4, kernelSize: 3, stride: 2, padding: 1 },
  { batch: 1, inC: 2, inH: 5, inW: 6, outC: 3, kernelSize: [2, 3], stride: [2, 1], padding: [1, 2] },
  { batch: 2, inC: 1, inH: 11, inW: 7, outC: 2, kernelSize: 5, stride: 1, padding: 2 },
  { batch: 2, inC: 2, inH: 8, inW: 8, outC: 3, kernelSize: 5, stride: 1, padding: 0 },
  { batch: 1, inC: 2, inH: 6, inW: 5, outC: 2, kernelSize: [3, 2], stride: 3, padding: [2, 1] },
] as const;

describe('reference conv2d', () => {
  it('forward matches the naive 7-loop formula (stride, padding, with and without bias)', () => {
    const rng = new Rng(1);
    for (const c of convCases) {
      const g = makeConv2dGeometry(c);
      const x = rand(rng, g.batch * g.inC * g.inH * g.inW);
      const w = rand(rng, g.outC * g.inC * g.kH * g.kW);
      const bias = rand(rng, g.outC);
      const out = new Float32Array(g.batch * g.outC * g.outH * g.outW).fill(NaN);
      ref.conv2dForward(g, x, w, bias, out);
      expectClose(out, naiveConv(g, x, w, bias), 1e-6);
      ref.conv2dForward(g, x, w, null, out);
      expectClose(out, naiveConv(g, x, w, null), 1e-6);
    }
  });

  it('backward input and weight (+bias) match central finite differences of sum(out*R) in float64', () => {
    const rng = new Rng(2);
    const h = 1e-3;
    for (const c of convCases) {
      const g = makeConv2dGeometry(c);
      const x = Float64Array.from(rand(rng, g.batch * g.inC * g.inH * g.inW));
      const w = Float64Array.from(rand(rng, g.outC * g.inC * g.kH * g.kW));
      const bias = Float64Array.from(rand(rng, g.outC));
      const R = rand(rng, g.batch * g.outC * g.outH * g.outW);
      const objective = () => naiveConv(g, x, w, bias).reduce((s, v, i) => s + v * R[i]!, 0);
      const fd = (arr: Float64Array) =>
        Array.from(arr, (v, i) => {
          arr[i] = v + h;
          const up = objective();
          arr[i] = v - h;
          const down = objective();
          arr[i] = v;
          return (up - down) / (2 * h);
        });

      const dx = new Float32Array(x.length).fill(NaN);
      ref.conv2dBackwardInput(g, R, Float32Array.from(w), dx);
      expectClose(dx, fd(x), 1e-5);

      const dw = new Float32Array(w.length).fill(NaN);
      const dBias = new Float32Array(g.outC).fill(NaN);
      ref.conv2dBackwardWeight(g, Float32Array.from(x), R, dw, dBias, false);
      const wantW = fd(w);
      const wantB = fd(bias);
      expectClose(dw, wantW, 1e-5);
      expectClose(dBias, wantB, 1e-5);

      // accumulate adds into whatever is there (gradient accumulation across time chunks / batches).
      const dw0 = rand(rng, w.length);
      const dB0 = rand(rng, g.outC);
      const dwAcc = dw0.slice();
      const dBAcc = dB0.slice();
      ref.conv2dBackwardWeight(g, Float32Array.from(x), R, dwAcc, dBAcc, true);
      expectClose(
        dwAcc,
        wantW.map((v, i) => v + dw0[i]!),
        1e-5,
      );
      expectClose(
        dBAcc,
        wantB.map((v, i) => v + dB0[i]!),
        1e-5,
      );
      ref.conv2dBackwardWeight(g, Float32Array.from(x), R, dwAcc, null, false);
      expectClose(dwAcc, wantW, 1e-5);
    }
  });
});

describe('geometry builders', () => {
  it('compute PyTorch output sizes and defaults', () => {
    expect(conv2dOutputSize(28, 5, 1, 0)).toBe(24);
    expect(conv2dOutputSize(7, 3, 2, 1)).toBe(4);
    expect(conv2dOutputSize(12, 2, 2, 0)).toBe(6);
    const c = makeConv2dGeometry({ batch: 128, inC: 1, inH: 28, inW: 28, outC: 12, kernelSize: 5 });
    expect(c).toEqual({
      batch: 128,
      inC: 1,
      inH: 28,
      inW: 28,
      outC: 12,
      kH: 5,
      kW: 5,
      strideH: 1,
      strideW: 1,
      padH: 0,
      padW: 0,
      outH: 24,
      outW: 24,
    });
    const p = makePool2dGeometry({ batch: 2, channels: 12, inH: 24, inW: 24, kernelSize: 2 });
    expect([p.strideH, p.strideW, p.outH, p.outW]).toEqual([2, 2, 12, 12]);
    const q = makePool2dGeometry({
      batch: 1,
      channels: 1,
      inH: 7,
      inW: 6,
      kernelSize: [3, 2],
      stride: 2,
      padding: [1, 0],
    });
    expect([q.outH, q.outW]).toEqual([4, 3]);
  });

  it('reject impossible geometries with a GeometryError naming the field', () => {
    const base = { batch: 1, inC: 1, inH: 4, inW: 4, outC: 1 };
    expect(() => makeConv2dGeometry({ ...base, kernelSize: 5 })).toThrow(/kernel 5 does not fit input size 4/);
    expect(() => makeConv2dGeometry({ ...base, kernelSize: 3, stride: 0 })).toThrow(GeometryError);
    expect(() => makeConv2dGeometry({ ...base, kernelSize: 1.5 })).toThrow(/kernelSize/);
    expect(() => makePool2dGeometry({ batch: 1, channels: 1, inH: 4, inW: 4, kernelSize: 2, padding: 2 })).toThrow(
      /at most half/,
    );
  });
});

// Naive pooling: every window position, padding -Infinity for max (first strict maximum wins) and 0 for average.
function naivePool(g: Pool2dGeometry, x: ArrayLike<number>, mode: 'max' | 'avg') {
  const n = g.batch * g.channels * g.outH * g.outW;
  const out = new Float64Array(n);
  const arg = new Int32Array(n);
  for (let pl = 0; pl < g.batch * g.channels; pl++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++) {
        let best = -Infinity;
        let at = -1;
        let sum = 0;
        for (let kh = 0; kh < g.kH; kh++)
          for (let kw = 0; kw < g.kW; kw++) {
            const ih = oh * g.strideH - g.padH + kh;
            const iw = ow * g.strideW - g.padW + kw;
            const inside = ih >= 0 && ih < g.inH && iw >= 0 && iw < g.inW;
            const v = inside ? x[(pl * g.inH + ih) * g.inW + iw]! : mode === 'max' ? -Infinity : 0;
            sum += v;
            if (inside && (at < 0 || v > best)) [best, at] = [v, ih * g.inW + iw];
          }
        const o = (pl * g.outH + oh) * g.outW + ow;
        out[o] = mode === 'max' ? best : sum / (g.kH * g.kW);
        arg[o] = at;
      }
  return { out, arg };
}

describe('reference maxPool2d', () => {
  it('all-zero input: every argmax is the window start (first maximum in row-major order)', () => {
    const g = makePool2dGeometry({ batch: 2, channels: 3, inH: 6, inW: 6, kernelSize: 2 });
    const out = new Float32Array(2 * 3 * 9).fill(NaN);
    const arg = new Int32Array(out.length);
    ref.maxPool2dForward(g, new Float32Array(2 * 3 * 36), out, arg);
    expect(Array.from(out).every((v) => v === 0)).toBe(true);
    for (let o = 0; o < out.length; o++) {
      const r = o % 9;
      expect(arg[o]).toBe(Math.floor(r / 3) * 2 * 6 + (r % 3) * 2);
    }
  });

  it('matches the naive rule on 0/1 spike maps and random data, with padding and overlapping windows', () => {
    const rng = new Rng(3);
    const cases = [
      { batch: 2, channels: 3, inH: 8, inW: 8, kernelSize: 2 },
      { batch: 1, channels: 2, inH: 7, inW: 9, kernelSize: 3, stride: 2, padding: 1 },
      { batch: 1, channels: 1, inH: 5, inW: 6, kernelSize: [2, 3], stride: [1, 2], padding: [1, 1] },
    ] as const;
    for (const c of cases) {
      const g = makePool2dGeometry(c);
      const size = g.batch * g.channels * g.inH * g.inW;
      for (const x of [
        Float32Array.from({ length: size }, () => (rng.uniform() < 0.2 ? 1 : 0)),
        rand(rng, size, -3, -1),
      ]) {
        const out = new Float32Array(g.batch * g.channels * g.outH * g.outW);
        const arg = new Int32Array(out.length);
        ref.maxPool2dForward(g, x, out, arg);
        const want = naivePool(g, x, 'max');
        expect(Array.from(arg)).toEqual(Array.from(want.arg));
        expectClose(out, want.out, 0); // negative inputs: the -Infinity padding must never win
      }
    }
  });

  it('backward zeroes dx and accumulates where overlapping windows share an argmax (kernel 3, stride 2)', () => {
    // 1x1x3x5 input with its maximum in the middle column: windows at ow=0 and ow=1 both pick index 2.
    const g = makePool2dGeometry({ batch: 1, channels: 1, inH: 3, inW: 5, kernelSize: 3, stride: 2 });
    const x = Float32Array.from([0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const out = new Float32Array(2);
    const arg = new Int32Array(2);
    ref.maxPool2dForward(g, x, out, arg);
    expect(Array.from(arg)).toEqual([2, 2]);
    const dx = new Float32Array(15).fill(7);
    ref.maxPool2dBackward(g, Float32Array.from([0.25, 0.5]), arg, dx);
    expect(Array.from(dx)).toEqual([0, 0, 0.75, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('reference spikeConv2dPoolForward', () => {
  it('is conv2dForward then maxPool2dForward (argmax in the conv-output plane), and refuses a pool of another shape', () => {
    const rng = new Rng(6);
    const conv = makeConv2dGeometry({ batch: 2, inC: 3, inH: 9, inW: 8, outC: 4, kernelSize: 3, padding: 1 });
    const pool = makePool2dGeometry({ batch: 2, channels: 4, inH: 9, inW: 8, kernelSize: 3, stride: 2, padding: 1 });
    const x = Float32Array.from({ length: 2 * 3 * 72 }, () => (rng.uniform() < 0.2 ? 1 : 0));
    const w = rand(rng, 4 * 3 * 9);
    const bias = rand(rng, 4);
    const convOut = new Float32Array(2 * 4 * 72);
    ref.conv2dForward(conv, x, w, bias, convOut);
    const pooled = 2 * 4 * pool.outH * pool.outW;
    const [outWant, outGot] = [new Float32Array(pooled), new Float32Array(pooled).fill(7)];
    const [argWant, argGot] = [new Int32Array(pooled), new Int32Array(pooled).fill(-7)];
    ref.maxPool2dForward(pool, convOut, outWant, argWant);
    ref.spikeConv2dPoolForward(conv, pool, x, w, bias, outGot, argGot);
    expect(Array.from(outGot)).toEqual(Array.from(outWant));
    expect(Array.from(argGot)).toEqual(Array.from(argWant));
    const other = makePool2dGeometry({ batch: 2, channels: 4, inH: 8, inW: 8, kernelSize: 2 });
    expect(() => ref.spikeConv2dPoolForward(conv, other, x, w, bias, outGot, argGot)).toThrow(KernelArgumentError);
    expect(() => ref.spikeConv2dPoolForward(conv, other, x, w, bias, outGot, argGot)).toThrow(/pool must read/);
  });
});

describe('reference avgPool2d', () => {
  it('forward counts the padding in the divisor; backward matches finite differences', () => {
    const rng = new Rng(4);
    for (const c of [
      { batch: 2, channels: 2, inH: 6, inW: 6, kernelSize: 2 },
      { batch: 1, channels: 2, inH: 7, inW: 5, kernelSize: 3, stride: 2, padding: 1 },
    ] as const) {
      const g = makePool2dGeometry(c);
      const x = rand(rng, g.batch * g.channels * g.inH * g.inW);
      const out = new Float32Array(g.batch * g.channels * g.outH * g.outW);
      ref.avgPool2dForward(g, x, out);
      expectClose(out, naivePool(g, x, 'avg').out, 1e-6);

      const R = rand(rng, out.length);
      const dx = new Float32Array(x.length).fill(NaN);
      ref.avgPool2dBackward(g, R, dx);
      const x64 = Float64Array.from(x);
      const objective = () => naivePool(g, x64, 'avg').out.reduce((s, v, i) => s + v * R[i]!, 0);
      const fd = Array.from(x64, (v, i) => {
        x64[i] = v + 0.5;
        const up = objective();
        x64[i] = v - 0.5;
        const down = objective();
        x64[i] = v;
        return up - down;
      });
      expectClose(dx, fd, 1e-5);
    }
    // A corner window of kernel 3, padding 1 covers 4 real inputs but divides by 9.
    const g = makePool2dGeometry({ batch: 1, channels: 1, inH: 3, inW: 3, kernelSize: 3, stride: 2, padding: 1 });
    const out = new Float32Array(4);
    ref.avgPool2dForward(g, new Float32Array(9).fill(1), out);
    expectClose(out, [4 / 9, 4 / 9, 4 / 9, 4 / 9], 1e-7);
  });
});

describe('reference logSoftmax', () => {
  it('matches the naive formula and stays finite for large logits', () => {
    const rng = new Rng(5);
    const x = rand(rng, 4 * 10, -5, 5);
    const out = new Float32Array(40);
    ref.logSoftmax(4, 10, x, out);
    const want = Array.from(x, (v, i) => {
      const row = x.subarray(Math.floor(i / 10) * 10, Math.floor(i / 10) * 10 + 10);
      return Math.log(Math.exp(v) / row.reduce((s, u) => s + Math.exp(u), 0));
    });
    expectClose(out, want, 1e-6);
    const big = Float32Array.from([1000, 1001, -Infinity]);
    ref.logSoftmax(1, 3, big, big); // in place
    expectClose(big, [-Math.log1p(Math.E), 1 - Math.log1p(Math.E), -Infinity], 1e-6);
  });
});

const fastSigmoid25 = { kind: 'fastSigmoid', slope: 25 } as const;
const atan2 = { kind: 'atan', alpha: 2 } as const;
const resets = ['subtract', 'zero', 'none'] as const;

describe('reference LIF', () => {
  it('forward matches a naive per-neuron step loop for all three reset modes', () => {
    const rng = new Rng(6);
    const [T, N] = [30, 17];
    const x = rand(rng, T * N, -0.5, 1.5);
    const mem0 = rand(rng, N, -1, 2);
    for (const reset of resets) {
      const p: LifArgs = { steps: T, neurons: N, beta: 0.8, threshold: 0.7, reset, surrogate: atan2 };
      const spk = new Float32Array(T * N);
      const mem = new Float32Array(T * N);
      ref.lifForward(p, x, mem0, spk, mem);
      for (let n = 0; n < N; n++) {
        let m = mem0[n]!;
        for (let t = 0; t < T; t++) {
          const r = m - 0.7 > 0 ? 1 : 0;
          const xt = x[t * N + n]!;
          m = reset === 'subtract' ? 0.8 * m + xt - r * 0.7 : reset === 'zero' ? 0.8 * (1 - r) * m + xt : 0.8 * m + xt;
          expect(Math.abs(mem[t * N + n]! - m)).toBeLessThan(1e-5);
          expect(spk[t * N + n]).toBe(m - 0.7 > 0 ? 1 : 0);
        }
      }
    }
  });

  it('a membrane exactly at threshold does not fire (H(u) = u > 0)', () => {
    const p: LifArgs = { steps: 2, neurons: 1, beta: 0.5, threshold: 1, reset: 'subtract', surrogate: atan2 };
    const spk = new Float32Array(2);
    const mem = new Float32Array(2);
    ref.lifForward(p, Float32Array.from([1, 0.5]), new Float32Array(1), spk, mem);
    expect(Array.from(mem)).toEqual([1, 1]);
    expect(Array.from(spk)).toEqual([0, 0]);
  });

  it('backward equals the unrolled BPTT sum over paths, dMem0 included', () => {
    // dL/dx_t = sum_{s>=t} g_s * prod_{k=t+1..s} a_k, dL/dmem0 = sum_s g_s * prod_{k=0..s} a_k, where
    // g_s = dSpk_s*surrogate'(m_s - thr) + dMem_s and a_k = dm_k/dm_{k-1} = beta, or beta*(1 - r_k) for zero.
    const rng = new Rng(7);
    const [T, N] = [12, 9];
    for (const reset of resets) {
      for (const surrogate of [fastSigmoid25, atan2]) {
        const p: LifArgs = { steps: T, neurons: N, beta: 0.6, threshold: 0.9, reset, surrogate };
        const x = rand(rng, T * N, -0.5, 1.5);
        const mem0 = rand(rng, N, 0, 2);
        const spk = new Float32Array(T * N);
        const mem = new Float32Array(T * N);
        ref.lifForward(p, x, mem0, spk, mem);
        const dSpk = rand(rng, T * N);
        for (const dMem of [null, rand(rng, T * N)]) {
          const dx = new Float32Array(T * N);
          const dMem0 = new Float32Array(N);
          ref.lifBackward(p, mem, mem0, dSpk, dMem, dx, dMem0);
          const sg = surrogateGrad(surrogate);
          const g = (s: number, n: number) =>
            dSpk[s * N + n]! * sg(mem[s * N + n]! - 0.9) + (dMem ? dMem[s * N + n]! : 0);
          const a = (k: number, n: number) =>
            reset === 'zero' && (k === 0 ? mem0[n]! : mem[(k - 1) * N + n]!) > 0.9 ? 0 : 0.6;
          const pathSum = (t: number, n: number) => {
            let total = 0;
            for (let s = t; s < T; s++) {
              let prod = 1;
              for (let k = t + 1; k <= s; k++) prod *= a(k, n);
              total += g(s, n) * prod;
            }
            return total;
          };
          expectClose(
            dx,
            Array.from(dx, (_, i) => pathSum(Math.floor(i / N), i % N)),
            1e-5,
            1e-5,
          );
          expectClose(
            dMem0,
            Array.from(dMem0, (_, n) => a(0, n) * pathSum(0, n)),
            1e-5,
            1e-5,
          );
        }
      }
    }
  });

  it('a static input is the input repeated at every step, and its gradient is the sum over time', () => {
    const rng = new Rng(8);
    const [T, N] = [7, 5];
    for (const reset of resets) {
      const p: LifArgs = { steps: T, neurons: N, beta: 0.6, threshold: 0.9, reset, surrogate: fastSigmoid25 };
      const xs = rand(rng, N, -0.5, 1.5);
      const repeated = new Float32Array(T * N);
      for (let t = 0; t < T; t++) repeated.set(xs, t * N);
      const mem0 = rand(rng, N, 0, 2);
      const [spk, mem, spkS, memS] = [0, 1, 2, 3].map(() => new Float32Array(T * N)) as Float32Array[];
      ref.lifForward(p, repeated, mem0, spk!, mem!);
      ref.lifForward({ ...p, staticInput: true }, xs, mem0, spkS!, memS!);
      expect(spkS).toEqual(spk);
      expect(memS).toEqual(mem);
      const unrecorded = new Float32Array(T * N);
      ref.lifForward({ ...p, staticInput: true }, xs, mem0, unrecorded, null);
      expect(unrecorded).toEqual(spk);
      const dSpk = rand(rng, T * N);
      const [dx, d0, sum, d0S] = [
        new Float32Array(T * N),
        new Float32Array(N),
        new Float32Array(N),
        new Float32Array(N),
      ];
      ref.lifBackward(p, mem!, mem0, dSpk, null, dx, d0);
      ref.lifBackward({ ...p, staticInput: true }, mem!, mem0, dSpk, null, sum, d0S);
      expectClose(
        sum,
        Array.from(sum, (_, n) => Array.from({ length: T }, (_, t) => dx[t * N + n]!).reduce((a, b) => a + b)),
        1e-6,
        1e-6,
      );
      expect(d0S).toEqual(d0);
    }
  });

  it('backward on a hand-derived two-step example (subtract, fast sigmoid)', () => {
    // m0 = 1.5 (fires), m1 = 0.5*1.5 + 0.2 - 1 = -0.05; dL = sum(spk) so g_t = 1/(25|m_t - 1| + 1)^2.
    const p: LifArgs = { steps: 2, neurons: 1, beta: 0.5, threshold: 1, reset: 'subtract', surrogate: fastSigmoid25 };
    const spk = new Float32Array(2);
    const mem = new Float32Array(2);
    ref.lifForward(p, Float32Array.from([1.5, 0.2]), new Float32Array(1), spk, mem);
    expect(Array.from(spk)).toEqual([1, 0]);
    const dx = new Float32Array(2);
    const dMem0 = new Float32Array(1);
    ref.lifBackward(p, mem, new Float32Array(1), Float32Array.from([1, 1]), null, dx, dMem0);
    const g1 = 1 / (25 * 1.05 + 1) ** 2;
    const g0 = 1 / (25 * 0.5 + 1) ** 2;
    expectClose(dx, [g0 + 0.5 * g1, g1], 1e-7, 1e-5);
    expectClose(dMem0, [0.5 * (g0 + 0.5 * g1)], 1e-7, 1e-5);
  });

  const goldenPath = join(sharedDir, 'golden', 'leaky.json');
  it.skipIf(!existsSync(goldenPath))(
    'matches snnTorch 0.9.4 Leaky golden vectors (spk and mem bit-exact, input grad 1e-4)',
    () => {
      const golden = JSON.parse(readFileSync(goldenPath, 'utf8'));
      const flat = (v: unknown): number[] => (v as number[]).flat(3);
      const input = Float32Array.from(flat(golden.input));
      const [T, N] = [golden.T as number, input.length / golden.T];
      const cases = [
        ...golden.cases.map((c: object) => ({ ...c, surrogate: atan2 })),
        ...golden.extra_cases
          .filter((c: { name: string }) => c.name === 'fast_sigmoid_slope25')
          .map((c: object) => ({ ...c, surrogate: fastSigmoid25 })),
      ];
      expect(cases.length).toBe(13);
      for (const c of cases) {
        const p: LifArgs = {
          steps: T,
          neurons: N,
          beta: c.beta,
          threshold: c.threshold,
          reset: c.reset_mechanism,
          surrogate: c.surrogate,
        };
        const spk = new Float32Array(T * N);
        const mem = new Float32Array(T * N);
        ref.lifForward(p, input, new Float32Array(N), spk, mem);
        expect(Array.from(spk)).toEqual(flat(c.spk));
        expectClose(mem, flat(c.mem), 0);
        // objective sum(mem) + sum(spk): dSpk = dMem = 1.
        const dx = new Float32Array(T * N);
        ref.lifBackward(
          p,
          mem,
          new Float32Array(N),
          new Float32Array(T * N).fill(1),
          new Float32Array(T * N).fill(1),
          dx,
          new Float32Array(N),
        );
        expectClose(dx, flat(c.grad_input), 1e-4, 1e-5);
      }
      for (const reset of ['subtract', 'zero'] as const) {
        const e = golden.edge_case;
        const T7 = e.input.length;
        const p: LifArgs = { steps: T7, neurons: 1, beta: e.beta, threshold: e.threshold, reset, surrogate: atan2 };
        const spk = new Float32Array(T7);
        const mem = new Float32Array(T7);
        ref.lifForward(p, Float32Array.from(flat(e.input)), new Float32Array(1), spk, mem);
        expect(Array.from(spk)).toEqual(flat(e[reset].spk));
        expectClose(mem, flat(e[reset].mem), 0);
      }
    },
  );
});

describe('reference adamStep', () => {
  const base = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false };

  const networkPath = join(sharedDir, 'golden', 'network.json');
  it.skipIf(!existsSync(networkPath))(
    'reproduces PyTorch 1.13 parameters after one step bit for bit (golden network)',
    () => {
      const golden = JSON.parse(readFileSync(networkPath, 'utf8'));
      const f32 = (o: { b64: string }) => {
        const bytes = Buffer.from(o.b64, 'base64');
        return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      };
      const c = golden.snn_cases.snn_init_seed0_T10;
      const names = Object.keys(c.grads);
      expect(names.length).toBe(6);
      for (const name of names) {
        const param = f32(golden.weight_sets.init_seed0.weights[name]);
        const [m, v] = [new Float32Array(param.length), new Float32Array(param.length)];
        ref.adamStep({ ...base, lr: 1e-2, step: 1 }, param, f32(c.grads[name]), m, v, null);
        expect(Array.from(param)).toEqual(Array.from(f32(c['params_after_one_adam_step_lr1e-2'][name])));
      }
    },
  );

  it('two steps by hand (PyTorch 1.13 formula, bias-corrected), grad left untouched', () => {
    const param = Float32Array.from([1, -2]);
    const m = new Float32Array(2);
    const v = new Float32Array(2);
    const grad1 = Float32Array.from([0.5, -1]);
    ref.adamStep({ ...base, step: 1 }, param, grad1, m, v, null);
    // m = 0.1*g = [0.05, -0.1]; v = 0.001*g^2 = [0.00025, 0.001]; step size 0.1/0.1 = 1; sqrt(v/0.001) = [0.5, 1].
    expectClose(grad1, [0.5, -1], 0);
    expectClose(m, [0.05, -0.1], 0, 1e-6);
    expectClose(v, [0.00025, 0.001], 0, 1e-6);
    expectClose(param, [1 - 0.05 / (0.5 + 1e-8), -2 + 0.1 / (1 + 1e-8)], 1e-6);
    ref.adamStep({ ...base, step: 2 }, param, Float32Array.from([0.1, 0.3]), m, v, null);
    // m = [0.045 + 0.01, -0.09 + 0.03]; v = [0.00024975 + 0.00001, 0.000999 + 0.00009];
    // step size 0.1/(1 - 0.81); bias_correction2 = 1 - 0.998001.
    expectClose(m, [0.055, -0.06], 0, 1e-6);
    expectClose(v, [0.00025975, 0.001089], 0, 1e-6);
    const step = 0.1 / 0.19;
    const denom = (vi: number) => Math.sqrt(vi) / Math.sqrt(0.001999) + 1e-8;
    expectClose(param, [0.9 - (step * 0.055) / denom(0.00025975), -1.9 + (step * 0.06) / denom(0.001089)], 1e-6);
  });

  it('weight decay is added to the gradient; amsgrad keeps the running maximum of v', () => {
    const param = Float32Array.from([2]);
    const m = new Float32Array(1);
    const v = new Float32Array(1);
    ref.adamStep({ ...base, weightDecay: 0.5, step: 1 }, param, Float32Array.from([1]), m, v, null);
    // g = 1 + 0.5*2 = 2: m = 0.2, v = 0.004, update = 1 * 0.2 / (sqrt(4) + eps).
    expectClose(m, [0.2], 0, 1e-6);
    expectClose(v, [0.004], 0, 1e-6);
    expectClose(param, [2 - 0.2 / (2 + 1e-8)], 1e-6);

    const pa = Float32Array.from([1]);
    const [ma, va, vMax] = [new Float32Array(1), new Float32Array(1), new Float32Array(1)];
    ref.adamStep({ ...base, amsgrad: true, step: 1 }, pa, Float32Array.from([1]), ma, va, vMax);
    expectClose(vMax, [0.001], 0, 1e-6);
    ref.adamStep({ ...base, amsgrad: true, step: 2 }, pa, Float32Array.from([0]), ma, va, vMax);
    // v decays to 0.000999 but vMax stays 0.001; m = 0.09; param = 0.9 - (0.1/0.19)*0.09/(sqrt(0.001/0.001999) + eps).
    expectClose(va, [0.000999], 0, 1e-6);
    expectClose(vMax, [0.001], 0, 1e-6);
    expectClose(pa, [0.9 - ((0.1 / 0.19) * 0.09) / (Math.sqrt(0.001 / 0.001999) + 1e-8)], 1e-6);
    expect(() => ref.adamStep({ ...base, amsgrad: true, step: 1 }, pa, pa, ma, va, null)).toThrow(/vMax/);
  });
});
