/**
 * `alice index prune`: removes what no file backs and nothing refers to. Ghost assets (status
 * `missing`: every file gone) leave the index; their sidecars, and orphaned sidecars (content no
 * file in that root has), move to `<root>/.alice-trash/<date>/.metadata/…`, never deleted, so a
 * mistaken prune is undone by moving the file back and `alice index rebuild`. Nothing a project
 * selection names (directly, or through the `derived_from` edits a selection follows) is removed,
 * and nothing at all while a root is offline: what the missing folder holds is unknown.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import { listSidecars, readSidecarFile } from '../../adapters/sidecar-store.adapter.js';
import type { RootConfig } from '../../config/config.js';
import { isInside } from '../../config/paths.js';
import { errnoCode } from '../../domain/errors.js';
import type { Clock, EventSink } from '../../ports.js';
import { freeName, TRASH_DIR } from '../trash/trash.service.js';

export interface PrunedAsset {
  content_hash: string;
  /** Where the content was last seen. */
  last_path: string | null;
  /** Tags it carried, apart from `type:` (kept in the trashed sidecar). */
  tags: number;
}

export interface PrunedSidecar {
  path: string;
  content_hash: string;
  /** `ghost` (the sidecar of a ghost asset) or `orphaned` (no file in its root has the content). */
  reason: 'ghost' | 'orphaned';
  /** Where it was moved (null on a dry run). */
  moved_to: string | null;
}

export interface PruneKept {
  content_hash: string;
  path: string | null;
  reason: string;
}

export interface PruneReport {
  dry_run: boolean;
  /** Set when nothing was pruned on purpose (a root offline, selections unreadable). */
  refused: string | null;
  offline_roots: string[];
  assets: PrunedAsset[];
  sidecars: PrunedSidecar[];
  /** Ghosts and orphans kept because something refers to them. */
  kept: PruneKept[];
}

export interface PruneDeps {
  readonly roots: readonly RootConfig[];
  readonly repo: AssetRepository;
  readonly clock: Clock;
  readonly events: EventSink;
  /** Every hash a project selection names; null when a project's selections cannot be read. */
  readonly selectedHashes: () => Promise<Set<string> | null>;
  /** Is the root there, and the same one (its marker; an empty mount point is offline), as a scan judges it. */
  readonly checkRoot: (root: string) => Promise<{ online: boolean; reason?: string }>;
}

export class PruneService {
  constructor(private readonly deps: PruneDeps) {}

  async run(opts: { dryRun: boolean }): Promise<PruneReport> {
    const report: PruneReport = {
      dry_run: opts.dryRun,
      refused: null,
      offline_roots: [],
      assets: [],
      sidecars: [],
      kept: [],
    };
    const why: string[] = [];
    for (const r of this.deps.roots) {
      const c = await this.deps.checkRoot(r.path);
      if (c.online) continue;
      report.offline_roots.push(r.path);
      why.push(`${r.path}: ${c.reason ?? 'offline'}`);
    }
    if (report.offline_roots.length > 0) {
      report.refused = `a root is offline (${why.join('; ')}): what it holds is unknown, so nothing is pruned until it is back`;
      return report;
    }
    const protectedHashes = await this.protectedHashes();
    if (protectedHashes === null) {
      report.refused = "a project's selections cannot be read: nothing is pruned until they can";
      return report;
    }
    const ghosts = await this.ghosts(protectedHashes, report);
    await this.sidecars(ghosts, protectedHashes, report);
    if (!opts.dryRun) await this.apply(report);
    return report;
  }

  /**
   * Hashes a selection refers to: the selected ones (resolved through aliases) and every edit
   * derived from them, since a selection follows `derived_from` to the current content.
   */
  private async protectedHashes(): Promise<Set<string> | null> {
    const selected = await this.deps.selectedHashes();
    if (selected === null) return null;
    const out = new Set<string>(selected);
    const todo: string[] = [];
    for (const h of selected) todo.push((await this.deps.repo.resolveHash(h)) ?? h);
    const walked = new Set<string>();
    while (todo.length > 0) {
      const h = todo.pop() as string;
      if (walked.has(h)) continue;
      walked.add(h);
      out.add(h);
      todo.push(...(await this.deps.repo.derivedFrom(h)));
    }
    return out;
  }

  private async ghosts(protectedHashes: Set<string>, report: PruneReport): Promise<Set<string>> {
    const missing = await this.deps.repo.missingAssetHashes();
    const rows = await this.deps.repo.getAssets(missing);
    const out = new Set<string>();
    for (const row of rows.sort((a, b) => a.content_hash.localeCompare(b.content_hash))) {
      const h = row.content_hash;
      const aliases = await this.deps.repo.aliasesOf(h);
      if (protectedHashes.has(h) || aliases.some((a) => protectedHashes.has(a))) {
        report.kept.push({ content_hash: h, path: row.file_path, reason: 'a project selection names it' });
        continue;
      }
      out.add(h);
      report.assets.push({
        content_hash: h,
        last_path: row.file_path,
        tags: row.tags.filter((t) => !t.startsWith('type:')).length,
      });
    }
    return out;
  }

  /** Sidecars of ghosts, and sidecars no file in their root backs (as `index verify` finds them). */
  private async sidecars(
    ghosts: Set<string>,
    protectedHashes: Set<string>,
    report: PruneReport,
  ): Promise<void> {
    const locs = await this.deps.repo.allLocations();
    const assets = new Set(await this.deps.repo.allAssetHashes());
    const missing = new Set(await this.deps.repo.missingAssetHashes());
    for (const root of this.deps.roots) {
      const inRoot = new Set(locs.filter((l) => l.root === root.path).map((l) => l.content_hash));
      const listing = (await listSidecars(root.path)).sort((a, b) => a.file.localeCompare(b.file));
      for (const entry of listing) {
        const h = entry.hash;
        if (ghosts.has(h)) {
          report.sidecars.push({ path: entry.file, content_hash: h, reason: 'ghost', moved_to: null });
          continue;
        }
        if (inRoot.has(h) || (assets.has(h) && missing.has(h))) continue;
        // Only sound sidecars are orphans: a corrupt or old one is `alice migrate`'s business.
        const read = await readSidecarFile(entry.file, h);
        if (entry.flat || read.status !== 'ok') continue;
        if (!assets.has(h) && protectedHashes.has(h)) {
          report.kept.push({ content_hash: h, path: entry.file, reason: 'a project selection names it' });
          continue;
        }
        report.sidecars.push({ path: entry.file, content_hash: h, reason: 'orphaned', moved_to: null });
      }
    }
  }

  /** Sidecars to the trash first: an interrupted prune leaves rows whose next prune finishes it. */
  private async apply(report: PruneReport): Promise<void> {
    const day = this.deps.clock.now().toISOString().slice(0, 10);
    for (const s of report.sidecars) {
      const root = this.deps.roots.find((r) => isInside(s.path, r.path));
      if (root === undefined) continue;
      const to = await freeName(path.join(root.path, TRASH_DIR, day, path.relative(root.path, s.path)));
      await fs.mkdir(path.dirname(to), { recursive: true });
      try {
        await fs.rename(s.path, to);
        s.moved_to = to;
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    }
    // Emitted before the index drops the rows: its commit makes the events durable first.
    for (const a of report.assets)
      this.deps.events.emit('asset.pruned', {
        content_hash: a.content_hash,
        last_path: a.last_path,
        sidecars: report.sidecars
          .filter((s) => s.content_hash === a.content_hash && s.moved_to !== null)
          .map((s) => s.moved_to as string),
      });
    await this.deps.repo.deleteAssets(report.assets.map((a) => a.content_hash));
  }
}
