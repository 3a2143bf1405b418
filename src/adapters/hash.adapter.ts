/**
 * Streamed SHA-256 of a file's bytes. Reads through one reused 1 MiB buffer so a 4 GB video costs
 * 1 MiB of memory, and checks that the file did not change while it was read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { acquireFileBytes, releaseFileBytes } from './fs.adapter.js';
import { readInto } from './positional.js';

const CHUNK = 1024 * 1024;

export interface HashResult {
  readonly hash: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/** Thrown when a file's size or mtime changed while it was hashed; transient, retry later. */
export class FileChangedError extends Error {
  readonly code = 'EFILECHANGED';
  constructor(file: string) {
    super(`file changed while it was being read: ${file}`);
  }
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/**
 * Read buffers of finished hashes, reused by the next ones: a scan hashes thousands of files a
 * few at a time, and a fresh 1 MiB buffer per file keeps the garbage collector busy for nothing.
 */
const spare: Buffer[] = [];
const SPARE_MAX = 8;

/** A hash and, when asked for and the file is small, the bytes that were hashed. */
export interface HashedBytes extends HashResult {
  /** From `readFileIfAdmitted`'s pool: give it back with `releaseFileBytes` when done. */
  readonly bytes?: Buffer;
}

/** Files up to this size keep their bytes when asked (`sha256FileKeeping`). */
export const KEEP_BYTES_MAX = 4 * 1024 * 1024;

/**
 * `sha256File`, keeping the bytes of a file of up to KEEP_BYTES_MAX: read whole once, hashed, and
 * handed on (a rebuild's analysis of the new content then does not read the file again).
 */
export async function sha256FileKeeping(file: string): Promise<HashedBytes> {
  const handle = await fs.open(file, 'r');
  let bytes: Buffer | undefined;
  try {
    const before = await handle.stat();
    if (!before.isFile() || before.size === 0 || before.size > KEEP_BYTES_MAX) return await sha256File(file);
    bytes = acquireFileBytes(before.size);
    const total = await readInto(handle, bytes, 0, 0);
    const after = await handle.stat();
    if (total !== before.size || !sameFile(before, after)) throw new FileChangedError(file);
    const hash = createHash('sha256').update(bytes).digest('hex');
    const kept = bytes;
    bytes = undefined;
    return { hash, size: total, mtimeMs: before.mtimeMs, ino: before.ino, bytes: kept };
  } finally {
    if (bytes !== undefined) releaseFileBytes(bytes);
    await handle.close();
  }
}

export async function sha256File(file: string): Promise<HashResult> {
  const handle = await fs.open(file, 'r');
  const buffer = spare.pop() ?? Buffer.allocUnsafe(CHUNK);
  try {
    const before = await handle.stat();
    if (!before.isFile()) throw Object.assign(new Error(`not a regular file: ${file}`), { code: 'ENOTFILE' });
    const hash = createHash('sha256');
    let total = 0;
    // Read exactly the size seen at open; a file that grows or shrinks meanwhile is caught below.
    while (total < before.size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, before.size - total), total);
      if (bytesRead === 0) break;
      hash.update(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
    const after = await handle.stat();
    if (total !== before.size || !sameFile(before, after)) throw new FileChangedError(file);
    return { hash: hash.digest('hex'), size: total, mtimeMs: before.mtimeMs, ino: before.ino };
  } finally {
    if (spare.length < SPARE_MAX) spare.push(buffer);
    await handle.close();
  }
}

export function sha256Buffer(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
