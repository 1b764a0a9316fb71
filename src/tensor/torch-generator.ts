/**
 * PyTorch's CPU random generator, draw for draw: `new TorchGenerator(s)` is `torch.manual_seed(s)` (or
 * `torch.Generator().manual_seed(s)`), so a network initialised and a data set shuffled from it start exactly where
 * the same PyTorch program does. The study's snnTorch runs are such programs: with this generator spikets' seed N
 * gives their initial weights and batch order for `torch.manual_seed(N)` (checked bit for bit against the reference
 * run's `train_replay_init.json`).
 *
 * The engine is MT19937 (ATen's `at::mt19937`: the standard 32-bit Mersenne Twister, seeded by the standard
 * `s[i] = 1812433253 * (s[i-1] ^ (s[i-1] >> 30)) + i`), and the draws follow PyTorch 1.13's CPU kernels:
 *  - `Tensor.uniform_(from, to)` on float32, one 32-bit draw per element in memory order:
 *      x = (random() & (2^24 - 1)) * 2^-24;   value = x * (to - from) + from
 *    in float32 with from, to rounded to float32 and the multiply-add rounded once (the CPU kernel is built with
 *    FMA contraction: two roundings disagree with PyTorch's weights in 35% of the elements, one in none);
 *  - `torch.randperm(n, generator)` (n < 2^32 / 20): start from the identity, then for i = 0 .. n-2
 *      z = random() % (n - i);  swap(p[i], p[i + z])
 * It is not a general replacement for `Rng`: it implements these two draws only.
 */
export class TorchGenerator {
  private readonly state = new Uint32Array(624);
  private index = 624;

  constructor(seed = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`TorchGenerator: seed must be an integer in [0, 2^32), got ${seed}`);
    }
    const s = this.state;
    s[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = s[i - 1]! ^ (s[i - 1]! >>> 30);
      s[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** The next 32-bit output (`generator->random()`). */
  random(): number {
    if (this.index >= 624) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** One float32 element of `Tensor.uniform_(low, high)` (low and high are rounded to float32 first, as there). */
  uniformRange(low: number, high: number): number {
    const from = Math.fround(low);
    const to = Math.fround(high);
    const x = (this.random() & 0xffffff) * 2 ** -24;
    // x * (to - from) is exact in a double (24-bit by 24-bit), so rounding the sum once is the fused multiply-add
    return Math.fround(x * Math.fround(to - from) + from);
  }

  /** `torch.randperm(n, generator=this)`. */
  randperm(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n >= 0xffffffff / 20) {
      throw new RangeError(`TorchGenerator.randperm: n must be an integer in [0, 2^32 / 20), got ${n}`);
    }
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = 0; i < n - 1; i++) {
      const j = i + (this.random() % (n - i));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < 624; i++) {
      const y = (s[i]! & 0x80000000) | (s[(i + 1) % 624]! & 0x7fffffff);
      s[i] = s[(i + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }
}
