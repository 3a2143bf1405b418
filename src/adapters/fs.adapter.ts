/** File-system helpers: atomic writes (temp, fsync, rename) and a bounded, symlink-safe tree walk. */
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AliceError, ErrorCode, errnoCode } from '../domain/errors.js';
import type { EntryStat, StatPort } from '../ports.js';
import { BufferPool } from './buffer-pool.js';
import { readInto } from './positional.js';

/** ENOSPC/EDQUOT as `DISK_FULL` with a hint; other errors unchanged. */
export function diskFullError(file: string, err: unknown): unknown {
  const code = errnoCode(err);
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return err;
  return new AliceError(ErrorCode.DISK_FULL, `disk full: cannot write ${file} (${code})`, {
    hint: 'free space on that disk, then run the command again: nothing was half-written',
    cause: err,
  });
}

/**
 * Writes `data` to `file` atomically: temp file in the same folder, fsync, rename, fsync folder.
 * A full disk fails with `DISK_FULL` and leaves the previous file (if any) and no temp file.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.alice-tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, file);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw diskFullError(file, err);
  }
  await fsyncDir(dir);
}

/**
 * `writeFileAtomic` for many files at once, with the same guarantee for each (temp file, fsync,
 * rename, folder fsync) but overlapped: the temp files are written and fsynced in parallel (the
 * file system commits them together), then renamed, then each folder is fsynced once for the
 * whole batch instead of once per file. Returns one entry per file: undefined when it is durable
 * under its name, else the error (DISK_FULL for a full disk); a failed file leaves no temp file.
 */
export async function writeFilesAtomic(
  files: readonly { file: string; data: string | Uint8Array }[],
  mode = 0o644,
): Promise<unknown[]> {
  const errors = new Array<unknown>(files.length).fill(undefined);
  const dirs = new Map<string, number[]>();
  files.forEach((f, i) => {
    const dir = path.dirname(f.file);
    (dirs.get(dir) ?? dirs.set(dir, []).get(dir))?.push(i);
  });
  await Promise.all(
    [...dirs].map(async ([dir, idx]) => {
      try {
        await fs.mkdir(dir, { recursive: true });
      } catch (err) {
        for (const i of idx) errors[i] = diskFullError(files[i]?.file ?? dir, err);
      }
    }),
  );
  const tmps = files.map((f) =>
    path.join(path.dirname(f.file), `.${path.basename(f.file)}.${randomBytes(6).toString('hex')}.alice-tmp`),
  );
  await Promise.all(
    files.map(async (f, i) => {
      if (errors[i] !== undefined) return;
      const tmp = tmps[i] as string;
      let handle: fs.FileHandle | undefined;
      try {
        handle = await fs.open(tmp, 'wx', mode);
        await handle.writeFile(f.data);
        await handle.sync();
        await handle.close();
        handle = undefined;
        await fs.rename(tmp, f.file);
      } catch (err) {
        await handle?.close().catch(() => undefined);
        await fs.rm(tmp, { force: true }).catch(() => undefined);
        errors[i] = diskFullError(f.file, err);
      }
    }),
  );
  await Promise.all(
    [...dirs].map(async ([dir, idx]) => {
      if (idx.every((i) => errors[i] !== undefined)) return;
      try {
        await fsyncDir(dir);
      } catch (err) {
        for (const i of idx) errors[i] ??= err;
      }
    }),
  );
  return errors;
}

/** Whole-file reads come from here; `releaseFileBytes` gives a buffer back for the next file. */
const READS = new BufferPool(48 * 1024 * 1024, 32 * 1024 * 1024);

/**
 * Reads a file whole when `admit(size)` says yes once its size is known (undefined otherwise, and
 * for an empty file): lets a caller reserve memory for the bytes before they are read. The bytes
 * may go back with `releaseFileBytes` once nothing reads them any more (else the collector takes
 * them). A file that shrank while read gives what was there.
 */
export async function readFileIfAdmitted(
  file: string,
  admit: (size: number) => boolean,
): Promise<Buffer | undefined> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size <= 0 || !admit(size)) return undefined;
    const buf = READS.acquire(size);
    try {
      return buf.subarray(0, await readInto(handle, buf, 0, 0));
    } catch (err) {
      READS.release(buf);
      throw err;
    }
  } finally {
    await handle.close();
  }
}

/** A buffer of `size` bytes from the same pool, to give back with `releaseFileBytes`. */
export function acquireFileBytes(size: number): Buffer {
  return READS.acquire(size);
}

/** Gives bytes from `readFileIfAdmitted` back for reuse: the caller must not touch them again. */
export function releaseFileBytes(buf: Uint8Array): void {
  READS.release(buf);
}

/** The whole file when it holds at most `max` bytes (one open), else undefined. */
export function readSmallFile(file: string, max: number): Promise<Buffer | undefined> {
  return readFileIfAdmitted(file, (size) => size <= max);
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const h = await fs.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch (err) {
    // Some file systems refuse fsync on directories; the rename is still atomic. Anything else
    // (EIO) means the write may not be durable: the caller hears of it.
    if (!DIR_FSYNC_REFUSED.has(errnoCode(err) ?? '')) throw err;
  }
}

const DIR_FSYNC_REFUSED: ReadonlySet<string> = new Set([
  'EINVAL',
  'ENOTSUP',
  'EISDIR',
  'EBADF',
  'EPERM',
  'EACCES',
]);

export interface WalkEntry {
  readonly path: string;
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

export interface WalkProblem {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export interface WalkOptions {
  /** Called for every directory name; return true to skip it. */
  skipDir: (name: string) => boolean;
  /** Called for every file name; return true to consider it. */
  acceptFile: (name: string) => boolean;
  onProblem: (problem: WalkProblem) => void;
  /**
   * Follow `root` itself when it is a symlink to a folder. Default true (a configured root may be a
   * link); false for a path below a root, so a linked folder is skipped as the full walk skips it.
   */
  followRootLink?: boolean;
}

function describe(code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
      return 'broken symlink or file vanished';
    case 'ELOOP':
      return 'symlink loop';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return code ?? 'unreadable';
  }
}

/** Files of one folder stat'ed in parallel at a time by `walkFiles`. */
const STAT_CHUNK = 64;

/**
 * Walks a tree depth-first without following symlinked directories (so loops cannot happen);
 * symlinked files are followed. Problems are reported, never thrown.
 */
export async function* walkFiles(root: string, opts: WalkOptions): AsyncGenerator<WalkEntry> {
  let top: import('node:fs').Stats;
  try {
    top = await fs.stat(root);
  } catch (err) {
    // Vanished: the caller compares with what it knew. Anything else is a problem to report.
    const code = errnoCode(err);
    if (!isGone(err))
      opts.onProblem({ path: root, code: code ?? 'EIO', message: `cannot read: ${describe(code)}` });
    return;
  }
  if (top.isDirectory() && opts.followRootLink === false && (await isSymlink(root))) return;
  if (!top.isDirectory()) {
    // A FIFO, socket or device is skipped, as in the walk below: never opened (a FIFO would block).
    const name = path.basename(root);
    if (top.isFile() && opts.acceptFile(name))
      yield { path: root, name, size: top.size, mtimeMs: top.mtimeMs, ino: top.ino };
    return;
  }
  const stack: string[] = [root];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = errnoCode(err);
      if (dir !== root || code !== 'ENOENT')
        opts.onProblem({ path: dir, code: code ?? 'EIO', message: `cannot list folder: ${describe(code)}` });
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? 1 : -1));
    const candidates: string[] = [];
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!opts.skipDir(entry.name)) stack.push(full);
        continue;
      }
      if (!opts.acceptFile(entry.name)) continue;
      if (!entry.isFile() && !entry.isSymbolicLink()) continue;
      candidates.push(entry.name);
    }
    // Stats run a chunk at a time in parallel (one thread-pool round trip each, sequentially they
    // dominated a no-op update); entries are still yielded in listing order.
    for (let i = 0; i < candidates.length; i += STAT_CHUNK) {
      const names = candidates.slice(i, i + STAT_CHUNK);
      const stats = await Promise.allSettled(names.map((n) => fs.stat(path.join(dir, n))));
      for (const [j, r] of stats.entries()) {
        const name = names[j] as string;
        const full = path.join(dir, name);
        if (r.status === 'fulfilled') {
          const st = r.value;
          if (st.isDirectory()) continue; // symlinked directory: never followed
          if (!st.isFile()) continue;
          yield { path: full, name, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
          continue;
        }
        const code = errnoCode(r.reason);
        // readdir decodes names as UTF-8, so a name with invalid bytes comes back with U+FFFD and
        // no longer points at the file: stat then fails with ENOENT.
        if (code === 'ENOENT' && name.includes('\uFFFD')) {
          opts.onProblem({
            path: full,
            code: 'EBADNAME',
            message: 'file name is not valid UTF-8; rename it',
          });
          continue;
        }
        opts.onProblem({ path: full, code: code ?? 'EIO', message: describe(code) });
      }
    }
  }
}

async function isSymlink(p: string): Promise<boolean> {
  try {
    return (await fs.lstat(p)).isSymbolicLink();
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}

/**
 * True for a folder that can be reached now. Every error counts as "not reachable" on purpose:
 * a root that cannot be stat'ed (gone, EACCES, EIO on an unplugged disk) is offline, and nothing
 * under an offline root is ever marked missing.
 */
export async function isDirectory(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (st) => st.isDirectory(),
    () => false,
  );
}

export async function readFileLimited(
  file: string,
  maxBytes: number,
): Promise<{ data: Buffer } | { tooLarge: number }> {
  const handle = await fs.open(file, 'r');
  try {
    const st = await handle.stat();
    if (st.size > maxBytes) return { tooLarge: st.size };
    return { data: await handle.readFile() };
  } finally {
    await handle.close();
  }
}

function entryStat(st: Stats): EntryStat {
  return { isFile: st.isFile(), isDirectory: st.isDirectory(), mtimeMs: st.mtimeMs, dev: st.dev };
}

/** Gone: the path or one of its parent folders does not exist. */
function isGone(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The real file system for the watcher's StatPort. */
export const NODE_STAT: StatPort = {
  stat: async (p) => {
    try {
      return entryStat(await fs.stat(p));
    } catch (err) {
      if (isGone(err)) return undefined;
      throw err;
    }
  },
  lstat: async (p) => {
    try {
      return entryStat(await fs.lstat(p));
    } catch (err) {
      if (isGone(err)) return undefined;
      throw err;
    }
  },
};

/** True when `p` exists (a dangling symlink counts); false only for ENOENT, other errors throw. */
export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
