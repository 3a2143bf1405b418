/**
 * Opening the index when the agent starts: a missing or empty index is rebuilt from files and
 * sidecars, a damaged one is set aside and rebuilt. The index is only a cache.
 */
import fs from 'node:fs';
import { AliceError, ErrorCode } from '../domain/errors.js';
import { indexRebuild } from '../services/index-ops.js';
import type { Logger } from '../services/ports.js';
import type { StatusService } from '../services/status.service.js';
import type { Container } from './container.js';

const SILENT = { start: () => undefined, tick: () => undefined, done: () => undefined };

export async function prepareIndex(
  container: Container,
  logger: Logger,
  status: StatusService,
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
  if (!needsRebuild) return;
  status.setState('scanning');
  logger.info('building the index from files and sidecars');
  const r = await indexRebuild(container, { dryRun: false, verify: false, progress: SILENT });
  logger.info('index rebuilt', { assets: r.summary.assets, files: r.summary.files_seen });
}
