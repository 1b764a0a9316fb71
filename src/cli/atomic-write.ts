import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The part of `node:fs/promises` the atomic write uses; tests pass a wrapper that fails on purpose. */
export interface AtomicFs {
  open(path: string, flags: string, mode?: number): Promise<AtomicFileHandle>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
  stat(path: string): Promise<{ mode: number; isFile(): boolean }>;
}

export interface AtomicFileHandle {
  writeFile(data: Uint8Array): Promise<void>;
  chmod(mode: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** A failed atomic write: `path` is the target, `code` the system error code (ENOSPC, EACCES, ...) when there is one. */
export class AtomicWriteError extends Error {
  override readonly name = 'AtomicWriteError';
  readonly path: string;
  readonly code: string | undefined;

  constructor(path: string, message: string, options: { code?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.path = path;
    this.code = options.code;
  }
}

/**
 * Replaces the file at `path` with `bytes` so that a reader sees the old content or the new one, never a mix or a
 * truncated file, even if the process dies or the disk fills mid-write (a checkpoint must survive a crash):
 *   1. write to `.<name>.<pid>.<random>.tmp` in the same folder (same file system, so rename is atomic),
 *   2. fsync it (the data is on disk before the name points at it), keeping the old file's permissions,
 *   3. rename it over `path`, 4. fsync the folder, best effort (it makes the rename itself durable on Linux).
 * On any failure the temporary file is removed, the old file is left as it was, and an AtomicWriteError names the
 * path, with a plain explanation for a full disk (ENOSPC), missing permissions (EACCES/EPERM), a read-only file
 * system (EROFS) and a missing folder (ENOENT).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, options: { fs?: AtomicFs } = {}): Promise<void> {
  const fs: AtomicFs = options.fs ?? nodeFs;
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let previousMode: number | null = null;
  try {
    const info = await fs.stat(path);
    if (info.isFile()) previousMode = info.mode & 0o7777;
  } catch {
    // No file yet (or unreadable metadata): the new file gets the default permissions.
  }
  let handle: AtomicFileHandle | null = null;
  let created = false;
  try {
    handle = await fs.open(temp, 'wx');
    created = true;
    await handle.writeFile(bytes);
    if (previousMode !== null) await handle.chmod(previousMode);
    await handle.sync();
    const closing = handle;
    handle = null;
    await closing.close();
    await fs.rename(temp, path);
  } catch (error) {
    if (handle !== null) await handle.close().catch(() => undefined);
    if (created) await fs.rm(temp, { force: true }).catch(() => undefined);
    throw explain(path, folder, bytes.length, error);
  }
  await syncFolder(fs, folder);
}

async function syncFolder(fs: AtomicFs, folder: string): Promise<void> {
  try {
    const dir = await fs.open(folder, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Not every platform can open or fsync a folder (Windows cannot); the rename has happened either way.
  }
}

function explain(path: string, folder: string, size: number, error: unknown): AtomicWriteError {
  const code = (error as { code?: unknown } | null)?.code;
  const known = typeof code === 'string' ? code : undefined;
  const unchanged = 'any existing file there is unchanged';
  let reason: string;
  switch (known) {
    case 'ENOSPC':
    case 'EDQUOT':
      reason = `no space left on the device holding ${folder} (${size} bytes needed)`;
      break;
    case 'EACCES':
    case 'EPERM':
      reason = `permission denied: the folder ${folder} must be writable (a temporary file is created there, then renamed)`;
      break;
    case 'EROFS':
      reason = `${folder} is on a read-only file system`;
      break;
    case 'ENOENT':
      reason = `the folder ${folder} does not exist`;
      break;
    case 'EISDIR':
      reason = 'the path is a directory';
      break;
    default:
      reason = error instanceof Error ? error.message : String(error);
  }
  return new AtomicWriteError(path, `cannot write ${path}: ${reason}; ${unchanged}`, { code: known, cause: error });
}
