/**
 * Step 1 of `alice migrate`: upgrades AliceMultiverse sidecars under every root's `.metadata/` to
 * 4.0 in place. Sharded files are rewritten where they are; legacy flat `.metadata/<hash>.json`
 * files move to `.metadata/<2 hex>/<hash>.json` and are removed only once the new file has been
 * written and read back. The legacy bytes are always kept under `.metadata/.migrated/`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isDirectory } from '../../adapters/fs.adapter.js';
import { listSidecars, type SidecarListing } from '../../adapters/sidecar-store.adapter.js';
import type { RootConfig } from '../../config/config.js';
import { errorMessage } from '../../domain/errors.js';
import { mediaInfoFor } from '../../domain/media.js';
import { checkSidecar, type Sidecar } from '../../domain/sidecar.js';
import { migrateSidecar } from '../../domain/sidecar-migrations.js';
import { enrichFromAnalysis, mergeLegacyInto } from './migrate-merge.js';
import { backupLegacy, readJsonFile, type FileFinder, type SidecarPlan } from './migrate-files.js';
import type { Analyser, EventSink } from '../../ports.js';

export interface MigratedSidecar {
  root: string;
  content_hash: string;
  /** The legacy `version` value as it was (`"1.0"`, `"3.0"`, …). */
  from_version: string;
  /** The legacy file. */
  from: string;
  /** The 4.0 sidecar written (or that would be written, in a dry run). */
  to: string;
  /** Copy of the legacy bytes; null in a dry run. */
  backup: string | null;
  /** True when a valid 4.0 sidecar was already at `to` and the legacy one was merged into it. */
  merged: boolean;
  /** The asset's file, when one with this content hash was found (its metadata was read). */
  file: string | null;
  changes: string[];
}

export interface SkippedSidecar {
  file: string;
  reason: string;
}

export interface SidecarMigrationReport {
  /** Sidecar files looked at. */
  checked: number;
  /** Already valid 4.0 sidecars, left alone. */
  current: number;
  migrated: MigratedSidecar[];
  skipped: SkippedSidecar[];
  offline_roots: string[];
}

export interface SidecarMigrationDeps {
  readonly roots: readonly RootConfig[];
  readonly analyser: Analyser;
  readonly finder: FileFinder;
  readonly plan: SidecarPlan;
  readonly events: EventSink;
  readonly now: string;
  readonly dryRun: boolean;
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Paths the legacy sidecar names for its file: `original_path` and `last_paths`, against the root. */
function hintsOf(root: string, data: Obj): string[] {
  const out: string[] = [];
  const add = (p: unknown): void => {
    if (typeof p === 'string' && p !== '') out.push(path.isAbsolute(p) ? p : path.join(root, p));
  };
  add(data['original_path']);
  if (Array.isArray(data['last_paths'])) data['last_paths'].forEach(add);
  return out;
}

export class SidecarMigrator {
  constructor(private readonly deps: SidecarMigrationDeps) {}

  async run(): Promise<SidecarMigrationReport> {
    const report: SidecarMigrationReport = {
      checked: 0,
      current: 0,
      migrated: [],
      skipped: [],
      offline_roots: [],
    };
    for (const root of this.deps.roots) {
      if (!(await isDirectory(root.path))) {
        report.offline_roots.push(root.path);
        continue;
      }
      // Sharded first, so a flat file whose hash also has a sharded legacy file merges into its 4.0 form.
      const entries = (await listSidecars(root.path)).sort(
        (a, b) => Number(a.flat) - Number(b.flat) || a.file.localeCompare(b.file),
      );
      for (const entry of entries) {
        report.checked++;
        try {
          await this.one(root.path, entry, report);
        } catch (err) {
          report.skipped.push({ file: entry.file, reason: errorMessage(err) });
        }
      }
    }
    return report;
  }

  private async one(root: string, entry: SidecarListing, report: SidecarMigrationReport): Promise<void> {
    const read = await readJsonFile(entry.file);
    if (!read.ok) {
      report.skipped.push({ file: entry.file, reason: read.reason });
      return;
    }
    if (!isObject(read.data)) {
      report.skipped.push({ file: entry.file, reason: 'not a JSON object' });
      return;
    }
    if (!entry.flat && checkSidecar(read.data, entry.hash).ok) {
      report.current++;
      return;
    }
    const { now, dryRun, plan } = this.deps;
    const migrated = migrateSidecar(read.data, { contentHash: entry.hash, now });
    const file = (await this.deps.finder.find(entry.hash, hintsOf(root, read.data)))[0] ?? null;
    const enriched = file === null ? migrated.sidecar : await this.enrich(migrated.sidecar, file);
    const { sidecar, merged } = entry.flat
      ? await this.withExisting(root, entry.hash, enriched, read.data, migrated.changes)
      : { sidecar: enriched, merged: false };
    const version = read.data['version'];
    const backup = dryRun ? null : await backupLegacy(root, entry.hash, version, read.bytes, now);
    const to = await plan.write(root, sidecar);
    if (entry.flat && !dryRun) await fs.rm(entry.file);
    report.migrated.push({
      root,
      content_hash: entry.hash,
      from_version: typeof version === 'string' ? version : JSON.stringify(version ?? null),
      from: entry.file,
      to,
      backup,
      merged,
      file,
      changes: merged ? [...migrated.changes, 'merged into the existing 4.0 sidecar'] : migrated.changes,
    });
    if (!dryRun && file !== null) this.emitUpdated(sidecar, file, root);
  }

  /**
   * A flat file's sidecar meets whatever is already at its sharded path: a valid 4.0 sidecar is
   * merged with; an unusable file is backed up before it is replaced.
   */
  private async withExisting(
    root: string,
    hash: string,
    sidecar: Sidecar,
    raw: Obj,
    changes: string[],
  ): Promise<{ sidecar: Sidecar; merged: boolean }> {
    const existing = await this.deps.plan.read(root, hash);
    if (existing.status === 'ok')
      return { sidecar: mergeLegacyInto(existing.sidecar, sidecar, raw), merged: true };
    if (existing.status !== 'absent') {
      if (!this.deps.dryRun)
        await backupLegacy(root, hash, 'replaced', await fs.readFile(existing.file), this.deps.now);
      changes.push(`unusable sidecar at ${existing.file} replaced (kept in .metadata/.migrated/)`);
    }
    return { sidecar, merged: false };
  }

  /** Reads the asset's file like a scan would, so the sidecar also gets dimensions, hashes, generation. */
  private async enrich(sidecar: Sidecar, file: string): Promise<Sidecar> {
    const media = mediaInfoFor(file);
    if (media === undefined) return sidecar;
    const analysis = await this.deps.analyser.analyse(file, media);
    return enrichFromAnalysis(sidecar, analysis, media);
  }

  private emitUpdated(sidecar: Sidecar, file: string, root: string): void {
    this.deps.events.emit('asset.updated', {
      content_hash: sidecar.content_hash,
      path: file,
      root,
      media_type: sidecar.analysis.media_type,
      changes: ['migrated'],
    });
  }
}
