/**
 * Reads and writes `.metadata/<2 hex>/<hash>.json` sidecars under a root. Writes are atomic and keep
 * unknown fields; a sidecar that cannot be trusted is renamed aside (`.corrupt-<time>`), never
 * silently overwritten.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, errorMessage } from '../domain/errors.js';
import {
  HASH_RE,
  SIDECAR_MAX_BYTES,
  checkSidecar,
  serialiseSidecar,
  sidecarRelPath,
  type Sidecar,
} from '../domain/sidecar.js';
import { readFileLimited, writeFileAtomic, writeFilesAtomic } from './fs.adapter.js';

export type SidecarRead =
  | { status: 'ok'; file: string; sidecar: Sidecar }
  | { status: 'absent'; file: string }
  | { status: 'corrupt'; file: string; reason: string }
  | { status: 'old_version'; file: string; version: string; data: unknown };

export function sidecarPath(root: string, hash: string): string {
  return path.join(root, sidecarRelPath(hash));
}

/** Reads and validates one sidecar file, which must describe `expectedHash` when given. */
export async function readSidecarFile(file: string, expectedHash?: string): Promise<SidecarRead> {
  let data: Buffer;
  try {
    const res = await readFileLimited(file, SIDECAR_MAX_BYTES);
    if ('tooLarge' in res)
      return { status: 'corrupt', file, reason: `larger than 1 MiB (${res.tooLarge} bytes)` };
    data = res.data;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { status: 'absent', file };
    return { status: 'corrupt', file, reason: `unreadable: ${errorMessage(err)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch (err) {
    return { status: 'corrupt', file, reason: `not valid JSON: ${errorMessage(err)}` };
  }
  const check = checkSidecar(json, expectedHash);
  if (check.ok) return { status: 'ok', file, sidecar: check.sidecar };
  if (check.version !== undefined && check.version !== 'undefined') {
    return { status: 'old_version', file, version: check.version, data: json };
  }
  return { status: 'corrupt', file, reason: check.reason };
}

export function readSidecar(root: string, hash: string): Promise<SidecarRead> {
  return readSidecarFile(sidecarPath(root, hash), hash);
}

export async function writeSidecar(root: string, sidecar: Sidecar): Promise<string> {
  const file = sidecarPath(root, sidecar.content_hash);
  await writeFileAtomic(file, serialiseSidecar(sidecar));
  return file;
}

/**
 * Writes many sidecars, each atomically (see `writeFilesAtomic`: one folder fsync per batch).
 * Returns one entry per sidecar: undefined once it is durable, else the error.
 */
export async function writeSidecars(
  items: readonly { root: string; sidecar: Sidecar }[],
): Promise<unknown[]> {
  return writeFilesAtomic(
    items.map((it) => ({
      file: sidecarPath(it.root, it.sidecar.content_hash),
      data: serialiseSidecar(it.sidecar),
    })),
  );
}

/** Renames an untrusted sidecar aside so it is kept for inspection; returns the new name. */
export async function setSidecarAside(file: string, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = `${file}.corrupt-${stamp}`;
  await fs.rename(file, target);
  return target;
}

/**
 * Copies an untrusted sidecar aside (`.corrupt-<time>`) and leaves it in place, for a repair that
 * then writes the good one over it atomically: the path never lacks a sidecar. Returns the copy.
 */
export async function copySidecarAside(file: string, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = `${file}.corrupt-${stamp}`;
  await fs.copyFile(file, target, fs.constants.COPYFILE_EXCL);
  return target;
}

export async function removeSidecar(root: string, hash: string): Promise<void> {
  await fs.rm(sidecarPath(root, hash), { force: true });
}

export interface SidecarListing {
  readonly file: string;
  /** Hash named by the file name. */
  readonly hash: string;
  /** True for the legacy flat layout `.metadata/<hash>.json`. */
  readonly flat: boolean;
}

/** Lists sidecar files below `<root>/.metadata`, sharded and legacy flat ones. */
export async function listSidecars(root: string): Promise<SidecarListing[]> {
  const meta = path.join(root, '.metadata');
  const out: SidecarListing[] = [];
  let top: import('node:fs').Dirent[];
  try {
    top = await fs.readdir(meta, { withFileTypes: true });
  } catch (err) {
    // No .metadata yet: no sidecars. An unreadable one is an error, never "no sidecars".
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return out;
    throw err;
  }
  for (const entry of top) {
    if (entry.isFile()) {
      const hash = entry.name.slice(0, -5);
      if (entry.name.endsWith('.json') && HASH_RE.test(hash))
        out.push({ file: path.join(meta, entry.name), hash, flat: true });
      continue;
    }
    if (!entry.isDirectory() || !/^[0-9a-f]{2}$/.test(entry.name)) continue;
    let files: string[];
    try {
      files = await fs.readdir(path.join(meta, entry.name));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue; // removed since the listing above
      throw err;
    }
    for (const name of files) {
      const hash = name.slice(0, -5);
      if (name.endsWith('.json') && HASH_RE.test(hash))
        out.push({ file: path.join(meta, entry.name, name), hash, flat: false });
    }
  }
  return out;
}
