/**
 * Operations of the trash (`alice serve`'s "move the others to the trash", and its undo): files move
 * into `<root>/.alice-trash/<date>/`, never deleted, and the index follows. Writes: in the agent
 * they queue behind its index lane like every other change.
 */
import path from 'node:path';
import { z } from 'zod';
import { NO_PROGRESS, SYSTEM_CLOCK } from '../../ports.js';
import { TrashService } from '../../services/trash/trash.service.js';
import type { Container } from '../container.js';
import { op, type OpContext } from './op.js';

async function trashService(ctx: OpContext): Promise<TrashService> {
  const container: Container = ctx.container;
  const repo = await container.repo();
  return new TrashService({
    roots: container.config.roots,
    repo,
    journalDir: path.join(container.config.paths.state, 'trash'),
    clock: SYSTEM_CLOCK,
    rescan: async (targets) =>
      void (await container.scanService(repo).run({
        mode: 'update',
        dryRun: false,
        allowMassDelete: true,
        progress: NO_PROGRESS,
        targets,
      })),
  });
}

export const TRASH_OPS = {
  'trash.move': op(z.object({ paths: z.array(z.string().min(1)).min(1).max(10_000) }), true, async (ctx, p) =>
    (await trashService(ctx)).move(p.paths.map((f) => path.resolve(ctx.cwd, f))),
  ),
  'trash.undo': op(z.object({ batch: z.string().min(1).max(100) }), true, async (ctx, p) =>
    (await trashService(ctx)).undo(p.batch),
  ),
};
