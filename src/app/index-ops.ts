/** Index maintenance use cases: rebuild (into a fresh file, swapped in atomically), update, verify. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { openDb } from '../adapters/duckdb.adapter.js';
import { AssetRepository } from '../adapters/index/asset.repository.js';
import { migrate, SCHEMA_VERSION } from '../adapters/index/schema.js';
import { ErrorCode, isAliceError } from '../domain/errors.js';
import type { Progress } from '../ports.js';
import type { ScanService, ScanSummary } from '../services/scan/scan.service.js';
import type { ForgetRootReport } from '../services/scan/root-forget.js';
import type { SidecarRepair, SidecarRepairer } from '../services/scan/sidecar-repair.js';
import { DriftKind, type VerifyReport, type VerifyService } from '../services/verify/verify.service.js';

export interface IndexHost {
  readonly searchDb: string;
  repo(): Promise<AssetRepository>;
  closeIndex(): void;
  /** Makes the events emitted so far durable (before a rebuilt index is swapped in). */
  flushEvents(): Promise<void>;
  scanService(repo: AssetRepository): ScanService;
  verifyService(): Promise<VerifyService>;
  sidecarRepairer(repo: AssetRepository): SidecarRepairer;
}

const NO_PROGRESS: Progress = { start: () => undefined, tick: () => undefined, done: () => undefined };

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
async function claimIndex(host: IndexHost): Promise<AssetRepository | undefined> {
  try {
    return await host.repo();
  } catch (err) {
    if (isAliceError(err) && err.code === ErrorCode.INDEX_LOCKED) throw err;
    host.closeIndex();
    return undefined;
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
  // The previous index stays open: a garbled sidecar is written back from it before the swap.
  const previous = await claimIndex(host);
  if (!opts.dryRun) await fs.rm(tmp, { force: true });
  const db = await openDb(tmp);
  let summary: ScanSummary;
  let carried: CarriedOver | undefined;
  try {
    await migrate(db);
    const repo = new AssetRepository(db);
    summary = await host.scanService(repo).run({
      mode: 'rebuild',
      dryRun: opts.dryRun,
      allowMassDelete: true,
      progress: opts.progress,
      ...(previous === undefined ? {} : { previousIndex: previous }),
    });
    if (!opts.dryRun && summary.offline_roots.length > 0)
      carried = await carryOverOffline(host, repo, summary.offline_roots);
  } finally {
    db.close();
  }
  if (opts.dryRun) return { summary };
  // The swap is the rebuild's commit: its events (index.rebuilt included) are readable first.
  await host.flushEvents();
  host.closeIndex();
  await fs.rename(tmp, host.searchDb);
  await fs.rm(`${host.searchDb}.wal`, { force: true });
  await fs.rm(`${tmp}.wal`, { force: true });
  const extra = carried === undefined ? {} : { carried_over: carried };
  if (!opts.verify) return { summary, ...extra };
  const verify = await (await host.verifyService()).run({ full: false, progress: opts.progress });
  return { summary, ...extra, verify };
}

/** What `index verify --repair` did with each garbled sidecar. */
export interface RepairReport {
  dry_run: boolean;
  repaired: SidecarRepair[];
  /** Garbled sidecars the index does not describe: left for the next scan to set aside. */
  not_repaired: { file: string; reason: string }[];
}

/**
 * Writes every garbled sidecar of an online root back from what the index holds (the original is
 * kept aside as `<file>.corrupt-<time>`). The index itself is not changed.
 */
export async function indexRepair(host: IndexHost, opts: { dryRun: boolean }): Promise<RepairReport> {
  const verify = await (
    await host.verifyService()
  ).run({ full: false, progress: NO_PROGRESS, random: () => 1 });
  return repairCorruptSidecars(host, verify, opts);
}

/** Repairs the `corrupt_sidecar` problems of a verify report (the agent's consistency check). */
export async function repairCorruptSidecars(
  host: IndexHost,
  verify: VerifyReport,
  opts: { dryRun: boolean },
): Promise<RepairReport> {
  const report: RepairReport = { dry_run: opts.dryRun, repaired: [], not_repaired: [] };
  const corrupt = verify.problems.filter((p) => p.kind === DriftKind.CORRUPT_SIDECAR);
  if (corrupt.length === 0) return report;
  const repairer = host.sidecarRepairer(await host.repo());
  for (const p of corrupt) {
    if (p.content_hash === undefined) continue;
    // <root>/.metadata/<2 hex>/<hash>.json
    const root = path.dirname(path.dirname(path.dirname(p.path)));
    const r = await repairer.repair(root, p.content_hash, p.path, opts.dryRun);
    if (r === null)
      report.not_repaired.push({ file: p.path, reason: 'the index does not describe this asset' });
    else report.repaired.push(r);
  }
  return report;
}

export async function indexVerify(
  host: IndexHost,
  opts: { full: boolean; progress: Progress },
): Promise<VerifyReport> {
  return (await host.verifyService()).run(opts);
}

/** `alice root forget`: an offline root the user says is gone for good (see root-forget.ts). */
export async function rootForget(
  host: IndexHost,
  opts: { path: string; dryRun: boolean },
): Promise<ForgetRootReport> {
  return host.scanService(await host.repo()).forgetRoot(opts.path, opts.dryRun);
}
