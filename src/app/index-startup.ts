/**
 * Opening the index when the agent starts: a missing or empty index is built from files and
 * sidecars, a damaged one is set aside and rebuilt. The index is only a cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AliceError, ErrorCode, errorMessage } from '../domain/errors.js';
import { indexRebuild } from './index-ops.js';
import type { Logger, Progress } from '../ports.js';
import type { StatusService } from '../services/watch/status.service.js';
import type { Container } from './container.js';

/**
 * Before the socket opens (it takes a moment): a damaged index is set aside and an empty one
 * removed, so the build that follows starts from a fresh file. Returns whether the index must be
 * built from files and sidecars (`buildIndex`, once the socket answers).
 */
export async function checkIndex(
  container: Container,
  logger: Logger,
  status: StatusService,
): Promise<boolean> {
  const file = container.config.searchDb;
  if (!fs.existsSync(file)) return true;
  try {
    const repo = await container.repo();
    if ((await repo.counts()).assets > 0) {
      await repo.probeReadable();
      sweepSidecarTemps(container, logger);
      return false;
    }
    // Empty: start from a fresh file (nothing of value is lost: the index is only a cache).
    container.closeIndex();
    fs.rmSync(file, { force: true });
    fs.rmSync(`${file}.wal`, { force: true });
    return true;
  } catch (err) {
    if (!isIndexCorrupt(err)) throw err;
    setDamagedIndexAside(container, logger, status, err);
    return true;
  }
}

/**
 * Builds a fresh index in place while the socket already answers: the pass writes the index in
 * one transaction at its end, so reads meanwhile see the last committed state (empty at first).
 */
export async function buildIndex(
  container: Container,
  logger: Logger,
  status: StatusService,
  progress: Progress,
): Promise<void> {
  status.setState('scanning');
  logger.info('building the index from files and sidecars');
  const summary = await container
    .scanService(await container.repo())
    .run({ mode: 'rebuild', dryRun: false, allowMassDelete: true, progress });
  logger.info('index built', { assets: summary.assets, files: summary.files_seen });
  sweepSidecarTemps(container, logger);
}

/** True for the error DuckDB damage maps to (truncated file, garbage, torn WAL). */
export function isIndexCorrupt(err: unknown): err is AliceError {
  return err instanceof AliceError && err.code === ErrorCode.INDEX_CORRUPT;
}

/** Rebuilds the index from files and sidecars, with the agent's state showing it. */
export async function rebuildIndex(
  container: Container,
  logger: Logger,
  status: StatusService,
  progress: Progress,
): Promise<void> {
  const before = status.doc.state;
  status.setState('scanning');
  logger.info('building the index from files and sidecars');
  const r = await indexRebuild(container, { dryRun: false, verify: false, progress });
  logger.info('index rebuilt', { assets: r.summary.assets, files: r.summary.files_seen });
  if (before !== 'starting') status.setState(before);
}

/**
 * Moves a damaged index and its WAL aside as `<file>.corrupt-<time>` (and `.wal`), never deleting
 * them (they may help a bug report), and says so in the log, the status and an `index.damaged`
 * event. The caller rebuilds.
 */
export function setDamagedIndexAside(
  container: Container,
  logger: Logger,
  status: StatusService,
  err: unknown,
): string {
  const file = container.config.searchDb;
  container.closeIndex();
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  if (fs.existsSync(file)) fs.renameSync(file, aside);
  if (fs.existsSync(`${file}.wal`)) fs.renameSync(`${file}.wal`, `${aside}.wal`);
  const raw = err instanceof Error && err.cause !== undefined ? err.cause : err;
  const error = errorMessage(raw).split('\n')[0] ?? '';
  logger.warn('the index was damaged: kept aside and rebuilt from files and sidecars', {
    kept_as: aside,
    error,
  });
  status.recordError({
    path: file,
    code: ErrorCode.INDEX_CORRUPT,
    message: `damaged index kept as ${aside}; rebuilt (${error})`,
  });
  container.events.emit('index.damaged', { index: file, kept_as: aside, error });
  return aside;
}

/**
 * Removes half-written sidecar temp files (`.<hash>.json.<random>.alice-tmp`) that a crash or
 * `kill -9` left in `.metadata/`. Safe here: the agent holds the index's write lock, so no other
 * alice process is writing sidecars.
 */
function sweepSidecarTemps(container: Container, logger: Logger): void {
  let removed = 0;
  for (const root of container.config.roots) {
    const meta = path.join(root.path, '.metadata');
    let shards: fs.Dirent[];
    try {
      shards = fs.readdirSync(meta, { withFileTypes: true });
    } catch {
      continue; // no sidecars yet, or the root is offline
    }
    for (const shard of shards) {
      if (!shard.isDirectory()) continue;
      const dir = path.join(meta, shard.name);
      for (const name of fs.readdirSync(dir)) {
        if (!name.endsWith('.alice-tmp')) continue;
        fs.rmSync(path.join(dir, name), { force: true });
        removed++;
      }
    }
  }
  if (removed > 0) logger.info('removed sidecar temp files left by an interrupted write', { removed });
}
