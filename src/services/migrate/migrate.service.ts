/**
 * `alice migrate`: brings a library made by earlier AliceMultiverse versions up to date.
 * 1. legacy sidecars (1.0 flat, 3.0 sharded, invalid "4.0") are upgraded to 4.0 in place;
 * 2. `--from FILE`: a database export (JSON Lines or CSV) becomes sidecars;
 * 3. the index is rebuilt (`alice index rebuild`), so it reflects every upgraded sidecar;
 * 4. tags are embedded into the files (`alice embed`), when that service is wired in.
 * Every step reports what it did and skipped, and why. A second run changes nothing.
 */
import type { RootConfig } from '../../config/config.js';
import { errorMessage } from '../../domain/errors.js';
import { FileFinder, SidecarPlan, type KnownLocation } from './migrate-files.js';
import { RecordImporter, type RecordsReport } from './migrate-import.js';
import { SidecarMigrator, type SidecarMigrationReport } from './migrate-sidecars.js';
import type { Analyser, Clock, EventSink, Logger, Progress } from '../../ports.js';
import type { ScanSummary } from '../scan/scan.service.js';

export type { MigratedSidecar, SidecarMigrationReport, SkippedSidecar } from './migrate-sidecars.js';
export type { ImportedItem, RecordsReport, SkippedRecord } from './migrate-import.js';

export interface MigrateDeps {
  readonly roots: readonly RootConfig[];
  readonly analyser: Analyser;
  readonly events: EventSink;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly hashConcurrency: number;
  /** Index locations of a content hash (the index may be stale or empty: only a hint). */
  locationsOf(hash: string): Promise<readonly KnownLocation[]>;
  /** The same code as `alice index rebuild`. */
  rebuild(opts: { progress: Progress }): Promise<ScanSummary>;
  /** The same code as `alice embed`; absent while that service is not available. */
  embed?: (opts: { progress: Progress }) => Promise<unknown>;
}

export interface MigrateOptions {
  /** Report only; write nothing (no sidecar, no backup, no index, no file). */
  readonly dryRun: boolean;
  /** Absolute path of a JSON Lines / CSV database export to import. */
  readonly from?: string | undefined;
  /** Folder relative paths in the export are also tried against. */
  readonly cwd: string;
  /** Embed tags into files afterwards (default true). */
  readonly embed: boolean;
  /** Rebuild the index afterwards (default true). */
  readonly rebuild: boolean;
  readonly progress: Progress;
}

export type StepStatus = 'done' | 'skipped' | 'unavailable' | 'failed';

export interface StepReport<T> {
  status: StepStatus;
  reason?: string;
  result?: T;
}

export interface MigrateReport {
  dry_run: boolean;
  sidecars: SidecarMigrationReport;
  records: RecordsReport | null;
  rebuild: StepReport<ScanSummary>;
  embed: StepReport<unknown>;
}

export class MigrateService {
  constructor(private readonly deps: MigrateDeps) {}

  async run(opts: MigrateOptions): Promise<MigrateReport> {
    const { deps } = this;
    const now = deps.clock.now().toISOString();
    const plan = new SidecarPlan(opts.dryRun);
    const finder = new FileFinder({
      roots: deps.roots,
      hashConcurrency: deps.hashConcurrency,
      locationsOf: (h) => deps.locationsOf(h),
    });
    const shared = { analyser: deps.analyser, finder, plan, events: deps.events, now, dryRun: opts.dryRun };
    opts.progress.start('migrating sidecars');
    const sidecars = await new SidecarMigrator({ ...shared, roots: deps.roots }).run();
    opts.progress.done();
    let records: RecordsReport | null = null;
    if (opts.from !== undefined) {
      opts.progress.start('importing records');
      records = await new RecordImporter({
        ...shared,
        roots: deps.roots.map((r) => r.path),
        cwd: opts.cwd,
      }).run(opts.from);
      opts.progress.done();
    }
    // Rebuild before embedding: the embed step finds files through the index.
    const rebuild = await this.step('rebuild', opts, opts.rebuild, '--no-rebuild', () =>
      deps.rebuild({ progress: opts.progress }),
    );
    const embed = await this.step('embed', opts, opts.embed, '--no-embed', deps.embed);
    deps.logger.info('migrate finished', {
      migrated: sidecars.migrated.length,
      imported: records?.imported.length ?? 0,
      dry_run: opts.dryRun,
    });
    return { dry_run: opts.dryRun, sidecars, records, rebuild, embed };
  }

  /** Runs a follow-up step, turning "not asked", "dry run", "not available" and failures into values. */
  private async step<T>(
    name: string,
    opts: MigrateOptions,
    wanted: boolean,
    flag: string,
    fn: ((o: { progress: Progress }) => Promise<T>) | undefined,
  ): Promise<StepReport<T>> {
    if (opts.dryRun) return { status: 'skipped', reason: 'dry run' };
    if (!wanted) return { status: 'skipped', reason: flag };
    if (fn === undefined)
      return {
        status: 'unavailable',
        reason: `\`alice ${name}\` is not available in this build; tags stay in the sidecars until it runs`,
      };
    try {
      return { status: 'done', result: await fn({ progress: opts.progress }) };
    } catch (err) {
      this.deps.logger.error(`migrate: ${name} failed`, { error: errorMessage(err) });
      return { status: 'failed', reason: errorMessage(err) };
    }
  }
}
