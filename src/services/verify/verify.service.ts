/**
 * `alice index verify`: compares files, sidecars and index and lists every kind of drift.
 * It only reports; it never fixes.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../../adapters/hash.adapter.js';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import { listSidecars, readSidecarFile } from '../../adapters/sidecar-store.adapter.js';
import { walkFiles } from '../../adapters/fs.adapter.js';
import type { RootConfig } from '../../config/config.js';
import { isInside } from '../../config/paths.js';
import { errnoCode } from '../../domain/errors.js';
import { isIgnoredDir, isIndexable } from '../../domain/media.js';
import { mapLimit } from '../../pipeline/map-limit.js';
import type { Progress } from '../../ports.js';

export const DriftKind = {
  MISSING_FILE: 'missing_file',
  UNINDEXED_FILE: 'unindexed_file',
  MODIFIED_FILE: 'modified_file',
  NO_SIDECAR: 'file_without_sidecar',
  ORPHANED_SIDECAR: 'orphaned_sidecar',
  ROW_WITHOUT_FILE: 'index_row_without_file',
  OLD_VERSION: 'sidecar_old_version',
  CORRUPT_SIDECAR: 'corrupt_sidecar',
  HASH_MISMATCH: 'hash_mismatch',
  /** A location names a content hash the index holds no asset row for (an interrupted write). */
  LOCATION_WITHOUT_ASSET: 'location_without_asset',
  /** A file or folder the walk could not read (permissions, I/O error): what it holds is unknown. */
  UNREADABLE: 'unreadable',
  /** The content does not decode completely, or is not what its name says. */
  DAMAGED_FILE: 'damaged_file',
} as const;
export type DriftKind = (typeof DriftKind)[keyof typeof DriftKind];

export interface Drift {
  kind: DriftKind;
  path: string;
  detail: string;
  content_hash?: string;
}

export interface VerifyReport {
  clean: boolean;
  full: boolean;
  files_checked: number;
  sidecars_checked: number;
  rehashed: number;
  offline_roots: string[];
  problems: Drift[];
  counts: Partial<Record<DriftKind, number>>;
  /**
   * Assets whose every file is gone, kept with their sidecars (not drift: what the user wrote is
   * not lost); `alice index prune` removes those no project selection names.
   */
  missing_assets: number;
  elapsed_ms: number;
}

export interface VerifyDeps {
  roots: readonly RootConfig[];
  repo: AssetRepository;
  sampleRatio: number;
  hashConcurrency: number;
}

export class VerifyService {
  constructor(private readonly deps: VerifyDeps) {}

  async run(opts: { full: boolean; progress: Progress; random?: () => number }): Promise<VerifyReport> {
    const started = performance.now();
    const problems: Drift[] = [];
    const offline: string[] = [];
    const locs = await this.deps.repo.allLocations();
    const byPath = new Map(locs.map((l) => [l.path, l]));
    const assetHashes = new Set(await this.deps.repo.allAssetHashes());
    // Assets whose files are all gone (deleted, or replaced by an in-place edit) stay in the
    // library with their sidecar so nothing the user wrote is lost: that is not drift.
    const missingAssets = new Set(await this.deps.repo.missingAssetHashes());
    let files = 0;
    let sidecars = 0;
    const toHash: { path: string; expect: string }[] = [];
    for (const root of this.deps.roots) {
      try {
        if (!(await fs.stat(root.path)).isDirectory()) throw new Error('not a directory');
      } catch {
        offline.push(root.path);
        continue;
      }
      const seen = new Set<string>();
      const withSidecar = new Set<string>();
      sidecars += await this.checkSidecars(
        root.path,
        locs,
        assetHashes,
        missingAssets,
        problems,
        withSidecar,
      );
      const unreadable: string[] = [];
      for await (const f of walkFiles(root.path, {
        skipDir: isIgnoredDir,
        acceptFile: isIndexable,
        onProblem: (p) => {
          unreadable.push(p.path);
          problems.push({ kind: DriftKind.UNREADABLE, path: p.path, detail: `${p.code}: ${p.message}` });
        },
      })) {
        files++;
        seen.add(f.path);
        const loc = byPath.get(f.path);
        if (loc === undefined || !loc.present) {
          if (f.size > 0)
            problems.push({
              kind: DriftKind.UNINDEXED_FILE,
              path: f.path,
              detail: 'file is not in the index (run `alice index update`)',
            });
          continue;
        }
        if (loc.size !== f.size || loc.mtime_ms !== f.mtimeMs) {
          problems.push({
            kind: DriftKind.MODIFIED_FILE,
            path: f.path,
            detail: 'size or mtime differs from the index (run `alice index update`)',
            content_hash: loc.content_hash,
          });
        } else {
          toHash.push({ path: f.path, expect: loc.byte_hash });
        }
        if (!assetHashes.has(loc.content_hash)) {
          problems.push({
            kind: DriftKind.LOCATION_WITHOUT_ASSET,
            path: f.path,
            detail: 'the index has a location but no asset row for it (run `alice index update`)',
            content_hash: loc.content_hash,
          });
        }
        if (!withSidecar.has(loc.content_hash)) {
          problems.push({
            kind: DriftKind.NO_SIDECAR,
            path: f.path,
            detail: `no sidecar in ${root.path}/.metadata`,
            content_hash: loc.content_hash,
          });
        }
      }
      for (const loc of locs) {
        // Under a folder the walk could not read, a file is unknown, not gone.
        if (unreadable.some((u) => isInside(loc.path, u))) continue;
        if (loc.root === root.path && loc.present && !seen.has(loc.path)) {
          problems.push({
            kind: DriftKind.MISSING_FILE,
            path: loc.path,
            detail: 'index says present but the file is gone',
            content_hash: loc.content_hash,
          });
        }
      }
    }
    const liveRoots = new Set(this.deps.roots.map((r) => r.path));
    for (const loc of locs) {
      if (!liveRoots.has(loc.root))
        problems.push({
          kind: DriftKind.ROW_WITHOUT_FILE,
          path: loc.path,
          detail: 'location lies outside every configured root',
          content_hash: loc.content_hash,
        });
    }
    const withLocation = new Set(locs.map((l) => l.content_hash));
    for (const h of assetHashes) {
      if (!withLocation.has(h) && !missingAssets.has(h))
        problems.push({
          kind: DriftKind.ROW_WITHOUT_FILE,
          path: '',
          detail: 'asset row has no location',
          content_hash: h,
        });
    }
    for (const d of await this.deps.repo.damagedAssets())
      problems.push({
        kind: DriftKind.DAMAGED_FILE,
        path: d.path,
        detail: `${d.damage} (replace the file from a good copy, or delete it)`,
        content_hash: d.content_hash,
      });
    const rehashed = await this.rehash(toHash, opts, problems);
    const report = this.report(opts.full, files, sidecars, rehashed, offline, problems, started);
    return { ...report, missing_assets: missingAssets.size };
  }

  private async checkSidecars(
    root: string,
    locs: readonly { root: string; content_hash: string }[],
    assetHashes: Set<string>,
    missingAssets: Set<string>,
    problems: Drift[],
    withSidecar: Set<string>,
  ): Promise<number> {
    const inRoot = new Set(locs.filter((l) => l.root === root).map((l) => l.content_hash));
    const listing = await listSidecars(root);
    for (const entry of listing) {
      const res = await readSidecarFile(entry.file, entry.hash);
      // A garbled or old sidecar is reported below as such, not its files as having none.
      if (res.status !== 'ok') withSidecar.add(entry.hash);
      if (entry.flat || res.status === 'old_version') {
        problems.push({
          kind: DriftKind.OLD_VERSION,
          path: entry.file,
          detail: 'sidecar is not version 4.0 (run `alice migrate`)',
          content_hash: entry.hash,
        });
      } else if (res.status === 'corrupt') {
        problems.push({
          kind: DriftKind.CORRUPT_SIDECAR,
          path: entry.file,
          detail: assetHashes.has(entry.hash)
            ? `${res.reason} (run \`alice index verify --repair\` to write it back from the index)`
            : `${res.reason} (the index does not describe it: \`alice index rebuild\` sets it aside and reads the file again)`,
          content_hash: entry.hash,
        });
      } else if (res.status === 'ok') {
        withSidecar.add(entry.hash);
        if (!inRoot.has(entry.hash) && !assetHashes.has(entry.hash)) {
          problems.push({
            kind: DriftKind.ORPHANED_SIDECAR,
            path: entry.file,
            detail: 'no file in the index has this content (`alice index prune` moves it to the trash)',
            content_hash: entry.hash,
          });
        } else if (!inRoot.has(entry.hash) && !missingAssets.has(entry.hash)) {
          problems.push({
            kind: DriftKind.ORPHANED_SIDECAR,
            path: entry.file,
            detail: 'the asset has no file in this root (`alice index prune` moves it to the trash)',
            content_hash: entry.hash,
          });
        }
      }
    }
    return listing.length;
  }

  private async rehash(
    files: { path: string; expect: string }[],
    opts: { full: boolean; progress: Progress; random?: () => number },
    problems: Drift[],
  ): Promise<number> {
    const rnd = opts.random ?? Math.random;
    const pick = opts.full ? files : files.filter(() => rnd() < this.deps.sampleRatio);
    opts.progress.start('re-hashing', pick.length);
    await mapLimit(pick, this.deps.hashConcurrency, async (f) => {
      try {
        const r = await sha256File(f.path);
        if (r.hash !== f.expect) {
          problems.push({
            kind: DriftKind.HASH_MISMATCH,
            path: f.path,
            detail: `content changed without a new mtime (bit rot or an outside edit): ${r.hash.slice(0, 12)}… ≠ ${f.expect.slice(0, 12)}…`,
            content_hash: f.expect,
          });
        }
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
      opts.progress.tick(1, path.basename(f.path));
    });
    opts.progress.done();
    return pick.length;
  }

  private report(
    full: boolean,
    files: number,
    sidecars: number,
    rehashed: number,
    offline: string[],
    problems: Drift[],
    started: number,
  ): Omit<VerifyReport, 'missing_assets'> {
    const counts: Partial<Record<DriftKind, number>> = {};
    for (const p of problems) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
    return {
      clean: problems.length === 0,
      full,
      files_checked: files,
      sidecars_checked: sidecars,
      rehashed,
      offline_roots: offline,
      problems,
      counts,
      elapsed_ms: Math.round(performance.now() - started),
    };
  }
}
