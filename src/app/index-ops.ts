/** Index maintenance use cases: rebuild (into a fresh file, swapped in atomically), update, verify. */
import fs from 'node:fs/promises';
import { openDb } from '../adapters/duckdb.adapter.js';
import { AssetRepository } from '../adapters/index/asset.repository.js';
import { migrate, SCHEMA_VERSION } from '../adapters/index/schema.js';
import { ErrorCode, isAliceError } from '../domain/errors.js';
import type { Progress } from '../ports.js';
import type { ScanService, ScanSummary } from '../services/scan/scan.service.js';
import type { VerifyReport, VerifyService } from '../services/verify/verify.service.js';

export interface IndexHost {
  readonly searchDb: string;
  repo(): Promise<AssetRepository>;
  closeIndex(): void;
  scanService(repo: AssetRepository): ScanService;
  verifyService(): Promise<VerifyService>;
}

export async function indexUpdate(
  host: IndexHost,
  opts: { dryRun: boolean; allowMassDelete: boolean; progress: Progress },
): Promise<ScanSummary> {
  const repo = await host.repo();
  return host.scanService(repo).run({ mode: 'update', ...opts });
}

/**
 * Holds the current index open for the whole rebuild, so a rebuild never swaps the file in under
 * another process that has it open (INDEX_LOCKED). A damaged index is what a rebuild replaces, so
 * any other error opening it is ignored.
 */
async function claimIndex(host: IndexHost): Promise<void> {
  try {
    await host.repo();
  } catch (err) {
    if (isAliceError(err) && err.code === ErrorCode.INDEX_LOCKED) throw err;
    host.closeIndex();
  }
}

/** What a rebuild kept from the previous index for the roots that were offline during it. */
export interface CarriedOver {
  roots: string[];
  assets: number;
  locations: number;
  /** Why nothing was kept although roots were offline (the previous index unreadable). */
  skipped?: string;
}

/**
 * A root offline during a rebuild could not be scanned: what the previous index knew of it
 * (assets, locations, tags, hashes) is copied into the new file, so its assets stay searchable
 * until it returns. The previous index may be the damaged file the rebuild replaces: then nothing
 * is kept, and the reason is reported.
 */
async function carryOverOffline(
  host: IndexHost,
  repo: AssetRepository,
  roots: string[],
): Promise<CarriedOver> {
  try {
    await fs.access(host.searchDb);
  } catch {
    return { roots, assets: 0, locations: 0, skipped: 'no previous index' };
  }
  try {
    return { roots, ...(await repo.carryOverRoots(host.searchDb, roots, SCHEMA_VERSION)) };
  } catch (err) {
    return { roots, assets: 0, locations: 0, skipped: err instanceof Error ? err.message : String(err) };
  }
}

export async function indexRebuild(
  host: IndexHost,
  opts: { dryRun: boolean; verify: boolean; progress: Progress },
): Promise<{ summary: ScanSummary; carried_over?: CarriedOver; verify?: VerifyReport }> {
  const tmp = opts.dryRun ? ':memory:' : `${host.searchDb}.rebuilding`;
  if (!opts.dryRun) {
    await claimIndex(host);
    await fs.rm(tmp, { force: true });
  }
  const db = await openDb(tmp);
  let summary: ScanSummary;
  let carried: CarriedOver | undefined;
  try {
    await migrate(db);
    const repo = new AssetRepository(db);
    summary = await host
      .scanService(repo)
      .run({ mode: 'rebuild', dryRun: opts.dryRun, allowMassDelete: true, progress: opts.progress });
    if (!opts.dryRun && summary.offline_roots.length > 0)
      carried = await carryOverOffline(host, repo, summary.offline_roots);
  } finally {
    db.close();
  }
  if (opts.dryRun) return { summary };
  host.closeIndex();
  await fs.rename(tmp, host.searchDb);
  await fs.rm(`${host.searchDb}.wal`, { force: true });
  await fs.rm(`${tmp}.wal`, { force: true });
  const extra = carried === undefined ? {} : { carried_over: carried };
  if (!opts.verify) return { summary, ...extra };
  const verify = await (await host.verifyService()).run({ full: false, progress: opts.progress });
  return { summary, ...extra, verify };
}

export async function indexVerify(
  host: IndexHost,
  opts: { full: boolean; progress: Progress },
): Promise<VerifyReport> {
  return (await host.verifyService()).run(opts);
}
