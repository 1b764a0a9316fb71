/**
 * The code every worker thread runs, as a string: started with `eval: true` in Node (worker_threads) and from a Blob
 * URL in browsers, so it needs no file next to the compiled library and no bundler support. It instantiates the
 * kernel module over the shared memory, then loops: wait for the generation counter to move, run its share of the
 * job described in the control block, count itself done. See ./threads.ts for the protocol.
 */
export const CTRL = {
  /** Int32 slots of the control block. */
  GEN: 0,
  DONE: 1,
  FN: 2,
  NARGS: 3,
  QUIT: 4,
  ERROR: 5,
  NTH: 6,
  /** Byte offset of the float64 argument slots inside the control block. */
  ARGS_BYTE: 64,
  MAX_ARGS: 40,
  /** Total bytes of the control block. */
  BYTES: 64 + 40 * 8,
} as const;

export const WORKER_SOURCE = `
'use strict';
const C = ${JSON.stringify(CTRL)};
const isNode = typeof process === 'object' && process !== null && !!(process.versions && process.versions.node);
const port = isNode ? require('node:worker_threads').parentPort : self;
function listen(fn) {
  if (isNode) port.once('message', fn);
  else self.addEventListener('message', function first(ev) { self.removeEventListener('message', first); fn(ev.data); });
}
listen(function init(d) {
  let inst;
  try {
    inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory } });
  } catch (e) {
    port.postMessage({ type: 'error', message: String(e && e.message || e) });
    return;
  }
  const fns = d.names.map(function (n) { return inst.exports[n]; });
  const i32 = new Int32Array(d.memory.buffer, d.ctrl, 16);
  const f64 = new Float64Array(d.memory.buffer, d.ctrl + C.ARGS_BYTE, C.MAX_ARGS);
  const tid = d.tid;
  const spin = d.spin;
  const args = [];
  // The generation at pool creation, not a fresh load: the caller may post job 1 as soon as 'ready' arrives,
  // and a worker that read GEN after that would wait for job 2 while the caller waits for it forever.
  let seen = d.gen;
  port.postMessage({ type: 'ready' });
  for (;;) {
    let g = Atomics.load(i32, C.GEN);
    for (let s = 0; g === seen && s < spin; s++) g = Atomics.load(i32, C.GEN);
    while (g === seen) {
      Atomics.wait(i32, C.GEN, seen);
      g = Atomics.load(i32, C.GEN);
    }
    seen = g;
    if (Atomics.load(i32, C.QUIT) !== 0) break;
    const nth = i32[C.NTH];
    if (tid < nth) {
      try {
        const n = i32[C.NARGS];
        args.length = n + 2;
        args[0] = tid;
        args[1] = nth;
        for (let i = 0; i < n; i++) args[i + 2] = f64[i];
        fns[i32[C.FN]].apply(null, args);
      } catch (e) {
        Atomics.store(i32, C.ERROR, tid);
        port.postMessage({ type: 'error', message: String(e && e.message || e) });
      }
    }
    Atomics.add(i32, C.DONE, 1);
    Atomics.notify(i32, C.DONE);
  }
  port.postMessage({ type: 'exit' });
});
`;
