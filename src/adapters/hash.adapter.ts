/**
 * Streamed SHA-256 of a file's bytes. Reads through one reused 1 MiB buffer so a 4 GB video costs
 * 1 MiB of memory, and checks that the file did not change while it was read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { acquireFileBytes, releaseFileBytes } from './fs.adapter.js';
import { BufferPool } from './buffer-pool.js';

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
 * Read buffers of the streamed hashes, reused by the next ones: a scan hashes thousands of files
 * a few at a time, and a fresh 1 MiB buffer per file keeps the garbage collector busy for nothing.
 */
const CHUNKS = new BufferPool(8 * CHUNK, CHUNK);

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
export function sha256FileKeeping(file: string): Promise<HashedBytes> {
  return hashFile(file, true);
}

export function sha256File(file: string): Promise<HashResult> {
  return hashFile(file, false);
}

/**
 * One open, the size seen then, every byte up to it read once (whole into a pooled buffer when
 * kept, else streamed through a pooled 1 MiB one), and a check that the file did not change.
 */
async function hashFile(file: string, keep: boolean): Promise<HashedBytes> {
  const handle = await fs.open(file, 'r');
  try {
    const before = await handle.stat();
    if (!before.isFile()) throw Object.assign(new Error(`not a regular file: ${file}`), { code: 'ENOTFILE' });
    const whole = keep && before.size > 0 && before.size <= KEEP_BYTES_MAX;
    const buffer = whole ? acquireFileBytes(before.size) : CHUNKS.acquire(CHUNK);
    let kept = false;
    try {
      const hash = createHash('sha256');
      let total = 0;
      // Read exactly the size seen at open; a file that grows or shrinks meanwhile is caught below.
      // Kept bytes fill the buffer; streamed ones reuse it from its start.
      while (total < before.size) {
        const at = whole ? total : 0;
        const want = Math.min(buffer.length - at, before.size - total);
        const { bytesRead } = await handle.read(buffer, at, want, total);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(at, at + bytesRead));
        total += bytesRead;
      }
      const after = await handle.stat();
      if (total !== before.size || !sameFile(before, after)) throw new FileChangedError(file);
      const result = { hash: hash.digest('hex'), size: total, mtimeMs: before.mtimeMs, ino: before.ino };
      kept = whole;
      return whole ? { ...result, bytes: buffer } : result;
    } finally {
      // Kept bytes belong to the caller now.
      if (!kept) {
        if (whole) releaseFileBytes(buffer);
        else CHUNKS.release(buffer);
      }
    }
  } finally {
    await handle.close();
  }
}

export function sha256Buffer(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
