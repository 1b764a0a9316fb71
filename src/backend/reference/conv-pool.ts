import type { Conv2dGeometry, Pool2dGeometry } from '../backend.js';
import { KernelArgumentError } from './check.js';
import { conv2dForward } from './conv.js';
import { maxPool2dForward } from './pool.js';

/**
 * The specification of the fused spike conv + max-pool is the composition itself:
 *   convOut = conv2dForward(conv, x, w, bias);  out, argmax = maxPool2dForward(pool, convOut)
 * with the pool reading the whole conv output, `[batch, channels, inH, inW] = [batch, outC, outH, outW]`.
 */
export function spikeConv2dPoolForward(
  conv: Conv2dGeometry,
  pool: Pool2dGeometry,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  argmax: Int32Array,
): void {
  const want = [conv.batch, conv.outC, conv.outH, conv.outW];
  const got = [pool.batch, pool.channels, pool.inH, pool.inW];
  if (got.some((v, i) => v !== want[i])) {
    throw new KernelArgumentError(
      'reference.spikeConv2dPoolForward (src/backend/reference): the pool must read the conv output ' +
        `[batch, outC, outH, outW] = [${want.join(', ')}], got pool [batch, channels, inH, inW] = [${got.join(', ')}]`,
    );
  }
  const convOut = new Float32Array(conv.batch * conv.outC * conv.outH * conv.outW);
  conv2dForward(conv, x, w, bias, convOut);
  maxPool2dForward(pool, convOut, out, argmax);
}
