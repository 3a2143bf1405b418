/**
 * Embedding an asset's tags and description into its files (`alice embed`, and the last step of
 * `alice tag` / `alice describe`), and recording what happened in every sidecar and the index.
 * See docs/embedded-metadata.md.
 */
import fs from 'node:fs/promises';
import type { EmbeddedRead } from '../../domain/embedded-metadata.js';
import {
  embedSupport,
  formatOfFileType,
  planEmbed,
  planMismatches,
  type EmbedIntent,
  type EmbedResult,
  type EmbeddingSettings,
} from '../../domain/embed-plan.js';
import { errnoCode, errorMessage } from '../../domain/errors.js';
import { mediaInfoFor } from '../../domain/media.js';
import { isProjectCopyPath, isProjectExportPath } from '../../domain/project.js';
import type { Sidecar } from '../../domain/sidecar.js';
import { embedIntentOf, embedStateOf, withEmbedding, type FileOutcome } from '../../domain/tag-edit.js';
import type { WriteEmbeddedOptions } from '../../adapters/exiftool.adapter.js';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import type { LocationRow } from '../../adapters/index/rows.js';
import { replaceWithLink } from '../../adapters/safe-rewrite.js';
import { readSidecar, writeSidecar } from '../../adapters/sidecar-store.adapter.js';
import type { RootConfig } from '../../config/config.js';
import { entryOf } from '../scan/asset-rows.js';
import { NO_PROGRESS, type Clock, type EventSink, type Logger, type Progress } from '../../ports.js';

/** The exiftool adapter as this service uses it. */
export interface EmbedPort {
  readEmbedded(file: string): Promise<EmbeddedRead>;
  writeEmbedded(file: string, intent: EmbedIntent, opts: WriteEmbeddedOptions): Promise<EmbedResult>;
}

/** Checks that a rewritten temp copy still decodes: `true`, or why not. */
export type DecodeCheck = (file: string) => Promise<true | string>;

export interface EmbedDeps {
  roots: readonly RootConfig[];
  repo: AssetRepository;
  exif: EmbedPort;
  settings: EmbeddingSettings;
  /** The decode check for files of an alice format (`jpeg`, `mp4`…), if there is one. */
  decodeCheckFor: (format: string) => DecodeCheck | undefined;
  events: EventSink;
  clock: Clock;
  logger: Logger;
}

/** One sidecar of an asset and the root that holds it. */
export interface RootSidecar {
  readonly root: string;
  sidecar: Sidecar;
}

/** What happened to one file. `would_write` only in dry runs; `missing`: the file is not there. */
export type FileEmbedStatus = EmbedResult['status'] | 'would_write' | 'missing';

export interface FileEmbed {
  content_hash: string;
  path: string;
  status: FileEmbedStatus;
  reason?: string;
  warnings?: string[];
  /** The file's SHA-256 after alice wrote into it (recorded as an alias of the asset). */
  new_hash?: string;
}

export interface EmbedAssetOptions {
  readonly dryRun: boolean;
  /** Remove descriptions from the files when the sidecar has none (`alice describe <f> ""`). */
  readonly clearDescription?: boolean;
  /** What changed, for the `metadata.embedded` event (`tags`, `description`). */
  readonly changes: readonly string[];
}

const STALE =
  'file changed since alice last scanned it (another program may have edited its metadata): run `alice index update` first';

/** `dev:ino` of each location that exists now (hard links share one). */
async function inodesOf(locations: readonly LocationRow[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const l of locations) {
    try {
      const st = await fs.stat(l.path);
      out.set(l.path, `${st.dev}:${st.ino}`);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  return out;
}

function toFileEmbed(hash: string, path: string, r: EmbedResult): FileEmbed {
  const out: FileEmbed = { content_hash: hash, path, status: r.status };
  if (r.status === 'written') out.new_hash = r.newHash;
  if (r.status === 'sidecar_only' || r.status === 'failed') out.reason = r.reason;
  if ((r.status === 'written' || r.status === 'failed') && r.warnings.length > 0) out.warnings = r.warnings;
  return out;
}

/** What `alice embed` did (or, with `dryRun`, would do), counted per file. */
export interface EmbedReport {
  dry_run: boolean;
  assets: number;
  files: number;
  written: number;
  would_write: number;
  current: number;
  sidecar_only: number;
  failed: number;
  missing: number;
  /** Every file that was not already current, with what happened and why. */
  results: FileEmbed[];
}

function emptyReport(dryRun: boolean): EmbedReport {
  return {
    dry_run: dryRun,
    assets: 0,
    files: 0,
    written: 0,
    would_write: 0,
    current: 0,
    sidecar_only: 0,
    failed: 0,
    missing: 0,
    results: [],
  };
}

export class EmbedService {
  constructor(private readonly deps: EmbedDeps) {}

  /** The asset's sidecars, one per root that holds a valid one. */
  async sidecarsOf(hash: string): Promise<RootSidecar[]> {
    const out: RootSidecar[] = [];
    for (const root of this.deps.roots) {
      const r = await readSidecar(root.path, hash);
      if (r.status === 'ok') out.push({ root: root.path, sidecar: r.sidecar });
    }
    return out;
  }

  /** Writes each sidecar atomically. */
  async saveSidecars(list: readonly RootSidecar[]): Promise<void> {
    for (const s of list) await writeSidecar(s.root, s.sidecar);
  }

  /** Replaces the asset's index entry with the sidecar's and recomputes its status. */
  async reindex(sidecar: Sidecar): Promise<void> {
    await this.deps.repo.atomically(async () => {
      await this.deps.repo.upsertAssets([entryOf(sidecar, null, false)]);
      await this.deps.repo.refreshStatus([sidecar.content_hash]);
    });
  }

  /**
   * Makes every present file of the asset carry what `sidecars[0]` says, then records the outcome
   * (aliases, `embedding`) in every sidecar and the index. Sidecars and the index are only
   * rewritten when something changed; `sidecars` are updated in place.
   */
  async embedAsset(sidecars: RootSidecar[], opts: EmbedAssetOptions): Promise<FileEmbed[]> {
    const first = sidecars[0];
    if (first === undefined) return [];
    const hash = first.sidecar.content_hash;
    const intent = embedIntentOf(first.sidecar, opts.clearDescription ?? false);
    const locations = await this.writableLocations(hash);
    const files: FileEmbed[] = [];
    const outcomes: FileOutcome[] = [];
    // Paths sharing an inode (a `selected/` hard link) are written once, then linked again.
    const inodes = await inodesOf(locations);
    const writtenInode = new Map<string, string>();
    for (const loc of locations) {
      const inode = inodes.get(loc.path);
      const linkedTo = inode === undefined ? undefined : writtenInode.get(inode);
      const one = opts.dryRun
        ? await this.preview(loc, intent)
        : linkedTo !== undefined
          ? await this.relink(loc, linkedTo, files)
          : await this.embedFile(loc, intent);
      if (!opts.dryRun) {
        // The event first: the index commit that records the new bytes makes it durable.
        this.emit(first.sidecar, loc, one.file, opts.changes);
        if (one.file.new_hash !== undefined) await this.recordBytes(loc.path, one.file.new_hash);
      }
      if (!opts.dryRun && one.file.status === 'written' && inode !== undefined && linkedTo === undefined)
        writtenInode.set(inode, loc.path);
      files.push(one.file);
      if (one.outcome !== undefined) outcomes.push(one.outcome);
    }
    if (opts.dryRun || outcomes.length === 0) return files;
    const now = this.deps.clock.now().toISOString();
    const state = embedStateOf(outcomes, now);
    const newHashes = files.flatMap((f) => (f.new_hash === undefined ? [] : [f.new_hash]));
    let changed = false;
    for (const s of sidecars) {
      const next = withEmbedding(s.sidecar, state, newHashes);
      if (next === s.sidecar) continue;
      s.sidecar = next;
      changed = true;
      await writeSidecar(s.root, next);
    }
    if (changed) await this.reindex(first.sidecar);
    return files;
  }

  /**
   * Present locations alice may write into: everything but delivered files under a project's
   * `exports/` (frozen, see docs/projects.md). Originals come before project copies, so a
   * `selected/` hard link is re-linked to the rewritten original rather than the other way round.
   */
  private async writableLocations(hash: string): Promise<LocationRow[]> {
    const projectRoots = this.deps.roots.filter((r) => r.kind === 'project').map((r) => r.path);
    const present = (await this.deps.repo.locationsOf(hash)).filter(
      (l) => l.present && !isProjectExportPath(l.path, projectRoots),
    );
    const copy = (l: LocationRow): number => Number(isProjectCopyPath(l.path, projectRoots));
    return present.sort((a, b) => copy(a) - copy(b));
  }

  /**
   * `loc` was a hard link of `written` before alice rewrote that: makes it one again (atomic
   * rename of a new link over it) and reports the same outcome as for `written`.
   */
  private async relink(
    loc: LocationRow,
    written: string,
    done: readonly FileEmbed[],
  ): Promise<{ file: FileEmbed; outcome?: FileOutcome }> {
    const stale = await this.staleness(loc);
    if (stale === 'missing') return { file: this.missing(loc) };
    const source = done.find((f) => f.path === written);
    if (stale === 'changed' || source?.new_hash === undefined) {
      const result: EmbedResult = { status: 'failed', reason: STALE, warnings: [] };
      return {
        file: toFileEmbed(loc.content_hash, loc.path, result),
        outcome: { path: loc.path, result, byteHash: loc.byte_hash },
      };
    }
    await replaceWithLink(written, loc.path);
    const result: EmbedResult = {
      status: 'written',
      newHash: source.new_hash,
      warnings: source.warnings ?? [],
    };
    return {
      file: toFileEmbed(loc.content_hash, loc.path, result),
      outcome: { path: loc.path, result, byteHash: source.new_hash },
    };
  }

  /** Hashes of every asset with a file present, for `alice embed --all`. */
  async presentAssets(): Promise<string[]> {
    const all = await this.deps.repo.allLocations();
    return [...new Set(all.filter((l) => l.present).map((l) => l.content_hash))].sort();
  }

  /** `alice embed`: makes every present file of these assets carry its sidecar's tags and description. */
  async embedMany(
    hashes: readonly string[],
    dryRun: boolean,
    progress: Progress = NO_PROGRESS,
  ): Promise<EmbedReport> {
    const report = emptyReport(dryRun);
    progress.start('embedding', hashes.length);
    for (const hash of hashes) {
      progress.tick(1, hash.slice(0, 12));
      report.assets++;
      const sidecars = await this.sidecarsOf(hash);
      const files =
        sidecars.length > 0
          ? await this.embedAsset(sidecars, { dryRun, changes: ['tags', 'description'] })
          : [
              {
                content_hash: hash,
                path: '',
                status: 'failed' as const,
                reason: 'no readable sidecar in any root',
              },
            ];
      for (const f of files) {
        report.files++;
        report[f.status]++;
        if (f.status !== 'current') report.results.push(f);
      }
    }
    progress.done();
    return report;
  }

  /** Embeds into one file unless it changed since the last scan; records its new bytes. */
  private async embedFile(
    loc: LocationRow,
    intent: EmbedIntent,
  ): Promise<{ file: FileEmbed; outcome?: FileOutcome }> {
    const stale = await this.staleness(loc);
    if (stale === 'missing') return { file: this.missing(loc) };
    const result: EmbedResult =
      stale === 'changed'
        ? { status: 'failed', reason: STALE, warnings: [] }
        : await this.deps.exif.writeEmbedded(loc.path, intent, this.writeOptions(loc.path));
    if (result.status === 'failed')
      this.deps.logger.warn('embedding failed', { path: loc.path, reason: result.reason });
    const byteHash = result.status === 'written' ? result.newHash : loc.byte_hash;
    return {
      file: toFileEmbed(loc.content_hash, loc.path, result),
      outcome: { path: loc.path, result, byteHash },
    };
  }

  /** What embedding would do, without writing: reads the file and compares it with the plan. */
  private async preview(
    loc: LocationRow,
    intent: EmbedIntent,
  ): Promise<{ file: FileEmbed; outcome?: FileOutcome }> {
    const hash = loc.content_hash;
    if ((await this.staleness(loc)) === 'missing') return { file: this.missing(loc) };
    let read: EmbeddedRead;
    try {
      read = await this.deps.exif.readEmbedded(loc.path);
    } catch (err) {
      return { file: { content_hash: hash, path: loc.path, status: 'failed', reason: errorMessage(err) } };
    }
    const support = embedSupport(formatOfFileType(read.fileType), this.deps.settings);
    if (!support.writable)
      return { file: { content_hash: hash, path: loc.path, status: 'sidecar_only', reason: support.reason } };
    const wrong = planMismatches(read, planEmbed(read, intent, support.format));
    if (wrong.length === 0) return { file: { content_hash: hash, path: loc.path, status: 'current' } };
    return {
      file: {
        content_hash: hash,
        path: loc.path,
        status: 'would_write',
        reason: `differs: ${wrong.join(', ')}`,
      },
    };
  }

  private missing(loc: LocationRow): FileEmbed {
    return {
      content_hash: loc.content_hash,
      path: loc.path,
      status: 'missing',
      reason: 'file not found: run `alice index update`',
    };
  }

  /** `missing` when the file is gone, `changed` when it is not what the index last saw. */
  private async staleness(loc: LocationRow): Promise<'ok' | 'missing' | 'changed'> {
    try {
      const st = await fs.stat(loc.path);
      return st.size === loc.size && st.mtimeMs === loc.mtime_ms && st.ino === loc.inode ? 'ok' : 'changed';
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 'missing';
      throw err;
    }
  }

  private writeOptions(file: string): WriteEmbeddedOptions {
    const { settings } = this.deps;
    const format = mediaInfoFor(file)?.format;
    const check = format === undefined ? undefined : this.deps.decodeCheckFor(format);
    return {
      preserveMtime: settings.preserve_mtime,
      settings: { enabled: settings.enabled, disabled_formats: settings.disabled_formats },
      ...(check === undefined ? {} : { decodeCheck: check }),
    };
  }

  /** The location now holds the rewritten bytes: the next scan must see it unchanged. */
  private async recordBytes(file: string, byteHash: string): Promise<void> {
    const st = await fs.stat(file);
    await this.deps.repo.updateLocationBytes(file, {
      byte_hash: byteHash,
      size: st.size,
      mtime_ms: st.mtimeMs,
      inode: st.ino,
    });
  }

  /** `metadata.embedded` for a file alice wrote into, or failed to. */
  private emit(sidecar: Sidecar, loc: LocationRow, f: FileEmbed, changes: readonly string[]): void {
    if (f.status !== 'written' && f.status !== 'failed') return;
    this.deps.events.emit('metadata.embedded', {
      content_hash: sidecar.content_hash,
      path: f.path,
      root: loc.root,
      media_type: sidecar.analysis.media_type,
      state: f.status,
      changes: [...changes],
      ...(f.reason === undefined ? {} : { reason: f.reason }),
    });
  }
}
