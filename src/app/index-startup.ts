/**
 * Opening the index when the agent starts: a missing or empty index is rebuilt from files and
 * sidecars, a damaged one is set aside and rebuilt. The index is only a cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AliceError, ErrorCode } from '../domain/errors.js';
import { indexRebuild } from './index-ops.js';
import type { Logger, Progress } from '../ports.js';
import type { StatusService } from '../services/watch/status.service.js';
import type { Container } from './container.js';

export async function prepareIndex(
  container: Container,
  logger: Logger,
  status: StatusService,
  progress: Progress,
): Promise<void> {
  const file = container.config.searchDb;
  let needsRebuild = !fs.existsSync(file);
  if (!needsRebuild) {
    try {
      const counts = await (await container.repo()).counts();
      needsRebuild = counts.assets === 0;
    } catch (err) {
      if (!(err instanceof AliceError) || err.code !== ErrorCode.INDEX_CORRUPT) throw err;
      container.closeIndex();
      const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      fs.renameSync(file, aside);
      fs.rmSync(`${file}.wal`, { force: true });
      logger.warn('the index was damaged: kept aside and rebuilt from files and sidecars', {
        kept_as: aside,
      });
      status.recordError({
        path: file,
        code: ErrorCode.INDEX_CORRUPT,
        message: `damaged index kept as ${aside}; rebuilt`,
      });
      needsRebuild = true;
    }
  }
  if (!needsRebuild) {
    sweepSidecarTemps(container, logger);
    return;
  }
  status.setState('scanning');
  logger.info('building the index from files and sidecars');
  const r = await indexRebuild(container, { dryRun: false, verify: false, progress });
  logger.info('index rebuilt', { assets: r.summary.assets, files: r.summary.files_seen });
  sweepSidecarTemps(container, logger);
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
