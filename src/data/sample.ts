import { Rng } from '../tensor/random.js';
import { DataError } from './errors.js';

/**
 * `n` of the first `total` samples, stratified by label: class c gets n * count_c / total samples rounded by largest
 * remainder (ties to the lower class), so the subset's class mix is the data's, and its members are the first of a
 * seeded permutation. Returned sorted, so a loader reads them in dataset order. Deterministic in (labels, seed).
 *
 * Why: an accuracy measured on a subset varies with the subset's share of hard classes as well as with the errors
 * within each class; fixing the shares removes the first part (a 2000-image random subset of MNIST's test set read
 * 0.7 points below the whole set in one run).
 */
export function stratifiedSample(labels: Uint8Array, total: number, n: number, seed: number): Int32Array {
  if (!Number.isInteger(total) || total < 0 || total > labels.length)
    throw new DataError('stratifiedSample', 'total', `an integer in 0..${labels.length}`, String(total));
  if (!Number.isInteger(n) || n < 0 || n > total)
    throw new DataError('stratifiedSample', 'n', `an integer in 0..${total}`, String(n));
  const counts = new Map<number, number>();
  for (let i = 0; i < total; i++) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  const classes = [...counts.keys()].sort((a, b) => a - b);
  const quota = new Map(classes.map((c) => [c, Math.floor((n * counts.get(c)!) / total)]));
  let left = n - classes.reduce((s, c) => s + quota.get(c)!, 0);
  const byRemainder = [...classes].sort((a, b) => {
    const ra = (n * counts.get(a)!) % total;
    const rb = (n * counts.get(b)!) % total;
    return rb - ra || a - b;
  });
  for (const c of byRemainder) {
    if (left-- <= 0) break;
    quota.set(c, quota.get(c)! + 1);
  }
  const chosen = new Int32Array(n);
  let k = 0;
  for (const i of new Rng(seed).permutation(total)) {
    const c = labels[i]!;
    const q = quota.get(c)!;
    if (q === 0) continue;
    quota.set(c, q - 1);
    chosen[k++] = i;
  }
  return chosen.sort();
}
