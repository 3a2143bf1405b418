/**
 * `alice root forget <path>`: the user says an offline root is gone for good. Nothing under an
 * offline root is ever marked missing on alice's own judgement (an unmounted disk is not a mass
 * deletion); this is the user's word for it. A configured root's present files are marked missing
 * (their assets, tags and sidecars stay: a file that comes back is restored), a root no longer in
 * the settings loses its locations, and what alice remembered of the root's identity (marker id,
 * device) is dropped, so a disk that does come back is adopted with whatever marker it holds.
 * An online root is refused: its deletions are seen file by file by `alice index update`.
 */
import path from 'node:path';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import type { LocationRow } from '../../adapters/index/rows.js';
import type { RootConfig } from '../../config/config.js';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import { MediaType, mediaInfoFor } from '../../domain/media.js';
import type { Clock, EventSink, Logger } from '../../ports.js';
import type { RootCheck, RootIdentityStore } from './root-identity.js';

export interface ForgetRootDeps {
  roots: readonly RootConfig[];
  repo: AssetRepository;
  identity?: RootIdentityStore;
  events: EventSink;
  logger: Logger;
  clock: Clock;
  /** Is the root online (no marker is written)? */
  check: (root: string) => Promise<RootCheck>;
}

export interface ForgetRootReport {
  root: string;
  dry_run: boolean;
  /** True when the root is in the settings (its files are marked missing, not removed). */
  configured: boolean;
  /** Why the root is offline. */
  reason: string;
  /** Present files marked missing (a configured root). */
  marked_missing: number;
  /** Locations removed (a root no longer in the settings). */
  locations_removed: number;
  /** Assets left with no present file anywhere (shown as missing; tags and sidecars kept). */
  assets_now_missing: number;
}

function norm(p: string): string {
  const r = path.resolve(p);
  return r.length > 1 && r.endsWith(path.sep) ? r.slice(0, -1) : r;
}

export async function forgetRoot(
  deps: ForgetRootDeps,
  rootArg: string,
  dryRun: boolean,
): Promise<ForgetRootReport> {
  const root = norm(rootArg);
  const configured = deps.roots.some((r) => norm(r.path) === root);
  const rows = await deps.repo.locationsUnder(root);
  if (!configured && rows.length === 0)
    throw new AliceError(
      ErrorCode.NOT_FOUND,
      `${root} is not a root: not in the settings, and the index holds nothing under it`,
      {
        hint: '`alice status` lists the roots and which are offline',
      },
    );
  const check = await deps.check(root);
  if (check.online)
    throw new AliceError(
      ErrorCode.INVALID_INPUT,
      `${root} is online: only a root that is offline can be forgotten`,
      {
        hint: 'files deleted from an online root are marked missing by `alice index update` (add `--allow-mass-delete` for many at once); to stop watching it, remove it from the settings',
      },
    );
  const reason = check.reason ?? 'offline';
  const affected = configured ? rows.filter((r) => r.present) : rows;
  const report: ForgetRootReport = {
    root,
    dry_run: dryRun,
    configured,
    reason,
    marked_missing: configured ? affected.length : 0,
    locations_removed: configured ? 0 : affected.length,
    assets_now_missing: await assetsLeftMissing(deps.repo, affected),
  };
  if (dryRun) return report;
  const now = deps.clock.now().toISOString();
  const hashes = [...new Set(affected.map((r) => r.content_hash))];
  // Emitted before the index shows them missing: its commit makes the events durable first.
  for (const r of affected)
    deps.events.emit('asset.missing', {
      content_hash: r.content_hash,
      path: r.path,
      root,
      media_type: mediaInfoFor(r.path)?.type ?? MediaType.IMAGE,
    });
  await deps.repo.atomically(async () => {
    if (configured)
      await deps.repo.markMissing(
        affected.map((r) => r.path),
        now,
      );
    else await deps.repo.deleteLocations(affected.map((r) => r.path));
    await deps.repo.refreshStatus(hashes);
  });
  await deps.identity?.forget(root);
  deps.logger.warn('root forgotten: the user says it is gone for good', {
    root,
    reason,
    marked_missing: report.marked_missing,
    locations_removed: report.locations_removed,
  });
  return report;
}

/** Present assets whose every present file lies among `affected` (none is left elsewhere). */
async function assetsLeftMissing(repo: AssetRepository, affected: readonly LocationRow[]): Promise<number> {
  const gone = new Set(affected.map((r) => r.path));
  let n = 0;
  for (const hash of new Set(affected.filter((r) => r.present).map((r) => r.content_hash))) {
    const locs = await repo.locationsOf(hash);
    if (!locs.some((l) => l.present && !gone.has(l.path))) n++;
  }
  return n;
}
