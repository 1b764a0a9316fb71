import { Tensor, shapeToString } from './tensor.js';

/**
 * One tape entry: the tensors an op read and how to map the gradient of its output to theirs.
 * `backward` returns one gradient per parent (same shape as the parent) or null where none flows. Each returned
 * array must be freshly allocated or `gradOutput` itself (never one array for two parents): the engine adds into
 * them in place.
 */
export interface GradNode {
  readonly parents: readonly Tensor[];
  readonly backward: (gradOutput: Float32Array) => readonly (Float32Array | null)[];
}

/**
 * Grad mode, like PyTorch's: a depth counter of `noGrad` scopes. It is the only process-wide switch of the tensor
 * layer; it changes whether tape entries are recorded, never a value.
 */
let noGradDepth = 0;

export function isGradEnabled(): boolean {
  return noGradDepth === 0;
}

/** Runs `fn` without recording the tape (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  noGradDepth++;
  try {
    return fn();
  } finally {
    noGradDepth--;
  }
}

/** Orders the tape reachable from `root` so that every tensor comes after all tensors computed from it. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // iterative DFS: BPTT over many steps makes tapes deeper than the JS call stack
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const parents = t.node?.parents ?? [];
    if (i < parents.length) {
      top[1]++;
      const p = parents[i]!;
      if (p.requiresGrad && !visited.has(p)) {
        visited.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

/**
 * Reverse-mode autodiff: propagates `grad` (default 1 for a one-element root) through the tape and adds the
 * result into `.grad` of every leaf that requires grad. Intermediate gradients are dropped as soon as used.
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new Error('backward(): tensor does not require grad (no tracked input reached it)');
  let seed: Float32Array;
  if (grad) {
    if (grad.size !== root.size) {
      throw new RangeError(
        `backward(): gradient shape ${shapeToString(grad.shape)} does not match ${shapeToString(root.shape)}`,
      );
    }
    seed = Float32Array.from(grad.values);
  } else {
    if (root.size !== 1)
      throw new RangeError(
        `backward(): implicit gradient needs a one-element tensor, got ${shapeToString(root.shape)}`,
      );
    seed = new Float32Array([1]);
  }
  const grads = new Map<Tensor, Float32Array>([[root, seed]]);
  for (const t of topologicalOrder(root)) {
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    if (!t.node) {
      accumulateLeaf(t, g);
      continue;
    }
    const parentGrads = t.node.backward(g);
    t.node.parents.forEach((p, i) => {
      const pg = parentGrads[i];
      if (!pg || !p.requiresGrad) return;
      const prev = grads.get(p);
      if (prev) {
        for (let j = 0; j < prev.length; j++) prev[j]! += pg[j]!;
      } else {
        grads.set(p, pg === g ? Float32Array.from(pg) : pg);
      }
    });
  }
}

function accumulateLeaf(leaf: Tensor, g: Float32Array): void {
  if (leaf.grad) {
    const acc = leaf.grad.values;
    for (let j = 0; j < acc.length; j++) acc[j]! += g[j]!;
  } else {
    leaf.grad = new Tensor(g, leaf.shape);
  }
}
