import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conv2dGeometry, FusedSurrogate, LifArgs, Pool2dGeometry } from '../../src/backend/backend.js';
import { makeConv2dGeometry, makePool2dGeometry } from '../../src/backend/geometry.js';
import { KernelArgumentError, referenceBackend as ref } from '../../src/backend/reference/index.js';
import { createWasmBackend, type Ptr, type WasmBackend, type WasmEngine } from '../../src/backend/wasm/index.js';
import { Rng } from '../../src/tensor/random.js';
import { relL2 } from '../helpers/numeric.js';

const rand = (rng: Rng, n: number, lo = -1, hi = 1): Float32Array =>
  Float32Array.from({ length: n }, () => rng.uniformRange(lo, hi));
const spikes = (rng: Rng, n: number, density: number): Float32Array =>
  Float32Array.from({ length: n }, () => (rng.uniform() < density ? 1 : 0));

/** |actual - expected| <= atol + rtol*|expected| everywhere; equal values (infinities) and NaN for NaN pass. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) expect.fail(`index ${i}: got ${a}, expected ${e}`);
  }
}

function expectEqual(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]) && actual[i] !== expected[i])
      expect.fail(`index ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

/** Runs `body` with helpers that copy arrays into the engine's arena; the arena is reset afterwards. */
function inArena(
  e: WasmEngine,
  body: (put: (a: Float32Array) => Ptr, get: (p: Ptr, n: number) => Float32Array) => void,
): void {
  try {
    body(
      (a) => {
        const p = e.temp(a.length);
        e.f32(p, a.length).set(a);
        return p;
      },
      (p, n) => e.f32(p, n).slice(),
    );
  } finally {
    e.arena.reset();
  }
}

/** Conv + max-pool pairs for the kernels fed by the pool's gradient (the pool reads the conv's output). */
const POOL_CONV_CASES: [string, Conv2dGeometry, Pool2dGeometry][] = [
  [
    'seed conv2 + 2x2 pool',
    makeConv2dGeometry({ batch: 3, inC: 12, inH: 12, inW: 12, outC: 8, kernelSize: 5 }),
    makePool2dGeometry({ batch: 3, channels: 8, inH: 8, inW: 8, kernelSize: 2 }),
  ],
  [
    'seed shape (12->64, 12x12, k5) + 2x2 pool, batch 5',
    makeConv2dGeometry({ batch: 5, inC: 12, inH: 12, inW: 12, outC: 64, kernelSize: 5 }),
    makePool2dGeometry({ batch: 5, channels: 64, inH: 8, inW: 8, kernelSize: 2 }),
  ],
  [
    'batch 1, odd sizes (5->7 channels, 11x9, kernel [3,4]) + 2x2 pool dropping a row',
    makeConv2dGeometry({ batch: 1, inC: 5, inH: 11, inW: 9, outC: 7, kernelSize: [3, 4] }),
    makePool2dGeometry({ batch: 1, channels: 7, inH: 9, inW: 6, kernelSize: 2 }),
  ],
  [
    'padded, strided conv + overlapping 3x3 pool',
    makeConv2dGeometry({ batch: 1, inC: 3, inH: 9, inW: 8, outC: 5, kernelSize: 3, stride: [2, 1], padding: 1 }),
    makePool2dGeometry({ batch: 1, channels: 5, inH: 5, inW: 8, kernelSize: 3, stride: 2, padding: 1 }),
  ],
  [
    'column stride 2, padding [1,2] + overlapping [2,3] pool (shared argmaxes)',
    makeConv2dGeometry({ batch: 2, inC: 3, inH: 7, inW: 10, outC: 6, kernelSize: 3, stride: [1, 2], padding: [1, 2] }),
    makePool2dGeometry({ batch: 2, channels: 6, inH: 7, inW: 6, kernelSize: [2, 3], stride: [1, 2] }),
  ],
  [
    'stride 2 conv + 3x3 pool stride 3',
    makeConv2dGeometry({ batch: 2, inC: 4, inH: 13, inW: 13, outC: 9, kernelSize: 3, stride: 2 }),
    makePool2dGeometry({ batch: 2, channels: 9, inH: 6, inW: 6, kernelSize: 3 }),
  ],
];

/** argmax of a max-pool over spike-like conv outputs (many ties: the first-maximum rule) and a dPool with a zero. */
function poolGradient(
  rng: Rng,
  conv: Conv2dGeometry,
  pool: Pool2dGeometry,
): { argmax: Int32Array; dPool: Float32Array } {
  const convOut = spikes(rng, conv.batch * conv.outC * conv.outH * conv.outW, 0.3);
  const pooled = pool.batch * pool.channels * pool.outH * pool.outW;
  const argmax = new Int32Array(pooled);
  ref.maxPool2dForward(pool, convOut, new Float32Array(pooled), argmax);
  const dPool = rand(rng, pooled);
  dPool[0] = 0;
  return { argmax, dPool };
}

const backends: Record<string, WasmBackend> = {};
beforeAll(async () => {
  backends['1 thread'] = await createWasmBackend({ threads: 1 });
  // 'always' splits even tiny kernels, so the small shapes below exercise every threaded partition.
  backends['2 threads'] = await createWasmBackend({ threads: 2, split: 'always' });
  backends['simd128, 3 threads'] = await createWasmBackend({ threads: 3, split: 'always', simd: 'simd128' });
});
afterAll(() => {
  for (const b of Object.values(backends)) b.dispose();
});

describe('wasm engine setup', () => {
  it('reports its SIMD level and thread count', () => {
    expect(['relaxed', 'simd128']).toContain(backends['1 thread']!.simd);
    expect(backends['1 thread']!.threads).toBe(1);
    expect(backends['2 threads']!.threads).toBe(2);
    expect(backends['simd128, 3 threads']!.simd).toBe('simd128');
  });

  it('refuses buffers shorter than the contract needs, naming the kernel and field', () => {
    const b = backends['1 thread']!;
    const call = () =>
      b.gemm({
        transA: false,
        transB: false,
        m: 2,
        n: 2,
        k: 2,
        a: new Float32Array(3),
        b: new Float32Array(4),
        c: new Float32Array(4),
        accumulate: false,
      });
    expect(call).toThrow(KernelArgumentError);
    expect(call).toThrow(/gemm.*a has 3 elements, needs 4/);
  });

  it('a trap on any thread becomes an exception (no hang), and the engine stays usable', () => {
    for (const b of [backends['1 thread']!, backends['2 threads']!]) {
      const e = b.engine;
      const far = e.memory.buffer.byteLength + 65536;
      expect(() =>
        e.gemmPtr({ transA: false, transB: false, m: 64, n: 64, k: 64, a: far, b: far, c: far, accumulate: false }),
      ).toThrow();
      const c = new Float32Array(4);
      b.gemm({
        transA: false,
        transB: false,
        m: 2,
        n: 2,
        k: 1,
        a: Float32Array.of(1, 2),
        b: Float32Array.of(3, 4),
        c,
        accumulate: false,
      });
      expect(Array.from(c)).toEqual([3, 4, 6, 8]);
    }
  });

  it('does not grow memory across repeated steps (the arena converges to one block)', () => {
    const b = backends['2 threads']!;
    const rng = new Rng(5);
    const g = makeConv2dGeometry({ batch: 4, inC: 3, inH: 10, inW: 10, outC: 8, kernelSize: 3 });
    const x = rand(rng, 4 * 3 * 100);
    const w = rand(rng, 8 * 27);
    const out = new Float32Array(4 * 8 * 64);
    const step = () => {
      b.conv2dForward(g, x, w, null, out);
      b.gemm({
        transA: false,
        transB: true,
        m: 50,
        n: 40,
        k: 30,
        a: rand(rng, 1500),
        b: rand(rng, 1200),
        c: new Float32Array(2000),
        accumulate: false,
      });
    };
    step();
    step();
    const heap = b.engine.heap.highWater;
    const pages = b.engine.memory.buffer.byteLength;
    for (let i = 0; i < 5; i++) step();
    expect(b.engine.heap.highWater).toBe(heap);
    expect(b.engine.memory.buffer.byteLength).toBe(pages);
  });
});

describe.each(['1 thread', '2 threads', 'simd128, 3 threads'])('wasm kernels vs reference (%s)', (label) => {
  const be = () => backends[label]!;

  describe('gemm', () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [7, 5, 3],
      [13, 17, 29],
      [6, 8, 16],
      [12, 16, 5],
      [64, 50, 300],
      [3, 100, 401],
      [130, 9, 7],
      [1, 70, 13],
      [0, 4, 3],
      [4, 4, 0],
      // skinny kernels (kernels/gemm-skinny.ts): small n, small m with B row-major, small k; thresholds 12, 12, 16
      [300, 10, 1024],
      [257, 10, 1023],
      [9, 7, 1100],
      [33, 1, 5],
      [37, 12, 100],
      [5, 11, 7],
      [1, 9, 640],
      [3, 5, 4],
      [129, 1024, 10],
      [131, 1023, 7],
      [1, 513, 3],
      [40, 13, 16],
      [10, 1024, 700],
      [12, 1021, 333],
      [6, 50, 200],
      [13, 14, 17],
    ];
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`transA=${transA} transB=${transB}: overwrite, accumulate, alpha`, () => {
          const rng = new Rng(17);
          for (const [m, n, k] of shapes) {
            for (const [accumulate, alpha] of [
              [false, 1],
              [true, 1],
              [true, -0.5],
              [false, 2],
            ] as const) {
              const a = rand(rng, m * k);
              const b = rand(rng, k * n);
              const c0 = rand(rng, m * n);
              const want = c0.slice();
              const got = c0.slice();
              ref.gemm({ transA, transB, m, n, k, a, b, c: want, accumulate, alpha });
              be().gemm({ transA, transB, m, n, k, a, b, c: got, accumulate, alpha });
              expectClose(got, want, 2e-5 * Math.sqrt(k + 1), 1e-5);
            }
          }
        });
      }
    }
    it('gemmPtr honours leading dimensions (sub-matrices of larger arrays)', () => {
      const e = be().engine;
      const rng = new Rng(19);
      const [m, n, k] = [9, 13, 11];
      const [lda, ldb, ldc] = [k + 3, n + 5, n + 2];
      const aBig = rand(rng, m * lda);
      const bBig = rand(rng, k * ldb);
      const cBig = rand(rng, m * ldc);
      const a = Float32Array.from({ length: m * k }, (_, i) => aBig[Math.floor(i / k) * lda + (i % k)]!);
      const b = Float32Array.from({ length: k * n }, (_, i) => bBig[Math.floor(i / n) * ldb + (i % n)]!);
      const want = Float32Array.from({ length: m * n }, (_, i) => cBig[Math.floor(i / n) * ldc + (i % n)]!);
      ref.gemm({ transA: false, transB: false, m, n, k, a, b, c: want, accumulate: true, alpha: 0.5 });
      inArena(e, (put, get) => {
        const pc = put(cBig);
        e.gemmPtr({
          transA: false,
          transB: false,
          m,
          n,
          k,
          a: put(aBig),
          b: put(bBig),
          c: pc,
          accumulate: true,
          alpha: 0.5,
          lda,
          ldb,
          ldc,
        });
        const out = get(pc, m * ldc);
        const got = Float32Array.from({ length: m * n }, (_, i) => out[Math.floor(i / n) * ldc + (i % n)]!);
        expectClose(got, want, 1e-5, 1e-5);
        // The padding columns of C stay untouched.
        for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) expect(out[i * ldc + j]).toBe(cBig[i * ldc + j]);
      });
    });
    it('the skinny kernels honour leading dimensions, all four transposes', () => {
      const e = be().engine;
      const rng = new Rng(23);
      /** `rows x cols` stored with row stride `ld` (>= cols): the big array and its packed copy. */
      const sub = (rows: number, cols: number, ld: number): [Float32Array, Float32Array] => {
        const big = rand(rng, rows * ld);
        return [
          big,
          Float32Array.from({ length: rows * cols }, (_, i) => big[Math.floor(i / cols) * ld + (i % cols)]!),
        ];
      };
      // small n, small m (B row-major; transposed B takes the blocked path), small k
      for (const [m, n, k] of [
        [37, 10, 300],
        [10, 70, 300],
        [41, 70, 9],
      ] as const) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const [aRows, aCols] = transA ? [k, m] : [m, k];
            const [bRows, bCols] = transB ? [n, k] : [k, n];
            const [lda, ldb, ldc] = [aCols + 3, bCols + 5, n + 2];
            const [aBig, a] = sub(aRows, aCols, lda);
            const [bBig, b] = sub(bRows, bCols, ldb);
            const [cBig, want] = sub(m, n, ldc);
            ref.gemm({ transA, transB, m, n, k, a, b, c: want, accumulate: true, alpha: 0.5 });
            inArena(e, (put, get) => {
              const pc = put(cBig);
              const [pa, pb] = [put(aBig), put(bBig)];
              e.gemmPtr({ transA, transB, m, n, k, a: pa, b: pb, c: pc, accumulate: true, alpha: 0.5, lda, ldb, ldc });
              const out = get(pc, m * ldc);
              const got = Float32Array.from({ length: m * n }, (_, i) => out[Math.floor(i / n) * ldc + (i % n)]!);
              expectClose(got, want, 2e-5 * Math.sqrt(k + 1), 1e-5);
              for (let i = 0; i < m; i++) {
                for (let j = n; j < ldc; j++) expect(out[i * ldc + j]).toBe(cBig[i * ldc + j]);
              }
              // The operands are read only.
              expectEqual(get(pa, aBig.length), aBig);
              expectEqual(get(pb, bBig.length), bBig);
            });
          }
        }
      }
    });
    it('the skinny kernels on spikes: all-zero and all-one A, a NaN in A and an Inf in B as in the reference', () => {
      const rng = new Rng(29);
      for (const [m, n, k] of [
        [64, 10, 1024],
        [10, 1024, 64],
        [64, 1024, 10],
      ] as const) {
        for (const fill of ['zeros', 'ones', 'spikes', 'nan-inf'] as const) {
          const a =
            fill === 'zeros'
              ? new Float32Array(m * k)
              : fill === 'ones'
                ? new Float32Array(m * k).fill(1)
                : spikes(rng, m * k, 0.2);
          const b = rand(rng, k * n);
          if (fill === 'nan-inf') {
            a[3 * k + 1] = NaN;
            b[2 * n + 5] = Infinity;
          }
          for (const transA of [false, true]) {
            // the same op(A) values: the transposed storage of A is its transpose
            const aStored = transA
              ? Float32Array.from({ length: m * k }, (_, i) => a[(i % m) * k + Math.floor(i / m)]!)
              : a;
            const want = rand(rng, m * n);
            const got = want.slice();
            ref.gemm({ transA, transB: false, m, n, k, a: aStored, b, c: want, accumulate: true, alpha: 1 });
            be().gemm({ transA, transB: false, m, n, k, a: aStored, b, c: got, accumulate: true, alpha: 1 });
            expectClose(got, want, 2e-5 * Math.sqrt(k + 1), 1e-5);
          }
        }
      }
    });
  });

  describe('conv2d', () => {
    const cases: [string, Conv2dGeometry][] = [
      [
        'seed conv1 (1->12, 28x28, k5)',
        makeConv2dGeometry({ batch: 2, inC: 1, inH: 28, inW: 28, outC: 12, kernelSize: 5 }),
      ],
      [
        'seed conv2 (12->64, 12x12, k5)',
        makeConv2dGeometry({ batch: 3, inC: 12, inH: 12, inW: 12, outC: 64, kernelSize: 5 }),
      ],
      [
        'stride 2, padding 1, odd sizes',
        makeConv2dGeometry({ batch: 2, inC: 3, inH: 9, inW: 7, outC: 5, kernelSize: 3, stride: 2, padding: 1 }),
      ],
      [
        'rectangular kernel, padding [2,0]',
        makeConv2dGeometry({
          batch: 1,
          inC: 2,
          inH: 6,
          inW: 11,
          outC: 7,
          kernelSize: [3, 2],
          padding: [2, 0],
          stride: [1, 3],
        }),
      ],
      ['1x1 kernel, batch 1', makeConv2dGeometry({ batch: 1, inC: 5, inH: 4, inW: 4, outC: 3, kernelSize: 1 })],
      [
        'many output positions (column chunks)',
        makeConv2dGeometry({ batch: 1, inC: 16, inH: 70, inW: 70, outC: 4, kernelSize: 3, padding: 1 }),
      ],
    ];
    for (const [name, g] of cases) {
      it(`${name}: forward, backward-input, backward-weight`, () => {
        const rng = new Rng(3);
        const xN = g.batch * g.inC * g.inH * g.inW;
        const wN = g.outC * g.inC * g.kH * g.kW;
        const oN = g.batch * g.outC * g.outH * g.outW;
        const x = rand(rng, xN);
        const w = rand(rng, wN);
        const bias = rand(rng, g.outC);
        const k = g.inC * g.kH * g.kW;
        const tol = 2e-5 * Math.sqrt(k);
        for (const bb of [bias, null]) {
          const want = new Float32Array(oN);
          const got = new Float32Array(oN).fill(7);
          ref.conv2dForward(g, x, w, bb, want);
          be().conv2dForward(g, x, w, bb, got);
          expectClose(got, want, tol, 1e-5);
        }
        const dOut = rand(rng, oN);
        const dxWant = new Float32Array(xN);
        const dxGot = new Float32Array(xN).fill(3);
        ref.conv2dBackwardInput(g, dOut, w, dxWant);
        be().conv2dBackwardInput(g, dOut, w, dxGot);
        expectClose(dxGot, dxWant, 2e-5 * Math.sqrt(g.outC * g.kH * g.kW), 1e-5);
        for (const accumulate of [false, true]) {
          const dw0 = rand(rng, wN);
          const db0 = rand(rng, g.outC);
          const dwWant = dw0.slice();
          const dbWant = db0.slice();
          const dwGot = dw0.slice();
          const dbGot = db0.slice();
          ref.conv2dBackwardWeight(g, x, dOut, dwWant, dbWant, accumulate);
          be().conv2dBackwardWeight(g, x, dOut, dwGot, dbGot, accumulate);
          const kw = g.batch * g.outH * g.outW;
          expectClose(dwGot, dwWant, 2e-5 * Math.sqrt(kw), 1e-5);
          expectClose(dbGot, dbWant, 2e-5 * Math.sqrt(kw), 1e-5);
        }
        const dwNoBias = new Float32Array(wN);
        const dwNoBiasWant = new Float32Array(wN);
        be().conv2dBackwardWeight(g, x, dOut, dwNoBias, null, false);
        ref.conv2dBackwardWeight(g, x, dOut, dwNoBiasWant, null, false);
        expectClose(dwNoBias, dwNoBiasWant, 2e-5 * Math.sqrt(g.batch * g.outH * g.outW), 1e-5);
      });
    }

    describe("Winograd F(2x2, 5x5) forward (the engine's 'auto' choice for 5x5 stride-1 convs)", () => {
      const shapes: [string, Conv2dGeometry][] = [
        ['seed conv2, batch 5', makeConv2dGeometry({ batch: 5, inC: 12, inH: 12, inW: 12, outC: 64, kernelSize: 5 })],
        [
          'batch 1, 6 output channels (a partial strip)',
          makeConv2dGeometry({ batch: 1, inC: 4, inH: 12, inW: 12, outC: 6, kernelSize: 5 }),
        ],
        [
          'wide, two tile groups per row, 3 images',
          makeConv2dGeometry({ batch: 3, inC: 5, inH: 10, inW: 20, outC: 9, kernelSize: 5 }),
        ],
        [
          'one tile row, odd batch (partial GEMM strips)',
          makeConv2dGeometry({ batch: 7, inC: 8, inH: 6, inW: 12, outC: 4, kernelSize: 5 }),
        ],
      ];
      for (const [name, g] of shapes) {
        it(`${name}: equals the reference and the direct kernel, with and without bias`, () => {
          const e = be().engine;
          const rng = new Rng(41);
          const xN = g.batch * g.inC * g.inH * g.inW;
          const oN = g.batch * g.outC * g.outH * g.outW;
          // ReLU-like inputs (half zeros) and PyTorch-scale weights, like the CNN's conv2
          const x = rand(rng, xN).map((v) => Math.max(v, 0));
          const w = rand(rng, g.outC * g.inC * 25, -0.2, 0.2);
          const bias = rand(rng, g.outC);
          for (const bb of [bias, null]) {
            const want = new Float32Array(oN);
            ref.conv2dForward(g, x, w, bb, want);
            for (const algorithm of ['winograd', 'direct', 'auto'] as const) {
              inArena(e, (put, get) => {
                const po = put(new Float32Array(oN).fill(7));
                const used = e.conv2dForwardPtr(g, put(x), put(w), bb ? put(bb) : 0, po, algorithm);
                expect(used).toBe(algorithm === 'direct' ? 'direct' : 'winograd');
                expect(relL2(get(po, oN), want), algorithm).toBeLessThan(5e-6);
                expectClose(get(po, oN), want, 1e-5, 1e-4);
              });
            }
            // through the contract: opt-in, and the default stays direct
            const [viaOption, viaDefault] = [new Float32Array(oN), new Float32Array(oN)];
            be().conv2dForward(g, x, w, bb, viaOption, { winograd: true });
            be().conv2dForward(g, x, w, bb, viaDefault);
            expect(relL2(viaOption, want)).toBeLessThan(5e-6);
            inArena(e, (put, get) => {
              const po = put(new Float32Array(oN));
              e.conv2dForwardPtr(g, put(x), put(w), bb ? put(bb) : 0, po);
              expectEqual(viaDefault, get(po, oN));
            });
          }
        });
      }

      it('refuses a geometry it does not cover when asked for explicitly; auto falls back to direct', () => {
        const e = be().engine;
        const g = makeConv2dGeometry({ batch: 1, inC: 4, inH: 12, inW: 11, outC: 2, kernelSize: 5 });
        inArena(e, (put) => {
          const x = put(new Float32Array(4 * 12 * 11));
          const w = put(new Float32Array(2 * 4 * 25));
          const out = put(new Float32Array(2 * 8 * 7));
          expect(() => e.conv2dForwardPtr(g, x, w, 0, out, 'winograd')).toThrow(KernelArgumentError);
          expect(e.conv2dForwardPtr(g, x, w, 0, out)).toBe('direct');
        });
      });
    });

    it('all-zero and all-one spike inputs', () => {
      const g = makeConv2dGeometry({ batch: 2, inC: 12, inH: 12, inW: 12, outC: 16, kernelSize: 5 });
      const rng = new Rng(8);
      const w = rand(rng, 16 * 12 * 25);
      for (const fill of [0, 1]) {
        const x = new Float32Array(2 * 12 * 144).fill(fill);
        const want = new Float32Array(2 * 16 * 64);
        const got = new Float32Array(2 * 16 * 64);
        ref.conv2dForward(g, x, w, null, want);
        be().conv2dForward(g, x, w, null, got);
        expectClose(got, want, 1e-4, 1e-5);
      }
    });
  });

  describe('max-pool-sparse conv backward-input', () => {
    for (const [name, conv, pool] of POOL_CONV_CASES) {
      it(`${name}: equals pool backward then dense conv backward-input, ties included`, () => {
        const rng = new Rng(21);
        const w = rand(rng, conv.outC * conv.inC * conv.kH * conv.kW);
        const { argmax, dPool } = poolGradient(rng, conv, pool);
        const want = new Float32Array(conv.batch * conv.inC * conv.inH * conv.inW);
        const got = new Float32Array(want.length).fill(7);
        ref.poolConv2dBackwardInput(conv, pool, dPool, argmax, w, want);
        be().poolConv2dBackwardInput(conv, pool, dPool, argmax, w, got);
        expectClose(got, want, 1e-5 * Math.sqrt(conv.outC * conv.kH * conv.kW), 1e-5);
      });
    }
  });

  describe('max-pool-sparse spike conv weight gradient', () => {
    for (const [name, conv, pool] of POOL_CONV_CASES) {
      it(`${name}: equals pool backward then conv weight gradient, spike densities 0 to 1`, () => {
        const e = be().engine;
        const rng = new Rng(22);
        const { argmax, dPool } = poolGradient(rng, conv, pool);
        const xN = conv.batch * conv.inC * conv.inH * conv.inW;
        const wN = conv.outC * conv.inC * conv.kH * conv.kW;
        const tol = 2e-5 * Math.sqrt(conv.batch * conv.outH * conv.outW);
        for (const density of [0, 0.09, 0.3, 1]) {
          const x = spikes(rng, xN, density);
          const dw0 = rand(rng, wN);
          const db0 = rand(rng, conv.outC);
          for (const accumulate of [false, true]) {
            const dwWant = dw0.slice();
            const dbWant = db0.slice();
            ref.spikePoolConv2dBackwardWeight(conv, pool, x, dPool, argmax, dwWant, dbWant, accumulate);
            for (const mode of ['sparse', 'dense'] as const) {
              inArena(e, (put, get) => {
                const [dw, db, pa] = [put(dw0), put(db0), e.temp(argmax.length)];
                e.i32(pa, argmax.length).set(argmax);
                const px = put(x);
                expect(
                  e.spikePoolConv2dBackwardWeightPtr(conv, pool, px, put(dPool), pa, dw, db, accumulate, mode),
                ).toBe(mode);
                expectClose(get(dw, wN), dwWant, tol, 1e-5);
                expectClose(get(db, conv.outC), dbWant, tol, 1e-5);
              });
            }
          }
          // the Backend entry ('auto' path), without a bias gradient
          const want = new Float32Array(wN);
          const got = new Float32Array(wN).fill(3);
          ref.spikePoolConv2dBackwardWeight(conv, pool, x, dPool, argmax, want, null, false);
          be().spikePoolConv2dBackwardWeight(conv, pool, x, dPool, argmax, got, null, false);
          expectClose(got, want, tol, 1e-5);
        }
      });
    }
  });

  it('pool-gradient kernels skip negative argmax entries and refuse ones beyond the conv output', () => {
    const [, conv, pool] = POOL_CONV_CASES[0]!;
    const rng = new Rng(23);
    const { argmax, dPool } = poolGradient(rng, conv, pool);
    for (let i = 0; i < argmax.length; i += 5) argmax[i] = -1;
    const w = rand(rng, conv.outC * conv.inC * conv.kH * conv.kW);
    const x = spikes(rng, conv.batch * conv.inC * conv.inH * conv.inW, 0.2);
    const dxWant = new Float32Array(conv.batch * conv.inC * conv.inH * conv.inW);
    const dxGot = dxWant.slice();
    ref.poolConv2dBackwardInput(conv, pool, dPool, argmax, w, dxWant);
    be().poolConv2dBackwardInput(conv, pool, dPool, argmax, w, dxGot);
    expectClose(dxGot, dxWant, 1e-5, 1e-5);
    const dwWant = new Float32Array(w.length);
    const dbWant = new Float32Array(conv.outC);
    const dwGot = dwWant.slice();
    const dbGot = dbWant.slice();
    ref.spikePoolConv2dBackwardWeight(conv, pool, x, dPool, argmax, dwWant, dbWant, false);
    be().spikePoolConv2dBackwardWeight(conv, pool, x, dPool, argmax, dwGot, dbGot, false);
    expectClose(dwGot, dwWant, 1e-4, 1e-5);
    expectClose(dbGot, dbWant, 1e-4, 1e-5);

    argmax[7] = conv.outH * conv.outW;
    expect(() => be().poolConv2dBackwardInput(conv, pool, dPool, argmax, w, dxGot)).toThrow(/argmax\[7\] = 64/);
    expect(() => be().spikePoolConv2dBackwardWeight(conv, pool, x, dPool, argmax, dwGot, null, false)).toThrow(
      KernelArgumentError,
    );
    argmax[7] = 0;
    const other = { ...pool, inW: pool.inW + 1 };
    expect(() => be().spikePoolConv2dBackwardWeight(conv, other, x, dPool, argmax, dwGot, null, false)).toThrow(
      /read the conv output/,
    );
    expect(() =>
      be().spikePoolConv2dBackwardWeight(conv, pool, x.subarray(1), dPool, argmax, dwGot, null, false),
    ).toThrow(/x has/);
    expect(() => be().engine.spikePoolConv2dBackwardWeightPtr(conv, other, 0, 0, 0, 0, 0, false)).toThrow(
      /read the conv output/,
    );
  });

  describe('max-pool-sparse conv weight gradient', () => {
    const cases: [string, Conv2dGeometry, Pool2dGeometry][] = [
      [
        'seed conv2 + 2x2 pool',
        makeConv2dGeometry({ batch: 3, inC: 12, inH: 12, inW: 12, outC: 8, kernelSize: 5 }),
        makePool2dGeometry({ batch: 3, channels: 8, inH: 8, inW: 8, kernelSize: 2 }),
      ],
      [
        'seed conv1 + 2x2 pool, batch 1',
        makeConv2dGeometry({ batch: 1, inC: 1, inH: 28, inW: 28, outC: 12, kernelSize: 5 }),
        makePool2dGeometry({ batch: 1, channels: 12, inH: 24, inW: 24, kernelSize: 2 }),
      ],
      [
        'odd sizes, 3x3 kernel (single-row path), pool drops the last row and column',
        makeConv2dGeometry({ batch: 2, inC: 3, inH: 11, inW: 9, outC: 5, kernelSize: 3 }),
        makePool2dGeometry({ batch: 2, channels: 5, inH: 9, inW: 7, kernelSize: 2 }),
      ],
      [
        '7x6 kernel (a group of 5 rows and one more)',
        makeConv2dGeometry({ batch: 2, inC: 2, inH: 13, inW: 10, outC: 3, kernelSize: [7, 6] }),
        makePool2dGeometry({ batch: 2, channels: 3, inH: 7, inW: 5, kernelSize: 2 }),
      ],
      [
        'padded, strided conv + overlapping 3x3 pool',
        makeConv2dGeometry({ batch: 2, inC: 3, inH: 9, inW: 8, outC: 5, kernelSize: 3, stride: [2, 1], padding: 1 }),
        makePool2dGeometry({ batch: 2, channels: 5, inH: 5, inW: 8, kernelSize: 3, stride: 2, padding: 1 }),
      ],
      [
        'channel-last path: 5 channels, padded strided 3x3 (rows of 15 floats), overlapping pool',
        makeConv2dGeometry({ batch: 3, inC: 5, inH: 9, inW: 10, outC: 6, kernelSize: 3, stride: [2, 1], padding: 1 }),
        makePool2dGeometry({ batch: 3, channels: 6, inH: 5, inW: 10, kernelSize: 3, stride: 2, padding: 1 }),
      ],
      [
        'channel-last path: 4 channels, kernel 2x9 (rows of 36 floats), batch 1',
        makeConv2dGeometry({ batch: 1, inC: 4, inH: 7, inW: 14, outC: 5, kernelSize: [2, 9] }),
        makePool2dGeometry({ batch: 1, channels: 5, inH: 6, inW: 6, kernelSize: 2 }),
      ],
      [
        'kernel wider than 8 taps (scalar path)',
        makeConv2dGeometry({ batch: 2, inC: 2, inH: 6, inW: 14, outC: 3, kernelSize: [2, 9] }),
        makePool2dGeometry({ batch: 2, channels: 3, inH: 5, inW: 6, kernelSize: 2 }),
      ],
    ];
    for (const [name, conv, pool] of cases) {
      it(`${name}: equals pool backward then dense conv weight gradient`, () => {
        const rng = new Rng(22);
        const x = rand(rng, conv.batch * conv.inC * conv.inH * conv.inW);
        const convOut = rand(rng, conv.batch * conv.outC * conv.outH * conv.outW);
        const pooled = pool.batch * pool.channels * pool.outH * pool.outW;
        const argmax = new Int32Array(pooled);
        ref.maxPool2dForward(pool, convOut, new Float32Array(pooled), argmax);
        // a ReLU after the pool zeroes about half of the pooled gradients
        const dPool = rand(rng, pooled).map((v, i) => (i % 3 === 0 ? 0 : v));
        const wN = conv.outC * conv.inC * conv.kH * conv.kW;
        const tol = 2e-5 * Math.sqrt(pooled);
        for (const accumulate of [false, true]) {
          const dw0 = rand(rng, wN);
          const db0 = rand(rng, conv.outC);
          const [dwWant, dbWant, dwGot, dbGot] = [dw0.slice(), db0.slice(), dw0.slice(), db0.slice()];
          ref.poolConv2dBackwardWeight(conv, pool, x, dPool, argmax, dwWant, dbWant, accumulate);
          be().poolConv2dBackwardWeight(conv, pool, x, dPool, argmax, dwGot, dbGot, accumulate);
          expectClose(dwGot, dwWant, tol, 1e-5);
          expectClose(dbGot, dbWant, tol, 1e-5);
        }
        const dwWant = new Float32Array(wN);
        const dwGot = new Float32Array(wN).fill(4);
        ref.poolConv2dBackwardWeight(conv, pool, x, dPool, argmax, dwWant, null, false);
        be().poolConv2dBackwardWeight(conv, pool, x, dPool, argmax, dwGot, null, false);
        expectClose(dwGot, dwWant, tol, 1e-5);
      });
    }

    it('rejects an argmax outside the conv output plane', () => {
      const conv = makeConv2dGeometry({ batch: 1, inC: 1, inH: 3, inW: 3, outC: 1, kernelSize: 2 });
      const pool = makePool2dGeometry({ batch: 1, channels: 1, inH: 2, inW: 2, kernelSize: 2 });
      const call = () =>
        be().poolConv2dBackwardWeight(
          conv,
          pool,
          new Float32Array(9),
          Float32Array.of(1),
          Int32Array.of(4),
          new Float32Array(4),
          null,
          false,
        );
      expect(call).toThrow(KernelArgumentError);
    });
  });

  describe('pooling', () => {
    const cases: [string, Pool2dGeometry][] = [
      ['2x2 stride 2 (seed)', makePool2dGeometry({ batch: 2, channels: 3, inH: 8, inW: 8, kernelSize: 2 })],
      [
        '2x2 stride 2, odd input (last row/col dropped)',
        makePool2dGeometry({ batch: 1, channels: 2, inH: 7, inW: 9, kernelSize: 2 }),
      ],
      [
        '2x2 stride 2, wide rows (vector groups and a scalar tail)',
        makePool2dGeometry({ batch: 2, channels: 3, inH: 6, inW: 23, kernelSize: 2 }),
      ],
      [
        '3x3 stride 2 padding 1 (overlapping windows)',
        makePool2dGeometry({ batch: 2, channels: 2, inH: 7, inW: 6, kernelSize: 3, stride: 2, padding: 1 }),
      ],
      [
        'rectangular [2,3] stride [1,2]',
        makePool2dGeometry({ batch: 1, channels: 3, inH: 5, inW: 9, kernelSize: [2, 3], stride: [1, 2] }),
      ],
    ];
    for (const [name, g] of cases) {
      it(`${name}: max (ties on spikes) and average, forward and backward`, () => {
        const rng = new Rng(21);
        const xN = g.batch * g.channels * g.inH * g.inW;
        const oN = g.batch * g.channels * g.outH * g.outW;
        for (const x of [rand(rng, xN), spikes(rng, xN, 0.3), new Float32Array(xN), new Float32Array(xN).fill(1)]) {
          const outW = new Float32Array(oN);
          const argW = new Int32Array(oN);
          const outG = new Float32Array(oN);
          const argG = new Int32Array(oN);
          ref.maxPool2dForward(g, x, outW, argW);
          be().maxPool2dForward(g, x, outG, argG);
          expectEqual(outG, outW);
          expectEqual(argG, argW);
          const dOut = rand(rng, oN);
          const dxW = new Float32Array(xN);
          const dxG = new Float32Array(xN).fill(9);
          ref.maxPool2dBackward(g, dOut, argW, dxW);
          be().maxPool2dBackward(g, dOut, argG, dxG);
          expectClose(dxG, dxW, 1e-6);
          const avgW = new Float32Array(oN);
          const avgG = new Float32Array(oN);
          ref.avgPool2dForward(g, x, avgW);
          be().avgPool2dForward(g, x, avgG);
          expectClose(avgG, avgW, 1e-6, 1e-6);
          const daW = new Float32Array(xN);
          const daG = new Float32Array(xN).fill(5);
          ref.avgPool2dBackward(g, dOut, daW);
          be().avgPool2dBackward(g, dOut, daG);
          expectClose(daG, daW, 1e-6, 1e-6);
        }
      });
    }

    it('2x2 max-pool: NaN wins (first NaN in window order), -Infinity and ties like the reference', () => {
      const g = makePool2dGeometry({ batch: 1, channels: 2, inH: 4, inW: 18, kernelSize: 2 });
      const rng = new Rng(9);
      const x = spikes(rng, 2 * 4 * 18, 0.4);
      for (const [i, v] of [
        [1, NaN],
        [19, NaN],
        [20, -Infinity],
        [38, NaN],
        [57, NaN],
        [40, Infinity],
        [90, NaN],
      ] as const)
        x[i] = v;
      const n = 2 * 2 * 9;
      const [outW, outG, argW, argG] = [new Float32Array(n), new Float32Array(n), new Int32Array(n), new Int32Array(n)];
      ref.maxPool2dForward(g, x, outW, argW);
      be().maxPool2dForward(g, x, outG, argG);
      expectEqual(outG, outW);
      expectEqual(argG, argW);
    });

    it('rejects an argmax outside the input plane', () => {
      const g = makePool2dGeometry({ batch: 1, channels: 1, inH: 2, inW: 2, kernelSize: 2 });
      expect(() => be().maxPool2dBackward(g, new Float32Array(1), Int32Array.of(4), new Float32Array(4))).toThrow(
        KernelArgumentError,
      );
    });
  });

  it('relu and its backward (NaN, signed zeros, infinities, odd lengths, in place)', () => {
    const rng = new Rng(31);
    for (const n of [1, 7, 1000, 70001]) {
      const x = rand(rng, n);
      for (const [i, v] of [
        [0, NaN],
        [3, -0],
        [5, 0],
        [6, Infinity],
        [n - 1, -Infinity],
      ] as const)
        if (i < n) x[i] = v;
      const dy = rand(rng, n);
      const [want, got] = [new Float32Array(n), new Float32Array(n).fill(9)];
      ref.relu(n, x, want);
      be().relu(n, x, got);
      expectEqual(got, want);
      const [dWant, dGot] = [new Float32Array(n), new Float32Array(n).fill(9)];
      ref.reluBackward(n, want, dy, dWant);
      be().reluBackward(n, want, dy, dGot);
      expectEqual(dGot, dWant);
      const inPlace = x.slice();
      be().relu(n, inPlace, inPlace);
      expectEqual(inPlace, want);
      const dInPlace = dy.slice();
      be().reluBackward(n, want, dInPlace, dInPlace);
      expectEqual(dInPlace, dWant);
    }
  });

  it('logSoftmax (large, tiny and -Infinity scores)', () => {
    const rng = new Rng(4);
    for (const [rows, cols] of [
      [1, 1],
      [7, 10],
      [33, 3],
    ] as [number, number][]) {
      const x = rand(rng, rows * cols, -30, 30);
      x[0] = -Infinity;
      const want = new Float32Array(rows * cols);
      const got = new Float32Array(rows * cols);
      ref.logSoftmax(rows, cols, x, want);
      be().logSoftmax(rows, cols, x, got);
      expectClose(got, want, 1e-5, 1e-6);
    }
  });

  describe('fused LIF', () => {
    const surrogates: FusedSurrogate[] = [
      { kind: 'fastSigmoid', slope: 25 },
      { kind: 'atan', alpha: 2 },
    ];
    for (const reset of ['subtract', 'zero', 'none'] as const) {
      for (const surrogate of surrogates) {
        it(`reset=${reset} surrogate=${surrogate.kind}: forward bit-exact, backward close`, () => {
          const rng = new Rng(9);
          for (const [steps, neurons] of [
            [1, 1],
            [6, 37],
            [25, 64],
            [3, 2501], // several blocks of neurons per thread, and a ragged last block
          ] as [number, number][]) {
            const p: LifArgs = { steps, neurons, beta: 0.9, threshold: 0.5, reset, surrogate };
            const tn = steps * neurons;
            const x = rand(rng, tn, -0.5, 1.2);
            const mem0 = rand(rng, neurons, -1, 1.5);
            const spkW = new Float32Array(tn);
            const memW = new Float32Array(tn);
            const spkG = new Float32Array(tn);
            const memG = new Float32Array(tn);
            ref.lifForward(p, x, mem0, spkW, memW);
            be().lifForward(p, x, mem0, spkG, memG);
            expectEqual(spkG, spkW);
            expectEqual(memG, memW);
            const dSpk = rand(rng, tn);
            for (const dMem of [rand(rng, tn), null]) {
              const dxW = new Float32Array(tn);
              const d0W = new Float32Array(neurons);
              const dxG = new Float32Array(tn);
              const d0G = new Float32Array(neurons);
              ref.lifBackward(p, memW, mem0, dSpk, dMem, dxW, d0W);
              be().lifBackward(p, memW, mem0, dSpk, dMem, dxG, d0G);
              expectClose(dxG, dxW, 1e-5, 1e-5);
              expectClose(d0G, d0W, 1e-5, 1e-5);
            }
            // a static input [N] (read at every step; its gradient is the sum over time), membranes not recorded
            const sp: LifArgs = { ...p, staticInput: true };
            const xs = rand(rng, neurons, -0.5, 1.2);
            ref.lifForward(sp, xs, mem0, spkW, memW);
            be().lifForward(sp, xs, mem0, spkG, memG);
            expectEqual(spkG, spkW);
            expectEqual(memG, memW);
            spkG.fill(0);
            be().lifForward(sp, xs, mem0, spkG, null);
            expectEqual(spkG, spkW);
            const sumW = new Float32Array(neurons);
            const sumG = new Float32Array(neurons);
            const d0W = new Float32Array(neurons);
            const d0G = new Float32Array(neurons);
            ref.lifBackward(sp, memW, mem0, dSpk, null, sumW, d0W);
            be().lifBackward(sp, memW, mem0, dSpk, null, sumG, d0G);
            expectClose(sumG, sumW, 1e-5, 1e-5);
            expectClose(d0G, d0W, 1e-5, 1e-5);
          }
        });
      }
    }
  });

  it('Adam step (plain, weight decay, amsgrad) over several steps', () => {
    const rng = new Rng(12);
    for (const [weightDecay, amsgrad] of [
      [0, false],
      [0.01, false],
      [0, true],
    ] as const) {
      const n = 1031;
      const pW = rand(rng, n);
      const mW = new Float32Array(n);
      const vW = new Float32Array(n);
      const vmW = new Float32Array(n);
      const pG = pW.slice();
      const mG = mW.slice();
      const vG = vW.slice();
      const vmG = vmW.slice();
      for (let step = 1; step <= 3; step++) {
        const grad = rand(rng, n);
        const a = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step, amsgrad };
        ref.adamStep(a, pW, grad, mW, vW, amsgrad ? vmW : null);
        be().adamStep(a, pG, grad, mG, vG, amsgrad ? vmG : null);
      }
      expectEqual(pG, pW);
      expectEqual(mG, mW);
      expectEqual(vG, vW);
      if (amsgrad) expectEqual(vmG, vmW);
    }
  });
  describe('spike-sparse kernels (vs the dense reference)', () => {
    const densities = [0, 0.05, 0.3, 1];

    it('spikeGemm: C (+)= alpha * S @ W on odd shapes, all-zero and all-one spikes', () => {
      const e = be().engine;
      const rng = new Rng(31);
      for (const [m, n, k] of [
        [1, 10, 1024],
        [7, 64, 300],
        [5, 37, 13],
        [9, 3, 50],
        [3, 70, 9],
        [0, 8, 8],
      ] as [number, number, number][]) {
        for (const density of densities) {
          for (const [accumulate, alpha] of [
            [false, 1],
            [true, 0.5],
          ] as const) {
            const sp = spikes(rng, m * k, density);
            const w = rand(rng, k * n);
            const c0 = rand(rng, m * n);
            const want = c0.slice();
            ref.gemm({ transA: false, transB: false, m, n, k, a: sp, b: w, c: want, accumulate, alpha });
            inArena(e, (put, get) => {
              const c = put(c0);
              expect(e.spikeGemmPtr({ m, n, k, s: put(sp), w: put(w), c, accumulate, alpha }, 'sparse')).toBe('sparse');
              expectClose(get(c, m * n), want, 1e-5 * Math.sqrt(k), 1e-5);
            });
          }
        }
      }
    });

    it('spikeGemmWeightGrad: dW (+)= alpha * S^T @ G', () => {
      const e = be().engine;
      const rng = new Rng(32);
      for (const [m, n, k] of [
        [20, 10, 1024],
        [33, 64, 300],
        [6, 37, 13],
        [4, 3, 9],
      ] as [number, number, number][]) {
        for (const density of densities) {
          for (const [accumulate, alpha] of [
            [false, 1],
            [true, -2],
          ] as const) {
            const sp = spikes(rng, m * k, density);
            const g = rand(rng, m * n);
            const dw0 = rand(rng, k * n);
            const want = dw0.slice();
            ref.gemm({ transA: true, transB: false, m: k, n, k: m, a: sp, b: g, c: want, accumulate, alpha });
            inArena(e, (put, get) => {
              const dw = put(dw0);
              expect(
                e.spikeGemmWeightGradPtr({ m, n, k, s: put(sp), g: put(g), dw, accumulate, alpha }, 'sparse'),
              ).toBe('sparse');
              expectClose(get(dw, k * n), want, 1e-5 * Math.sqrt(m), 1e-5);
            });
          }
        }
      }
    });

    it('auto mode goes sparse for sparse spikes and dense for dense ones, with the same result', () => {
      const e = be().engine;
      const rng = new Rng(33);
      const [m, n, k] = [16, 12, 40];
      for (const [density, path] of [
        [0.05, 'sparse'],
        [0.9, 'dense'],
      ] as const) {
        const sp = spikes(rng, m * k, density);
        const w = rand(rng, k * n);
        const want = new Float32Array(m * n);
        ref.gemm({ transA: false, transB: false, m, n, k, a: sp, b: w, c: want, accumulate: false });
        inArena(e, (put, get) => {
          const ps = put(sp);
          expect(e.countNonzeroPtr(ps, m * k)).toBe(sp.reduce((acc, v) => acc + (v !== 0 ? 1 : 0), 0));
          const c = e.temp(m * n);
          expect(e.spikeGemmPtr({ m, n, k, s: ps, w: put(w), c, accumulate: false })).toBe(path);
          expectClose(get(c, m * n), want, 1e-5, 1e-5);
        });
      }
    });

    it('spike density: exact up to 1 Mi elements; above, evenly spaced windows within a point of the truth', () => {
      const e = be().engine;
      const rng = new Rng(34);
      const small = spikes(rng, 5000, 0.3);
      const nonzero = (v: Float32Array): number => v.reduce((acc, x) => acc + (x !== 0 ? 1 : 0), 0);
      inArena(e, (put) => {
        expect(e.spikeDensityPtr(put(small), small.length)).toBe(nonzero(small) / small.length);
        expect(e.spikeDensityPtr(put(small), 0)).toBe(0);
      });
      // 50 steps x 1.2 Mi spikes with a density that rises over time (2% .. 40%), and a first half of zeros
      const n = 50 * 24_000;
      const rising = new Float32Array(n);
      for (let i = 0; i < n; i++) rising[i] = rng.uniform() < 0.02 + (0.38 * i) / n ? 1 : 0;
      const halves = new Float32Array(n).fill(1, n / 2);
      for (const big of [rising, halves]) {
        inArena(e, (put) => {
          expect(Math.abs(e.spikeDensityPtr(put(big), n) - nonzero(big) / n)).toBeLessThan(0.01);
        });
      }
    });

    const convCases: [string, Conv2dGeometry][] = [
      [
        'seed conv2 (12->64, 12x12, k5)',
        makeConv2dGeometry({ batch: 3, inC: 12, inH: 12, inW: 12, outC: 64, kernelSize: 5 }),
      ],
      [
        'stride 2, padding 1, outC 5',
        makeConv2dGeometry({ batch: 2, inC: 3, inH: 9, inW: 7, outC: 5, kernelSize: 3, stride: 2, padding: 1 }),
      ],
      [
        'rectangular kernel, stride [1,3], padding [2,0], outC 37',
        makeConv2dGeometry({
          batch: 1,
          inC: 2,
          inH: 6,
          inW: 11,
          outC: 37,
          kernelSize: [3, 2],
          padding: [2, 0],
          stride: [1, 3],
        }),
      ],
    ];
    for (const [name, g] of convCases) {
      it(`spike conv ${name}: forward and weight gradient`, () => {
        const e = be().engine;
        const rng = new Rng(34);
        const xN = g.batch * g.inC * g.inH * g.inW;
        const wN = g.outC * g.inC * g.kH * g.kW;
        const oN = g.batch * g.outC * g.outH * g.outW;
        for (const density of densities) {
          const x = spikes(rng, xN, density);
          const w = rand(rng, wN);
          const bias = rand(rng, g.outC);
          const want = new Float32Array(oN);
          ref.conv2dForward(g, x, w, bias, want);
          const dOut = rand(rng, oN);
          const dw0 = rand(rng, wN);
          const db0 = rand(rng, g.outC);
          for (const accumulate of [false, true]) {
            const dwWant = dw0.slice();
            const dbWant = db0.slice();
            ref.conv2dBackwardWeight(g, x, dOut, dwWant, dbWant, accumulate);
            inArena(e, (put, get) => {
              const px = put(x);
              const out = e.temp(oN);
              expect(e.spikeConv2dForwardPtr(g, px, put(w), put(bias), out, 'sparse')).toBe('sparse');
              expectClose(get(out, oN), want, 1e-4, 1e-5);
              const dw = put(dw0);
              const db = put(db0);
              expect(e.spikeConv2dBackwardWeightPtr(g, px, put(dOut), dw, db, accumulate, 'sparse')).toBe('sparse');
              const kw = g.batch * g.outH * g.outW;
              expectClose(get(dw, wN), dwWant, 2e-5 * Math.sqrt(kw), 1e-5);
              expectClose(get(db, g.outC), dbWant, 2e-5 * Math.sqrt(kw), 1e-5);
            });
          }
        }
      });
    }

    describe('spike conv fused with the max-pool that reads it', () => {
      const pairs: [string, Conv2dGeometry, Pool2dGeometry][] = [
        [
          'seed conv2 (12->64, 12x12, k5) + 2x2 pool',
          makeConv2dGeometry({ batch: 5, inC: 12, inH: 12, inW: 12, outC: 64, kernelSize: 5 }),
          makePool2dGeometry({ batch: 5, channels: 64, inH: 8, inW: 8, kernelSize: 2 }),
        ],
        [
          'odd sizes, outC 5, batch 1 + 2x2 pool dropping the last row and column',
          makeConv2dGeometry({ batch: 1, inC: 3, inH: 9, inW: 7, outC: 5, kernelSize: 3 }),
          makePool2dGeometry({ batch: 1, channels: 5, inH: 7, inW: 5, kernelSize: 2 }),
        ],
        [
          'strided padded conv + padded overlapping 3x3 stride-2 pool',
          makeConv2dGeometry({ batch: 2, inC: 3, inH: 9, inW: 8, outC: 6, kernelSize: 3, stride: [2, 1], padding: 1 }),
          makePool2dGeometry({ batch: 2, channels: 6, inH: 5, inW: 8, kernelSize: 3, stride: 2, padding: 1 }),
        ],
        [
          'rectangular kernel, stride [1,3], padding [2,0], outC 37 + 3x3 stride-2 pool',
          makeConv2dGeometry({
            batch: 3,
            inC: 2,
            inH: 9,
            inW: 17,
            outC: 37,
            kernelSize: [3, 2],
            padding: [2, 0],
            stride: [1, 3],
          }),
          makePool2dGeometry({ batch: 3, channels: 37, inH: 11, inW: 6, kernelSize: 3, stride: 2 }),
        ],
        [
          '1x1 kernel + [2,3] stride-[1,2] pool padded [1,1]',
          makeConv2dGeometry({ batch: 2, inC: 5, inH: 4, inW: 7, outC: 3, kernelSize: 1 }),
          makePool2dGeometry({ batch: 2, channels: 3, inH: 4, inW: 7, kernelSize: [2, 3], stride: [1, 2], padding: 1 }),
        ],
      ];
      /** Multiples of 1/16 in [-1, 1]: every sum of them is exact in float32, whatever the order, and ties abound. */
      const dyadic = (rng: Rng, n: number): Float32Array =>
        Float32Array.from({ length: n }, () => Math.round(rng.uniformRange(-16, 16)) / 16);
      const reference = (
        conv: Conv2dGeometry,
        pool: Pool2dGeometry,
        x: Float32Array,
        w: Float32Array,
        b: Float32Array | null,
      ) => {
        const n = pool.batch * pool.channels * pool.outH * pool.outW;
        const r = { out: new Float32Array(n), argmax: new Int32Array(n) };
        ref.spikeConv2dPoolForward(conv, pool, x, w, b, r.out, r.argmax);
        return r;
      };

      for (const [name, conv, pool] of pairs) {
        it(`${name}: conv and fused conv + pool exactly the reference (dyadic weights), ties and NaN included`, () => {
          const e = be().engine;
          const rng = new Rng(35);
          const xN = conv.batch * conv.inC * conv.inH * conv.inW;
          const wN = conv.outC * conv.inC * conv.kH * conv.kW;
          const convN = conv.batch * conv.outC * conv.outH * conv.outW;
          const n = pool.batch * pool.channels * pool.outH * pool.outW;
          const withNaN = spikes(rng, xN, 0.3);
          withNaN[xN >> 1] = NaN; // a NaN input makes NaN conv outputs, which win their windows
          // values other than 0/1 take the kernels' general (non-binary) path
          const graded = spikes(rng, xN, 0.3).map((v) => v * [0.5, -2, 1, 3][Math.floor(rng.uniform() * 4)]!);
          const inputs = [spikes(rng, xN, 0), spikes(rng, xN, 0.05), spikes(rng, xN, 1), withNaN, graded];
          for (const x of inputs) {
            const weights: [Float32Array, Float32Array | null][] = [
              [dyadic(rng, wN), dyadic(rng, conv.outC)],
              [dyadic(rng, wN), null],
              [new Float32Array(wN), null], // every conv output 0: each argmax is its window's first position
              [new Float32Array(wN), dyadic(rng, conv.outC)],
            ];
            for (const [w, bias] of weights) {
              const want = reference(conv, pool, x, w, bias);
              const convWant = new Float32Array(convN);
              ref.conv2dForward(conv, x, w, bias, convWant);
              inArena(e, (put) => {
                const [px, pw, pb] = [put(x), put(w), bias ? put(bias) : 0];
                const [out, argmax, convOut] = [e.temp(n), e.temp(n), e.temp(convN)];
                e.f32(out, n).fill(7);
                e.i32(argmax, n).fill(-7);
                expect(e.spikeConv2dPoolForwardPtr(conv, pool, px, pw, pb, out, argmax, 'sparse')).toBe('sparse');
                expectEqual(e.f32(out, n), want.out);
                expectEqual(e.i32(argmax, n), want.argmax);
                expect(e.spikeConv2dForwardPtr(conv, px, pw, pb, convOut, 'sparse')).toBe('sparse');
                expectEqual(e.f32(convOut, convN), convWant);
              });
            }
          }
        });

        it(`${name}: random weights, close to the reference and bit for bit the unfused wasm kernels`, () => {
          const b = be();
          const rng = new Rng(36);
          const xN = conv.batch * conv.inC * conv.inH * conv.inW;
          const wN = conv.outC * conv.inC * conv.kH * conv.kW;
          const convN = conv.batch * conv.outC * conv.outH * conv.outW;
          const n = pool.batch * pool.channels * pool.outH * pool.outW;
          for (const density of [0.05, 0.3]) {
            const x = spikes(rng, xN, density);
            const w = rand(rng, wN);
            const bias = rand(rng, conv.outC);
            const want = reference(conv, pool, x, w, bias);
            const got = { out: new Float32Array(n), argmax: new Int32Array(n) };
            b.spikeConv2dPoolForward(conv, pool, x, w, bias, got.out, got.argmax);
            expectClose(got.out, want.out, 1e-4, 1e-5);
            // the argmax is the reference's wherever its window has no near-tie (float32 sums differ from float64)
            const convRef = new Float32Array(convN);
            ref.conv2dForward(conv, x, w, bias, convRef);
            const plane = conv.outH * conv.outW;
            for (let i = 0; i < n; i++) {
              if (got.argmax[i] === want.argmax[i]) continue;
              const base = Math.floor(i / (pool.outH * pool.outW)) * plane;
              expect(Math.abs(convRef[base + got.argmax[i]!]! - want.out[i]!)).toBeLessThan(1e-4);
            }
            const unfused = { conv: new Float32Array(convN), out: new Float32Array(n), argmax: new Int32Array(n) };
            b.spikeConv2dForward(conv, x, w, bias, unfused.conv);
            b.maxPool2dForward(pool, unfused.conv, unfused.out, unfused.argmax);
            expectEqual(got.out, unfused.out);
            expectEqual(got.argmax, unfused.argmax);
          }
        });
      }

      it('auto goes sparse for sparse spikes and dense (in sub-batches) for dense ones, with the same result', () => {
        const e = be().engine;
        const rng = new Rng(37);
        // 20 images of 16x32x32 conv output: the dense path's 2^18-float buffer holds 16 of them, so two sub-batches
        const conv = makeConv2dGeometry({ batch: 20, inC: 2, inH: 34, inW: 34, outC: 16, kernelSize: 3 });
        const pool = makePool2dGeometry({ batch: 20, channels: 16, inH: 32, inW: 32, kernelSize: 2 });
        const xN = conv.batch * conv.inC * conv.inH * conv.inW;
        const n = pool.batch * pool.channels * pool.outH * pool.outW;
        const w = dyadic(rng, conv.outC * conv.inC * 9);
        const bias = dyadic(rng, conv.outC);
        for (const [density, path] of [
          [0.05, 'sparse'],
          [0.9, 'dense'],
        ] as const) {
          const x = spikes(rng, xN, density);
          const want = reference(conv, pool, x, w, bias);
          for (const mode of ['auto', path] as const) {
            inArena(e, (put) => {
              const [out, argmax] = [e.temp(n), e.temp(n)];
              expect(e.spikeConv2dPoolForwardPtr(conv, pool, put(x), put(w), put(bias), out, argmax, mode)).toBe(path);
              expectEqual(e.f32(out, n), want.out);
              expectEqual(e.i32(argmax, n), want.argmax);
            });
          }
        }
      });

      it('refuses a pool that does not read the conv output, and short buffers, naming the kernel', () => {
        const b = be();
        const [, conv, pool] = pairs[1]!;
        const x = new Float32Array(conv.batch * conv.inC * conv.inH * conv.inW);
        const w = new Float32Array(conv.outC * conv.inC * conv.kH * conv.kW);
        const n = pool.batch * pool.channels * pool.outH * pool.outW;
        const wrong = makePool2dGeometry({ batch: 1, channels: 5, inH: 6, inW: 5, kernelSize: 2 });
        const call = (p: Pool2dGeometry, out: Float32Array) =>
          b.spikeConv2dPoolForward(conv, p, x, w, null, out, new Int32Array(n));
        expect(() => call(wrong, new Float32Array(n))).toThrow(KernelArgumentError);
        expect(() => call(wrong, new Float32Array(n))).toThrow(/spikeConv2dPoolForward.*does not read the conv output/);
        expect(() => call(pool, new Float32Array(n - 1))).toThrow(/spikeConv2dPoolForward.*out has/);
        expect(() => b.engine.spikeConv2dPoolForwardPtr(conv, wrong, 0, 0, 0, 0, 0)).toThrow(/pool must read/);
      });
    });
  });
});

describe('the skinny weight-gradient GEMM (small m, A transposed) gives the same bits on 1, 2 and 3 threads', () => {
  it('C = A^T B for m = 10, n = 1021, k = 700: columns are split, never k', async () => {
    const engines = await Promise.all([1, 2, 3].map((threads) => createWasmBackend({ threads, split: 'always' })));
    try {
      const rng = new Rng(37);
      const [m, n, k] = [10, 1021, 700];
      const a = rand(rng, k * m);
      const b = rand(rng, k * n);
      const c0 = rand(rng, m * n);
      const results = engines.map((be) => {
        const c = c0.slice();
        be.gemm({ transA: true, transB: false, m, n, k, a, b, c, accumulate: true, alpha: 0.25 });
        return c;
      });
      expectEqual(results[1]!, results[0]!);
      expectEqual(results[2]!, results[0]!);
    } finally {
      for (const be of engines) be.dispose();
    }
  });
});

describe('threads claim images dynamically: the pool-fed spike conv kernels give the same bits on any thread count', () => {
  // 37 images: uneven blocks of the weight gradient's 16, and more images than threads for every claim loop
  const conv = makeConv2dGeometry({ batch: 37, inC: 12, inH: 12, inW: 12, outC: 16, kernelSize: 5 });
  const pool = makePool2dGeometry({ batch: 37, channels: 16, inH: 8, inW: 8, kernelSize: 2 });
  const xN = conv.batch * conv.inC * conv.inH * conv.inW;
  const wN = conv.outC * conv.inC * conv.kH * conv.kW;
  const pooled = pool.batch * pool.channels * pool.outH * pool.outW;

  it('forward, input gradient and weight gradient: 1, 2 and 3 threads agree bit for bit', () => {
    const rng = new Rng(31);
    const x = spikes(rng, xN, 0.15);
    const w = rand(rng, wN);
    const bias = rand(rng, conv.outC);
    const { argmax, dPool } = poolGradient(rng, conv, pool);
    const results = Object.entries(backends).map(([name, b]) => {
      const out = new Float32Array(pooled);
      const arg = new Int32Array(pooled);
      b.spikeConv2dPoolForward(conv, pool, x, w, bias, out, arg);
      const dx = new Float32Array(xN);
      b.poolConv2dBackwardInput(conv, pool, dPool, argmax, w, dx);
      const dw = new Float32Array(wN);
      const db = new Float32Array(conv.outC);
      b.spikePoolConv2dBackwardWeight(conv, pool, x, dPool, argmax, dw, db, false);
      return { name, simd: b.simd, out, arg, dx, dw, db };
    });
    const [first, ...rest] = results;
    for (const r of rest) {
      expect(r.out, r.name).toEqual(first!.out);
      expect(r.arg, r.name).toEqual(first!.arg);
      // binary spikes: the weight gradient only adds, so even the SIMD128 build (no fused multiply-add) agrees
      expect(r.dw, r.name).toEqual(first!.dw);
      expect(r.db, r.name).toEqual(first!.db);
      if (r.simd === first!.simd) expect(r.dx, r.name).toEqual(first!.dx);
    }
  });
});
