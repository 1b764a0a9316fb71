/**
 * Finds and compiles the kernel module (built by `node scripts/build-kernels.mjs` into ./generated/). This loader
 * is the wasm engine's only platform code: node:fs in Node, fetch in browsers.
 *
 * SIMD level: relaxed-SIMD (fused multiply-add) when `WebAssembly.validate` accepts a tiny relaxed-SIMD module,
 * else SIMD128. Node 20 ships relaxed SIMD behind `--experimental-wasm-relaxed-simd`; when the first validation
 * fails under Node the flag is set through node:v8 and validation is tried again (Node 22+ and Chrome need nothing).
 */

export type SimdLevel = 'relaxed' | 'simd128';

/** Thrown when no kernel module can be loaded; the message names the file or feature that failed and the fix. */
export class WasmLoadError extends Error {
  override name = 'WasmLoadError';
}

export interface LoadedKernels {
  module: WebAssembly.Module;
  simd: SimdLevel;
  /** Whether the module imports a shared memory (needed for threads). */
  sharedMemory: boolean;
}

export interface LoadOptions {
  /** 'auto' (default) picks relaxed when the engine validates it. */
  simd?: SimdLevel | 'auto';
  sharedMemory: boolean;
}

const WHERE = 'src/backend/wasm/load.ts';

/** A module whose only function runs f32x4.relaxed_madd on three zero vectors (opcode 0xfd 0x85 0x02). */
function relaxedProbe(): Uint8Array<ArrayBuffer> {
  const v128Zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0x00, ...v128Zero, ...v128Zero, ...v128Zero, 0xfd, 0x85, 0x02, 0x1a, 0x0b];
  const code = [0x01, body.length, ...body];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version
    0x01,
    0x04,
    0x01,
    0x60,
    0x00,
    0x00, // type section: () -> ()
    0x03,
    0x02,
    0x01,
    0x00, // function section: one function of type 0
    0x0a,
    code.length,
    ...code, // code section
  ]);
}

/** A module that uses one SIMD128 instruction (v128.const, drop): without it no kernel can run. */
function simdProbe(): Uint8Array<ArrayBuffer> {
  const body = [0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x1a, 0x0b];
  const code = [0x01, body.length, ...body];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    0x01,
    0x04,
    0x01,
    0x60,
    0x00,
    0x00,
    0x03,
    0x02,
    0x01,
    0x00,
    0x0a,
    code.length,
    ...code,
  ]);
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

let relaxedVerdict: Promise<boolean> | undefined;

/** Whether this engine runs relaxed SIMD (enabling it on Node 20 if needed). Decided once per process. */
export function relaxedSimdSupported(): Promise<boolean> {
  relaxedVerdict ??= (async () => {
    if (WebAssembly.validate(relaxedProbe())) return true;
    if (!isNode()) return false;
    try {
      const v8 = await import('node:v8');
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      return false;
    }
    return WebAssembly.validate(relaxedProbe());
  })();
  return relaxedVerdict;
}

function moduleUrl(simd: SimdLevel, shared: boolean): URL {
  // Literal URLs, one per file, so bundlers (Vite) see and copy each asset.
  if (simd === 'relaxed') {
    return shared
      ? new URL('./generated/spikets-kernels-relaxed.wasm', import.meta.url)
      : new URL('./generated/spikets-kernels-relaxed-unshared.wasm', import.meta.url);
  }
  return shared
    ? new URL('./generated/spikets-kernels-simd128.wasm', import.meta.url)
    : new URL('./generated/spikets-kernels-simd128-unshared.wasm', import.meta.url);
}

async function readBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  try {
    if (isNode() && url.protocol === 'file:') {
      const fs = await import('node:fs/promises');
      return new Uint8Array(await fs.readFile(url));
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new WasmLoadError(
      `${WHERE}: cannot read the kernel module ${url.href} (${e instanceof Error ? e.message : String(e)}); ` +
        'build it with `node scripts/build-kernels.mjs`',
    );
  }
}

/** Loads and compiles the kernel module for the best SIMD level this engine runs. */
export async function loadKernels(options: LoadOptions): Promise<LoadedKernels> {
  if (typeof WebAssembly !== 'object') {
    throw new WasmLoadError(`${WHERE}: this JavaScript engine has no WebAssembly`);
  }
  if (!WebAssembly.validate(simdProbe())) {
    throw new WasmLoadError(`${WHERE}: this engine does not support WebAssembly SIMD128, which every kernel needs`);
  }
  const want = options.simd ?? 'auto';
  let simd: SimdLevel;
  if (want === 'simd128') simd = 'simd128';
  else {
    const ok = await relaxedSimdSupported();
    if (!ok && want === 'relaxed') {
      throw new WasmLoadError(`${WHERE}: simd 'relaxed' was requested but this engine does not validate relaxed SIMD`);
    }
    simd = ok ? 'relaxed' : 'simd128';
  }
  const url = moduleUrl(simd, options.sharedMemory);
  const bytes = await readBytes(url);
  try {
    const module = await WebAssembly.compile(bytes);
    return { module, simd, sharedMemory: options.sharedMemory };
  } catch (e) {
    throw new WasmLoadError(
      `${WHERE}: cannot compile ${url.href} (${e instanceof Error ? e.message : String(e)}); ` +
        'rebuild it with `node scripts/build-kernels.mjs`',
    );
  }
}
