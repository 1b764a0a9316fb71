import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicWriteError, writeFileAtomic, type AtomicFileHandle, type AtomicFs } from '../../src/cli/atomic-write.js';

const root = mkdtempSync(join(tmpdir(), 'spikets-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshFolder = () => {
  const dir = join(root, `case${folders++}`);
  mkdirSync(dir);
  return dir;
};
const bytes = (text: string) => new TextEncoder().encode(text);

/** Real node:fs, except that one step fails with a system error of the given code. */
function failingFs(step: 'write' | 'sync' | 'rename', code: string): AtomicFs {
  const fs = fsp as unknown as AtomicFs;
  const fail = () => Promise.reject(Object.assign(new Error(`${code}: simulated`), { code }));
  return {
    ...fs,
    rename: step === 'rename' ? fail : (from, to) => fs.rename(from, to),
    open: async (path, flags, mode) => {
      const handle = await fs.open(path, flags, mode);
      if (flags !== 'wx') return handle;
      const wrapped: AtomicFileHandle = {
        // Part of the data reaches the disk before the failure, as with a disk that fills up mid-write.
        writeFile:
          step === 'write' ? (data) => handle.writeFile(data.subarray(0, 3)).then(fail) : (d) => handle.writeFile(d),
        chmod: (m) => handle.chmod(m),
        sync: step === 'sync' ? fail : () => handle.sync(),
        close: () => handle.close(),
      };
      return wrapped;
    },
  };
}

describe('writeFileAtomic', () => {
  it('writes a new file and leaves no temporary file', async () => {
    const dir = freshFolder();
    const target = join(dir, 'model.safetensors');
    await writeFileAtomic(target, bytes('hello'));
    expect(readFileSync(target, 'utf8')).toBe('hello');
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('replaces an existing file, keeping its permissions', async () => {
    const dir = freshFolder();
    const target = join(dir, 'ck.bin');
    writeFileSync(target, 'old content that is longer');
    chmodSync(target, 0o640);
    await writeFileAtomic(target, bytes('new'));
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(statSync(target).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['ck.bin']);
  });

  it('writes empty and large contents byte for byte', async () => {
    const dir = freshFolder();
    await writeFileAtomic(join(dir, 'empty'), new Uint8Array(0));
    expect(statSync(join(dir, 'empty')).size).toBe(0);
    const big = new Uint8Array(3 << 20).map((_, i) => (i * 2654435761) >>> 24);
    await writeFileAtomic(join(dir, 'big'), big.subarray(5)); // a view with an offset
    expect(readFileSync(join(dir, 'big')).equals(Buffer.from(big.subarray(5)))).toBe(true);
  });

  for (const [step, code, message] of [
    ['write', 'ENOSPC', /no space left on the device holding .* \(11 bytes needed\)/],
    ['sync', 'EIO', /EIO: simulated/],
    ['rename', 'EACCES', /permission denied: the folder .* must be writable/],
  ] as const) {
    it(`keeps the old file and removes the temporary one when ${step} fails with ${code}`, async () => {
      const dir = freshFolder();
      const target = join(dir, 'ck.safetensors');
      writeFileSync(target, 'previous');
      const error = await writeFileAtomic(target, bytes('replacement'), { fs: failingFs(step, code) }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AtomicWriteError);
      const e = error as AtomicWriteError;
      expect(e.path).toBe(target);
      expect(e.code).toBe(code);
      expect(e.message).toContain(`cannot write ${target}: `);
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/any existing file there is unchanged$/);
      expect((e.cause as Error).message).toBe(`${code}: simulated`);
      expect(readFileSync(target, 'utf8')).toBe('previous');
      expect(readdirSync(dir)).toEqual(['ck.safetensors']);
    });
  }

  it('names a missing folder and a directory in the way', async () => {
    const dir = freshFolder();
    const missing = join(dir, 'no', 'such', 'file');
    await expect(writeFileAtomic(missing, bytes('x'))).rejects.toThrow(/the folder .*such does not exist/);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'keep'), 'x');
    await expect(writeFileAtomic(join(dir, 'sub'), bytes('x'))).rejects.toBeInstanceOf(AtomicWriteError);
    expect(readdirSync(dir)).toEqual(['sub']);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['keep']);
  });

  it('fails in a read-only folder with the path named and the old file intact', async (ctx) => {
    const dir = freshFolder();
    const target = join(dir, 'ck.safetensors');
    writeFileSync(target, 'previous');
    chmodSync(dir, 0o555);
    // root ignores folder permissions; the immutable attribute stops it too, where chattr is allowed.
    const immutable = process.getuid?.() === 0 && spawnSync('chattr', ['+i', dir], { stdio: 'ignore' }).status === 0;
    try {
      let writable = true;
      try {
        writeFileSync(join(dir, 'probe'), 'x');
        rmSync(join(dir, 'probe'));
      } catch {
        writable = false;
      }
      if (writable) ctx.skip('this user can write into a read-only folder and chattr is unavailable');
      const error = await writeFileAtomic(target, bytes('replacement')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AtomicWriteError);
      expect((error as AtomicWriteError).code).toMatch(/^(EACCES|EPERM)$/);
      expect((error as AtomicWriteError).message).toMatch(
        new RegExp(`^cannot write ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: permission denied`),
      );
      expect(readFileSync(target, 'utf8')).toBe('previous');
      expect(readdirSync(dir)).toEqual(['ck.safetensors']);
    } finally {
      if (immutable) spawnSync('chattr', ['-i', dir], { stdio: 'ignore' });
      chmodSync(dir, 0o755);
    }
  });
});
