/** The `migrate` operation: legacy sidecars and database exports → 4.0 sidecars, then rebuild and embed. */
import path from 'node:path';
import { z } from 'zod';
import { isInside } from '../../config/paths.js';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import { indexRebuild } from '../index-ops.js';
import type { MigrateService } from '../../services/migrate/migrate.service.js';
import { op, type OpContext } from './op.js';
import { TAG_OPS } from './tag.ops.js';

/** The export file, absolute; a remote caller may only name files inside the configured roots. */
function exportFile(ctx: OpContext, from: string | undefined): string | undefined {
  if (from === undefined) return undefined;
  const file = path.resolve(ctx.cwd, from);
  if (ctx.remote && !ctx.container.config.roots.some((r) => isInside(file, r.path)))
    throw new AliceError(ErrorCode.OUTSIDE_ROOTS, `${file} is not inside a configured root`);
  return file;
}

function migrateService(ctx: OpContext): Promise<MigrateService> {
  const c = ctx.container;
  return c.migrateService({
    rebuild: async ({ progress }) =>
      (await indexRebuild(c, { dryRun: false, verify: false, progress })).summary,
    // The same operation as `alice embed --all`; it reopens the index the rebuild swapped in.
    embed: ({ progress }) =>
      TAG_OPS['metadata.embed'].run({ ...ctx, progress }, { refs: [], all: true, dryRun: false }),
  });
}

export const MIGRATE_OPS = {
  migrate: op(
    z.object({
      dryRun: z.boolean().default(false),
      from: z.string().min(1).optional(),
      embed: z.boolean().default(true),
      rebuild: z.boolean().default(true),
    }),
    true,
    async (ctx, p) =>
      (await migrateService(ctx)).run({
        dryRun: p.dryRun,
        from: exportFile(ctx, p.from),
        cwd: ctx.cwd,
        embed: p.embed,
        rebuild: p.rebuild,
        progress: ctx.progress,
      }),
  ),
};
