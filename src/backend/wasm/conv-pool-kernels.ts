import type { Conv2dGeometry, ConvForwardOptions, Pool2dGeometry } from '../backend.js';
import {
  ArrayBridge,
  checkArgmax,
  checkPoolGradient,
  checkPoolReadsConv,
  convSizes,
  need,
  poolSizes,
  SKIP_NEGATIVE,
} from './array-bridge.js';
import type { Ptr } from './engine.js';

/** The convolution and pooling kernels of the wasm backend (dense, spike-sparse and pool-fused), on arrays. */
export abstract class ConvPoolKernels extends ArrayBridge {
  conv2dForward(
    g: Conv2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    options: ConvForwardOptions = {},
  ): void {
    this.convForward('conv2dForward', g, x, w, bias, out, (px, pw, pb, po) =>
      this.engine.conv2dForwardPtr(g, px, pw, pb, po, options.winograd ? 'auto' : 'direct'),
    );
  }

  conv2dBackwardInput(g: Conv2dGeometry, dOut: Float32Array, w: Float32Array, dx: Float32Array): void {
    const s = convSizes(g);
    need('conv2dBackwardInput', 'dOut', dOut, s.out);
    need('conv2dBackwardInput', 'w', w, s.w);
    need('conv2dBackwardInput', 'dx', dx, s.x);
    this.scoped(() => {
      const pg = this.put(dOut, s.out);
      const pw = this.put(w, s.w);
      const px = this.out(dx, s.x);
      this.engine.conv2dBackwardInputPtr(g, pg, pw, px);
      this.get(px, dx, s.x);
    });
  }

  conv2dBackwardWeight(
    g: Conv2dGeometry,
    x: Float32Array,
    dOut: Float32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void {
    this.convWeight('conv2dBackwardWeight', g, x, dOut, dw, dBias, accumulate, (px, pg, pw, pb) =>
      this.engine.conv2dBackwardWeightPtr(g, px, pg, pw, pb, accumulate),
    );
  }

  spikeConv2dForward(
    g: Conv2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
  ): void {
    this.convForward('spikeConv2dForward', g, x, w, bias, out, (px, pw, pb, po) =>
      this.engine.spikeConv2dForwardPtr(g, px, pw, pb, po),
    );
  }

  spikeConv2dBackwardWeight(
    g: Conv2dGeometry,
    x: Float32Array,
    dOut: Float32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void {
    this.convWeight('spikeConv2dBackwardWeight', g, x, dOut, dw, dBias, accumulate, (px, pg, pw, pb) =>
      this.engine.spikeConv2dBackwardWeightPtr(g, px, pg, pw, pb, accumulate),
    );
  }

  spikeConv2dPoolForward(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    argmax: Int32Array,
  ): void {
    const name = 'spikeConv2dPoolForward';
    checkPoolReadsConv(name, conv, pool);
    const s = convSizes(conv);
    const pooled = poolSizes(pool).out;
    need(name, 'x', x, s.x);
    need(name, 'w', w, s.w);
    if (bias) need(name, 'bias', bias, conv.outC);
    need(name, 'out', out, pooled);
    need(name, 'argmax', argmax, pooled);
    this.scoped(() => {
      const [po, pa] = [this.out(out, pooled), this.out(argmax, pooled)];
      const pb = bias ? this.put(bias, conv.outC) : 0;
      this.engine.spikeConv2dPoolForwardPtr(conv, pool, this.put(x, s.x), this.put(w, s.w), pb, po, pa);
      this.get(po, out, pooled);
      this.get(pa, argmax, pooled);
    });
  }

  /** The Float32Array wrapper shared by the dense and spike forward convolutions: checks, places, runs `kernel`. */
  private convForward(
    name: string,
    g: Conv2dGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    kernel: (x: Ptr, w: Ptr, bias: Ptr, out: Ptr) => unknown,
  ): void {
    const s = convSizes(g);
    need(name, 'x', x, s.x);
    need(name, 'w', w, s.w);
    if (bias) need(name, 'bias', bias, g.outC);
    need(name, 'out', out, s.out);
    this.scoped(() => {
      const po = this.out(out, s.out);
      kernel(this.put(x, s.x), this.put(w, s.w), bias ? this.put(bias, g.outC) : 0, po);
      this.get(po, out, s.out);
    });
  }

  /** The wrapper shared by the dense and spike weight gradients (accumulate reads dw/dBias, else only writes them). */
  private convWeight(
    name: string,
    g: Conv2dGeometry,
    x: Float32Array,
    dOut: Float32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
    kernel: (x: Ptr, dOut: Ptr, dw: Ptr, dBias: Ptr) => unknown,
  ): void {
    const s = convSizes(g);
    need(name, 'x', x, s.x);
    need(name, 'dOut', dOut, s.out);
    need(name, 'dw', dw, s.w);
    if (dBias) need(name, 'dBias', dBias, g.outC);
    this.scoped(() => {
      const pw = accumulate ? this.put(dw, s.w) : this.out(dw, s.w);
      const pb = dBias ? (accumulate ? this.put(dBias, g.outC) : this.out(dBias, g.outC)) : 0;
      kernel(this.put(x, s.x), this.put(dOut, s.out), pw, pb);
      this.get(pw, dw, s.w);
      if (dBias) this.get(pb, dBias, g.outC);
    });
  }

  poolConv2dBackwardInput(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    dPool: Float32Array,
    argmax: Int32Array,
    w: Float32Array,
    dx: Float32Array,
  ): void {
    const name = 'poolConv2dBackwardInput';
    const s = convSizes(conv);
    const pooled = checkPoolGradient(name, conv, pool, dPool, argmax);
    need(name, 'w', w, s.w);
    need(name, 'dx', dx, s.x);
    this.scoped(() => {
      const pa = this.put(argmax, pooled);
      checkArgmax(name, this.engine, pa, pooled, conv.outH * conv.outW, SKIP_NEGATIVE);
      const px = this.out(dx, s.x);
      this.engine.poolConvBackwardInputPtr(conv, pool, this.put(dPool, pooled), pa, this.put(w, s.w), px);
      this.get(px, dx, s.x);
    });
  }

  spikePoolConv2dBackwardWeight(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    dPool: Float32Array,
    argmax: Int32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void {
    const name = 'spikePoolConv2dBackwardWeight';
    this.poolWeight(name, conv, pool, x, dPool, argmax, dw, dBias, accumulate, SKIP_NEGATIVE, (px, pd, pa, pw, pb) =>
      this.engine.spikePoolConv2dBackwardWeightPtr(conv, pool, px, pd, pa, pw, pb, accumulate),
    );
  }

  poolConv2dBackwardWeight(
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    dPool: Float32Array,
    argmax: Int32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
  ): void {
    const name = 'poolConv2dBackwardWeight';
    this.poolWeight(name, conv, pool, x, dPool, argmax, dw, dBias, accumulate, -1, (px, pd, pa, pw, pb) =>
      this.engine.poolConvBackwardWeightPtr(conv, pool, px, pd, pa, pw, pb, accumulate),
    );
  }

  /**
   * The wrapper shared by the two pool-fed weight gradients: checks, argmax range (from `lo`, see checkArgmax),
   * places, runs `kernel` (accumulate reads dw/dBias, else only writes them).
   */
  private poolWeight(
    name: string,
    conv: Conv2dGeometry,
    pool: Pool2dGeometry,
    x: Float32Array,
    dPool: Float32Array,
    argmax: Int32Array,
    dw: Float32Array,
    dBias: Float32Array | null,
    accumulate: boolean,
    lo: number,
    kernel: (x: Ptr, dPool: Ptr, argmax: Ptr, dw: Ptr, dBias: Ptr) => unknown,
  ): void {
    const s = convSizes(conv);
    const pooled = checkPoolGradient(name, conv, pool, dPool, argmax);
    need(name, 'x', x, s.x);
    need(name, 'dw', dw, s.w);
    if (dBias) need(name, 'dBias', dBias, conv.outC);
    this.scoped(() => {
      const pa = this.put(argmax, pooled);
      checkArgmax(name, this.engine, pa, pooled, conv.outH * conv.outW, lo);
      const pw = accumulate ? this.put(dw, s.w) : this.out(dw, s.w);
      const pb = dBias ? (accumulate ? this.put(dBias, conv.outC) : this.out(dBias, conv.outC)) : 0;
      kernel(this.put(x, s.x), this.put(dPool, pooled), pa, pw, pb);
      this.get(pw, dw, s.w);
      if (dBias) this.get(pb, dBias, conv.outC);
    });
  }

  maxPool2dForward(g: Pool2dGeometry, x: Float32Array, out: Float32Array, argmax: Int32Array): void {
    const s = poolSizes(g);
    need('maxPool2dForward', 'x', x, s.x);
    need('maxPool2dForward', 'out', out, s.out);
    need('maxPool2dForward', 'argmax', argmax, s.out);
    this.scoped(() => {
      const px = this.put(x, s.x);
      const po = this.out(out, s.out);
      const pa = this.out(argmax, s.out);
      this.engine.maxPool2dForwardPtr(g, px, po, pa);
      this.get(po, out, s.out);
      this.get(pa, argmax, s.out);
    });
  }

  maxPool2dBackward(g: Pool2dGeometry, dOut: Float32Array, argmax: Int32Array, dx: Float32Array): void {
    const s = poolSizes(g);
    need('maxPool2dBackward', 'dOut', dOut, s.out);
    need('maxPool2dBackward', 'argmax', argmax, s.out);
    need('maxPool2dBackward', 'dx', dx, s.x);
    this.scoped(() => {
      const pa = this.put(argmax, s.out);
      checkArgmax('maxPool2dBackward', this.engine, pa, s.out, g.inH * g.inW);
      const pg = this.put(dOut, s.out);
      const px = this.out(dx, s.x);
      this.engine.maxPool2dBackwardPtr(g, pg, pa, px);
      this.get(px, dx, s.x);
    });
  }

  avgPool2dForward(g: Pool2dGeometry, x: Float32Array, out: Float32Array): void {
    const s = poolSizes(g);
    need('avgPool2dForward', 'x', x, s.x);
    need('avgPool2dForward', 'out', out, s.out);
    this.scoped(() => {
      const px = this.put(x, s.x);
      const po = this.out(out, s.out);
      this.engine.avgPool2dForwardPtr(g, px, po);
      this.get(po, out, s.out);
    });
  }

  avgPool2dBackward(g: Pool2dGeometry, dOut: Float32Array, dx: Float32Array): void {
    const s = poolSizes(g);
    need('avgPool2dBackward', 'dOut', dOut, s.out);
    need('avgPool2dBackward', 'dx', dx, s.x);
    this.scoped(() => {
      const pg = this.put(dOut, s.out);
      const px = this.out(dx, s.x);
      this.engine.avgPool2dBackwardPtr(g, pg, px);
      this.get(px, dx, s.x);
    });
  }
}
