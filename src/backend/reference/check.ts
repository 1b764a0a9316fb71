/**
 * Argument checks shared by the reference kernels. The reference backend is the oracle other backends are tested
 * against, so it refuses a buffer of the wrong size instead of reading past it (a typed array returns `undefined`
 * -> NaN out of bounds, which would hide the caller's bug).
 */

/** Thrown when a kernel argument does not match its contract; the message names the kernel and the field. */
export class KernelArgumentError extends RangeError {
  override name = 'KernelArgumentError';
}

/** Requires `arr.length >= need` (callers may pass larger arena buffers; only the first `need` are used). */
export function requireLength(kernel: string, field: string, arr: ArrayLike<number>, need: number): void {
  if (arr.length < need) {
    throw new KernelArgumentError(
      `reference.${kernel} (src/backend/reference): ${field} has ${arr.length} elements, needs ${need}`,
    );
  }
}

export function requireCount(kernel: string, field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) {
    throw new KernelArgumentError(
      `reference.${kernel} (src/backend/reference): ${field} must be an integer >= 0, got ${v}`,
    );
  }
}
