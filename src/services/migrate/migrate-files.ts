/**
 * I/O helpers of `alice migrate`: finding an asset's file by content hash, and a per-run view of
 * sidecars that writes through (or, in a dry run, only remembers), so later steps of the same run
 * see what earlier steps would have written.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { readFileLimited, walkFiles, writeFileAtomic } from '../../adapters/fs.adapter.js';
import { sha256File } from '../../adapters/hash.adapter.js';
import { readSidecarFile, sidecarPath, type SidecarRead } from '../../adapters/sidecar-store.adapter.js';
import type { RootConfig } from '../../config/config.js';
import { isInside } from '../../config/paths.js';
import { errnoCode } from '../../domain/errors.js';
import { isIgnoredDir, isIndexable } from '../../domain/media.js';
import { SIDECAR_MAX_BYTES, serialiseSidecar, type Sidecar } from '../../domain/sidecar.js';
import { mapLimit } from '../../pipeline/map-limit.js';

/** An index location, as far as migrate needs it (the index may be stale or empty). */
export interface KnownLocation {
  readonly path: string;
  readonly root: string;
  readonly present: boolean;
}

export interface FileFinderDeps {
  readonly roots: readonly RootConfig[];
  readonly hashConcurrency: number;
  locationsOf(hash: string): Promise<readonly KnownLocation[]>;
}

/** Finds files by content hash: first where they are said to be, then (once) by hashing every root. */
export class FileFinder {
  private readonly hashes = new Map<string, string | null>();
  private byHashMap: Map<string, string[]> | undefined;

  constructor(private readonly deps: FileFinderDeps) {}

  /** The configured root holding `file`, if any. */
  rootOf(file: string): RootConfig | undefined {
    return this.deps.roots.find((r) => isInside(file, r.path));
  }

  /** SHA-256 of a file inside a root, or undefined when it cannot be read. Cached per run. */
  async hashOf(file: string): Promise<string | undefined> {
    if (!this.hashes.has(file)) {
      let hash: string | null = null;
      try {
        hash = (await sha256File(file)).hash;
      } catch (err) {
        if (!['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EISDIR', 'ENOTFILE'].includes(errnoCode(err) ?? ''))
          throw err;
      }
      this.hashes.set(file, hash);
    }
    return this.hashes.get(file) ?? undefined;
  }

  /**
   * Files holding `hash`: the first of `hints` (paths the sidecar or record named) and the index's
   * present locations that really hold it; else every file of every root with that hash.
   */
  async find(hash: string, hints: readonly string[] = []): Promise<string[]> {
    const known = (await this.deps.locationsOf(hash)).filter((l) => l.present).map((l) => l.path);
    for (const candidate of new Set([...hints, ...known])) {
      if (this.rootOf(candidate) === undefined) continue;
      if ((await this.hashOf(candidate)) === hash) return [candidate];
    }
    return (await this.allByHash()).get(hash) ?? [];
  }

  /** Walks and hashes every online root once (only when a file was not where it was said to be). */
  private async allByHash(): Promise<Map<string, string[]>> {
    if (this.byHashMap !== undefined) return this.byHashMap;
    const files: string[] = [];
    for (const root of this.deps.roots) {
      const walk = walkFiles(root.path, {
        skipDir: isIgnoredDir,
        acceptFile: isIndexable,
        onProblem: () => undefined,
      });
      for await (const entry of walk) files.push(entry.path);
    }
    const map = new Map<string, string[]>();
    await mapLimit(files, this.deps.hashConcurrency, async (file) => {
      const hash = await this.hashOf(file);
      if (hash !== undefined) (map.get(hash) ?? map.set(hash, []).get(hash))?.push(file);
    });
    for (const list of map.values()) list.sort();
    this.byHashMap = map;
    return map;
  }
}

/** Sidecars as this run sees them: what it wrote (or would write, in a dry run) wins over disk. */
export class SidecarPlan {
  private readonly planned = new Map<string, Sidecar>();
  written = 0;

  constructor(private readonly dryRun: boolean) {}

  async read(root: string, hash: string): Promise<SidecarRead> {
    const file = sidecarPath(root, hash);
    const planned = this.planned.get(file);
    if (planned !== undefined) return { status: 'ok', file, sidecar: planned };
    return readSidecarFile(file, hash);
  }

  /**
   * Writes a 4.0 sidecar atomically and reads it back; throws when the read-back is not the same
   * valid sidecar, so callers never delete a legacy file on the strength of a bad write.
   */
  async write(root: string, sidecar: Sidecar): Promise<string> {
    const file = sidecarPath(root, sidecar.content_hash);
    this.planned.set(file, sidecar);
    if (this.dryRun) return file;
    const text = serialiseSidecar(sidecar);
    await writeFileAtomic(file, text);
    const back = await readSidecarFile(file, sidecar.content_hash);
    if (back.status !== 'ok' || serialiseSidecar(back.sidecar) !== text)
      throw new Error(`sidecar ${file} did not read back as written (${back.status})`);
    this.written++;
    return file;
  }
}

/** Reads a sidecar file's bytes (capped like every sidecar) and parses them. */
export async function readJsonFile(
  file: string,
): Promise<{ ok: true; bytes: Buffer; data: unknown } | { ok: false; reason: string }> {
  let bytes: Buffer;
  try {
    const r = await readFileLimited(file, SIDECAR_MAX_BYTES);
    if ('tooLarge' in r) return { ok: false, reason: `larger than 1 MiB (${r.tooLarge} bytes)` };
    bytes = r.data;
  } catch (err) {
    return { ok: false, reason: `unreadable: ${errnoCode(err) ?? String(err)}` };
  }
  try {
    return { ok: true, bytes, data: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** `1.0` → `1.0`; anything odd → a file-name-safe label. */
function versionLabel(version: unknown): string {
  const s = typeof version === 'string' || typeof version === 'number' ? String(version) : 'unknown';
  const safe = s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32);
  return safe === '' ? 'unknown' : safe;
}

/**
 * Keeps the legacy bytes at `<root>/.metadata/.migrated/<hash>.<version>.json` (never in a 2-hex
 * shard, so no scan reads it as a sidecar). An existing backup with the same bytes is reused; a
 * different one is never overwritten (a time stamp is added).
 */
export async function backupLegacy(
  root: string,
  hash: string,
  version: unknown,
  bytes: Buffer,
  now: string,
): Promise<string> {
  const dir = path.join(root, '.metadata', '.migrated');
  const base = `${hash}.${versionLabel(version)}`;
  let target = path.join(dir, `${base}.json`);
  try {
    const existing = await fs.readFile(target);
    if (existing.equals(bytes)) return target;
    target = path.join(dir, `${base}.${now.replace(/[:.]/g, '-')}.json`);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  await writeFileAtomic(target, bytes);
  return target;
}
