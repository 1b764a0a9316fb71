import { describe, expect, it } from 'vitest';
import { Rng, Tensor, noGrad, ops, tensor } from 'spikets';
import { gradcheck, randomTensor } from '../helpers/numeric.js';

const rng = new Rng(7);
const rt = (shape: number[], low = -1, high = 1): Tensor => randomTensor(shape, rng, { requiresGrad: true, low, high });
/** Distinct values at least 2/size apart in random order: max-like ops stay differentiable under the probe. */
const spread = (shape: number[]): Tensor => {
  const n = shape.reduce((p, q) => p * q, 1);
  const perm = rng.permutation(n);
  return new Tensor(
    Float32Array.from(perm, (k) => -1 + (2 * k) / n),
    shape,
    { requiresGrad: true },
  );
};

describe('elementwise ops: values and finite-difference gradients', () => {
  it('binary ops broadcast and reduce gradients back to each input shape', () => {
    const a = rt([3, 1, 4]);
    const b = rt([5, 1]);
    for (const f of [ops.add, ops.sub, ops.mul]) gradcheck((x, y) => f(x, y), [a, b]);
    gradcheck((x, y) => ops.div(x, y), [a, rt([5, 1], 0.5, 2)]);
    gradcheck((x, y) => ops.pow(x, y), [rt([2, 3], 0.5, 2), rt([3], 0.5, 2)]);
    expect(ops.add(tensor([[1], [2]]), tensor([10, 20, 30])).toArray()).toEqual([
      [11, 21, 31],
      [12, 22, 32],
    ]);
  });

  it('unary ops', () => {
    for (const f of [ops.neg, ops.exp, ops.abs, ops.square, ops.sigmoid, ops.tanh, ops.atan])
      gradcheck((x) => f(x), [rt([4, 3])]);
    gradcheck((x) => ops.log(x), [rt([7], 0.5, 3)]);
    gradcheck((x) => ops.sqrt(x), [rt([7], 0.5, 3)]);
    gradcheck((x) => ops.relu(x), [rt([9])]);
    gradcheck((x) => ops.clamp(x, -0.5, 0.5), [rt([9])]);
    gradcheck((x) => ops.scale(x, 3), [rt([2, 2])]);
  });

  it('where, maximum and comparisons', () => {
    const c = tensor([1, 0, 1, 0]);
    gradcheck((x, y) => ops.where(c, x, y), [rt([4]), rt([1])]);
    gradcheck((x, y) => ops.maximum(x, y), [spread([6]), spread([6])], { eps: 1e-3 });
    expect(Array.from(ops.gt(tensor([1, 2, 3]), 2).values)).toEqual([0, 0, 1]);
    expect(Array.from(ops.ge(tensor([1, 2, 3]), 2).values)).toEqual([0, 1, 1]);
    expect(Array.from(ops.eq(tensor([1, 2, 3]), tensor([1, 0, 3])).values)).toEqual([1, 0, 1]);
    expect(() => ops.add(rt([2, 3]), rt([4]))).toThrow(/cannot broadcast/);
  });
});

describe('reductions', () => {
  it('sum and mean over axes, keepDim', () => {
    const x = rt([2, 3, 4]);
    gradcheck((t) => ops.sum(t), [x]);
    gradcheck((t) => ops.sum(t, 1), [x]);
    gradcheck((t) => ops.sum(t, [0, 2], true), [x]);
    gradcheck((t) => ops.mean(t, -1), [x]);
    expect(
      ops
        .sum(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          0,
        )
        .toArray(),
    ).toEqual([4, 6]);
    expect(
      ops.mean(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        1,
        true,
      ).shape,
    ).toEqual([2, 1]);
  });

  it('max and argmax take the first maximum on ties', () => {
    const x = tensor([
      [1, 5, 5],
      [7, 7, 2],
    ]);
    expect(Array.from(ops.argmax(x, 1).ints)).toEqual([1, 0]);
    const { values, indices } = ops.max(x, 0);
    expect(Array.from(values.values)).toEqual([7, 7, 5]);
    expect(Array.from(indices.ints)).toEqual([1, 1, 0]);
    gradcheck((t) => ops.max(t, 1).values, [spread([3, 5])], { eps: 1e-3 });
  });
});

describe('shape ops', () => {
  it('reshape, permute, transpose, concat, stack, slice, index, gather0', () => {
    const x = rt([2, 3, 4]);
    gradcheck((t) => ops.reshape(t, [4, -1]), [x]);
    gradcheck((t) => ops.permute(t, [2, 0, 1]), [x]);
    gradcheck((t) => ops.transpose(t), [x]);
    gradcheck((a, b) => ops.concat([a, b], 1), [x, rt([2, 2, 4])]);
    gradcheck((a, b) => ops.stack([a, b], 0), [x, rt([2, 3, 4])]);
    gradcheck((t) => ops.slice(t, 2, 1, 3), [x]);
    gradcheck((t) => ops.index(t, -1), [x]);
    gradcheck((t) => ops.gather0(t, Int32Array.from([1, 0, 1])), [x]);
    expect(
      ops
        .permute(
          tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]),
          [1, 0],
        )
        .toArray(),
    ).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(ops.flatten(rt([2, 3, 4]), 1).shape).toEqual([2, 12]);
    expect(() => ops.reshape(x, [5, 5])).toThrow(/cannot view/);
  });
});

describe('linear algebra, convolution and pooling', () => {
  it('matmul and linear', () => {
    gradcheck((a, b) => ops.matmul(a, b), [rt([3, 5]), rt([5, 2])]);
    gradcheck((a, b) => ops.matmul(a, b), [rt([2, 3, 5]), rt([5, 2])]);
    gradcheck((x, w, b) => ops.linear(x, w, b), [rt([4, 6]), rt([3, 6]), rt([3])]);
    expect(ops.matmul(tensor([[1, 2]]), tensor([[3], [4]])).item()).toBe(11);
  });

  it('conv2d with stride and padding, batch 1 and odd sizes', () => {
    gradcheck((x, w, b) => ops.conv2d(x, w, b), [rt([2, 2, 6, 5]), rt([3, 2, 3, 3]), rt([3])]);
    gradcheck((x, w) => ops.conv2d(x, w, null, { stride: 2, padding: 1 }), [rt([1, 3, 7, 7]), rt([2, 3, 3, 3])]);
    gradcheck(
      (x, w) => ops.conv2d(x, w, null, { stride: [1, 2], padding: [2, 0] }),
      [rt([1, 1, 5, 6]), rt([2, 1, 5, 2])],
    );
  });

  it('maxPool2d routes the gradient to the first maximum of each window (ties)', () => {
    gradcheck((x) => ops.maxPool2d(x, 2), [spread([2, 3, 4, 6])], { eps: 1e-3 });
    gradcheck((x) => ops.maxPool2d(x, 3, { stride: 2, padding: 1 }), [spread([1, 2, 7, 7])], { eps: 1e-3 });
    const x = new Tensor(Float32Array.from([1, 1, 1, 1, 0, 0, 0, 0]), [1, 1, 2, 4], { requiresGrad: true });
    ops.sum(ops.maxPool2d(x, 2)).backward();
    expect(Array.from(x.grad!.values)).toEqual([1, 0, 1, 0, 0, 0, 0, 0]);
    const zeros = new Tensor(new Float32Array(16), [1, 1, 4, 4], { requiresGrad: true });
    ops.sum(ops.maxPool2d(zeros, 2)).backward();
    expect(Array.from(zeros.grad!.values)).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('avgPool2d', () => {
    gradcheck((x) => ops.avgPool2d(x, 2), [rt([1, 2, 4, 4])]);
    gradcheck((x) => ops.avgPool2d(x, 3, { stride: 1, padding: 1 }), [rt([1, 1, 5, 5])]);
  });
});

describe('losses', () => {
  it('logSoftmax, nllLoss with weights and reductions, crossEntropy', () => {
    const y = tensor([2, 0, 1], { dtype: 'int32' });
    gradcheck((x) => ops.logSoftmax(x), [rt([3, 4])]);
    gradcheck((x) => ops.crossEntropy(x, y), [rt([3, 4])]);
    gradcheck((x) => ops.crossEntropy(x, y, { reduction: 'none' }), [rt([3, 4])]);
    gradcheck((x) => ops.crossEntropy(x, y, { reduction: 'sum', weight: tensor([1, 2, 3, 4]) }), [rt([3, 4])]);
    const uniform = ops.crossEntropy(tensor([[0, 0, 0, 0]]), tensor([3], { dtype: 'int32' }));
    expect(uniform.item()).toBeCloseTo(Math.log(4), 6);
    expect(() => ops.crossEntropy(rt([2, 3]), tensor([0, 3], { dtype: 'int32' }))).toThrow(/class id/);
  });
});

describe('autograd engine', () => {
  it('accumulates gradients across backward calls and through shared subexpressions', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = ops.mul(x, x);
    ops.sum(ops.add(y, y)).backward();
    expect(Array.from(x.grad!.values)).toEqual([4, 8, 12]);
    ops.sum(x).backward();
    expect(Array.from(x.grad!.values)).toEqual([5, 9, 13]);
  });

  it('noGrad records nothing and detach cuts the tape', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => ops.mul(x, 2));
    expect(y.requiresGrad).toBe(false);
    expect(() => ops.sum(ops.mul(x, 2).detach()).backward()).toThrow(/does not require grad/);
  });

  it('handles tapes deeper than the call stack (long BPTT)', () => {
    const x = tensor([0.5], { requiresGrad: true });
    let h = x;
    for (let i = 0; i < 20000; i++) h = ops.add(h, 0);
    h.backward();
    expect(x.grad!.item()).toBe(1);
  });
});
