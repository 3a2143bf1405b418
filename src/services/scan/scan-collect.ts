/**
 * Phase 1 of a scan: walk one root, decide which files need hashing (size, mtime and inode match the
 * index → not opened at all), and hash the rest. Problems become per-file errors; nothing throws.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { walkFiles } from '../../adapters/fs.adapter.js';
import {
  FileChangedError,
  sha256File,
  sha256FileKeeping,
  type HashedBytes,
  type HashResult,
} from '../../adapters/hash.adapter.js';
import { statKey } from '../../adapters/index/asset.repository.js';
import type { LocationRow } from '../../adapters/index/rows.js';
import type { RootConfig } from '../../config/config.js';
import { errnoCode, errorMessage } from '../../domain/errors.js';
import { isIgnoredDir, isIndexable, mediaInfoFor, type MediaInfo } from '../../domain/media.js';
import { mapLimit } from '../../pipeline/map-limit.js';
import type { Progress } from '../../ports.js';

export interface FileProblem {
  path: string;
  root: string;
  code: string;
  message: string;
}

export interface SeenFile {
  path: string;
  root: RootConfig;
  rel: string;
  media: MediaInfo;
  size: number;
  mtimeMs: number;
  ino: number;
  /** The index's row for this path (filled in after the walk: see `hadRow`). */
  prev: LocationRow | undefined;
  /** The index holds a location at this path (its row goes into `prev`). */
  hadRow: boolean;
  /** Set once hashed, or when a known (inode, size, mtime) identified a moved file without reading it. */
  byteHash?: string;
  movedFrom?: LocationRow;
}

export interface RootCollection {
  root: RootConfig;
  unchanged: number;
  changed: SeenFile[];
  seenPaths: Set<string>;
  bytes: number;
}

/**
 * `known`: the index's locations at or below `start`, path → statKey (AssetRepository.locationStats).
 * A changed file with a location has `hadRow` set; the caller reads its row into `prev`.
 */
export async function collectRoot(
  root: RootConfig,
  known: ReadonlyMap<string, string>,
  problems: FileProblem[],
  start: string = root.path,
  /** Paths read again even when their stat matches the index (their index entry is incomplete). */
  recheck: ReadonlySet<string> = new Set(),
): Promise<RootCollection> {
  const out: RootCollection = { root, unchanged: 0, changed: [], seenPaths: new Set(), bytes: 0 };
  const walk = walkFiles(start, {
    skipDir: isIgnoredDir,
    acceptFile: isIndexable,
    onProblem: (p) => problems.push({ ...p, root: root.path }),
    // The agent's targets: a symlinked folder below the root is not walked (the full walk skips it
    // too), or a link to the root itself would index every file twice.
    followRootLink: start === root.path,
  });
  for await (const entry of walk) {
    if (entry.name.includes('\uFFFD')) {
      problems.push({
        path: entry.path,
        root: root.path,
        code: 'EBADNAME',
        message: 'file name is not valid UTF-8; rename it',
      });
      continue;
    }
    out.seenPaths.add(entry.path);
    const prev = known.get(entry.path);
    if (prev === statKey(true, entry.size, entry.mtimeMs, entry.ino) && !recheck.has(entry.path)) {
      out.unchanged++;
      continue;
    }
    const media = mediaInfoFor(entry.name);
    if (media === undefined) continue;
    out.changed.push({
      path: entry.path,
      root,
      rel: path.relative(root.path, entry.path),
      media,
      size: entry.size,
      mtimeMs: entry.mtimeMs,
      ino: entry.ino,
      prev: undefined,
      hadRow: prev !== undefined,
    });
  }
  return out;
}

/**
 * Why a path an event named yields no file although its name is one alice indexes: a name that is
 * not valid UTF-8 (the watcher decodes it with U+FFFD, so the path no longer reaches the file), or
 * a symlink whose target vanished. Undefined when the path is simply gone (a deletion).
 */
export async function targetProblem(target: string, root: string): Promise<FileProblem | undefined> {
  const name = path.basename(target);
  if (!isIndexable(name)) return undefined;
  try {
    const st = await fs.lstat(target);
    if (!st.isSymbolicLink()) return undefined;
    await fs.stat(target);
    return undefined;
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
  }
  let exists = false;
  try {
    exists = (await fs.lstat(target)).isSymbolicLink();
  } catch {
    exists = false;
  }
  if (exists) return { path: target, root, code: 'ENOENT', message: 'file vanished before it could be read' };
  if (!name.includes('\uFFFD')) return undefined;
  // Is a file with an undecodable name still there? Its listed name decodes to this one.
  try {
    const names = await fs.readdir(path.dirname(target), { encoding: 'buffer' });
    if (!names.some((b) => b.toString('utf8') === name && !b.equals(Buffer.from(name, 'utf8'))))
      return undefined;
  } catch {
    return undefined;
  }
  return { path: target, root, code: 'EBADNAME', message: 'file name is not valid UTF-8; rename it' };
}

function describeHashError(err: unknown): { code: string; message: string } {
  if (err instanceof FileChangedError)
    return {
      code: 'EFILECHANGED',
      message: 'file changed while it was read (still being written?); will retry',
    };
  const code = errnoCode(err) ?? 'EIO';
  const messages: Record<string, string> = {
    ENOENT: 'file vanished before it could be read',
    EACCES: 'permission denied: cannot read the file',
    EPERM: 'permission denied: cannot read the file',
    EISDIR: 'is a directory',
    ELOOP: 'symlink loop',
  };
  return { code, message: messages[code] ?? errorMessage(err) };
}

/** Hashes files with bounded concurrency; files that fail are removed and reported. */
export async function hashFiles(
  files: SeenFile[],
  concurrency: number,
  progress: Progress,
  problems: FileProblem[],
  /** Hashes taken earlier; used for a file whose size, mtime and inode are still the ones hashed. */
  known?: ReadonlyMap<string, HashResult>,
  /**
   * Called with each file once hashed; the next file of this lane waits for it. With it, a small
   * file is read whole and its bytes are handed over too: `onHashed` owns them (it passes them on
   * or gives them back with `releaseFileBytes`).
   */
  onHashed?: (f: SeenFile, bytes?: Buffer) => Promise<void>,
): Promise<SeenFile[]> {
  progress.start('hashing', files.length);
  const results = await mapLimit(files, concurrency, async (f): Promise<SeenFile | null> => {
    try {
      if (f.byteHash !== undefined) return f;
      const k = known?.get(f.path);
      if (k !== undefined && k.size > 0 && k.size === f.size && k.mtimeMs === f.mtimeMs && k.ino === f.ino) {
        const reused = { ...f, byteHash: k.hash };
        await onHashed?.(reused);
        return reused;
      }
      if (f.size === 0) {
        problems.push({
          path: f.path,
          root: f.root.path,
          code: 'EEMPTY',
          message: 'empty file (0 bytes): not indexed',
        });
        return null;
      }
      const r: HashedBytes =
        onHashed === undefined ? await sha256File(f.path) : await sha256FileKeeping(f.path);
      if (r.size === 0) {
        problems.push({
          path: f.path,
          root: f.root.path,
          code: 'EEMPTY',
          message: 'empty file (0 bytes): not indexed',
        });
        return null;
      }
      const hashed = { ...f, byteHash: r.hash, size: r.size, mtimeMs: r.mtimeMs, ino: r.ino };
      await onHashed?.(hashed, r.bytes);
      return hashed;
    } catch (err) {
      problems.push({ path: f.path, root: f.root.path, ...describeHashError(err) });
      return null;
    } finally {
      progress.tick(1, f.rel);
    }
  });
  progress.done();
  return results.filter((r): r is SeenFile => r !== null);
}
