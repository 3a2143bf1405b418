/**
 * File steps of a safe in-place rewrite: copy to a hidden temp file in the same directory, let a
 * tool change the copy, then move it over the original in one rename. The original is never
 * opened for writing, so a failure at any step leaves it byte-identical.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, constants as fsConstants } from 'node:fs';
import { chmod, copyFile, link, open, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../domain/errors.js';

/** What is kept from the original: permissions, times, and what detects a concurrent change. */
export interface FileSnapshot {
  readonly mode: number;
  readonly size: number;
  readonly ino: number;
  readonly atime: Date;
  readonly mtime: Date;
  readonly mtimeMs: number;
}

export async function snapshotFile(file: string): Promise<FileSnapshot> {
  const s = await stat(file);
  return {
    mode: s.mode & 0o7777,
    size: s.size,
    ino: s.ino,
    atime: s.atime,
    mtime: s.mtime,
    mtimeMs: s.mtimeMs,
  };
}

/**
 * `.<name>.<random>.alice-tmp` beside the file: hidden and with a temp suffix, so alice's own
 * watcher (see `isIgnoredName`) and most sync tools skip it; same directory, so the final
 * rename stays on one file system and is atomic. Control characters in the name are replaced.
 */
export function tempPathFor(file: string): string {
  const dir = path.dirname(file);
  // Control characters become `_`: exiftool, which writes into the temp copy, cannot be given a
  // path holding a line break.
  const name = [...path.basename(file)].map((c) => (c < ' ' || c === '\u007f' ? '_' : c)).join('');
  return path.join(dir, `.${name}.${randomBytes(4).toString('hex')}.alice-tmp`);
}

/** Copies `file` to a new temp path (never overwriting one) and returns the temp path. */
export async function copyToTemp(file: string): Promise<string> {
  const temp = tempPathFor(file);
  await copyFile(file, temp, fsConstants.COPYFILE_EXCL);
  return temp;
}

/** Gives the temp file the original's permissions and, when asked, its times; then syncs it. */
export async function finishTemp(
  temp: string,
  original: FileSnapshot,
  preserveMtime: boolean,
): Promise<void> {
  await chmod(temp, original.mode);
  if (preserveMtime) await utimes(temp, original.atime, original.mtime);
  const handle = await open(temp, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** True when the file still is what was snapshotted (no other program changed it meanwhile). */
export async function unchangedSince(file: string, before: FileSnapshot): Promise<boolean> {
  const now = await snapshotFile(file);
  return now.ino === before.ino && now.size === before.size && now.mtimeMs === before.mtimeMs;
}

/** Moves `temp` over `file` in one step, then syncs the directory entry where supported. */
export async function replaceWithTemp(temp: string, file: string): Promise<void> {
  await rename(temp, file);
  try {
    const dir = await open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    // Some file systems (and Windows) refuse to fsync a directory; the rename itself is done.
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'EBADF'].includes(errnoCode(err) ?? '')) throw err;
  }
}

/**
 * Makes `file` another hard link of `source` in one step (link to a temp name beside `file`, then
 * rename over it): a path that shared its inode with `source` before `source` was rewritten
 * shares it again, so a hard-linked copy stays a link instead of becoming a second file.
 */
export async function replaceWithLink(source: string, file: string): Promise<void> {
  const temp = tempPathFor(file);
  await link(source, temp);
  try {
    await replaceWithTemp(temp, file);
  } catch (err) {
    await removeTemp(temp);
    throw err;
  }
}

/** Deletes a temp file if it exists (cleanup after a failure). */
export async function removeTemp(temp: string): Promise<void> {
  await rm(temp, { force: true });
}

/** SHA-256 (hex) of a file's bytes, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
