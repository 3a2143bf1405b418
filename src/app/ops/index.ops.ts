/** Operations of the foundation: index maintenance and `show`. */
import path from 'node:path';
import { z } from 'zod';
import { indexRebuild, indexRepair, indexUpdate, indexVerify, rootForget } from '../index-ops.js';
import { op } from './op.js';

export const INDEX_OPS = {
  'index.update': op(
    z.object({ dryRun: z.boolean().default(false), allowMassDelete: z.boolean().default(false) }),
    true,
    (ctx, p) => indexUpdate(ctx.container, { ...p, progress: ctx.progress }),
  ),
  'index.rebuild': op(
    z.object({ dryRun: z.boolean().default(false), verify: z.boolean().default(false) }),
    true,
    (ctx, p) => indexRebuild(ctx.container, { ...p, progress: ctx.progress }),
  ),
  'index.verify': op(z.object({ full: z.boolean().default(false) }), false, (ctx, p) =>
    indexVerify(ctx.container, { ...p, progress: ctx.progress }),
  ),
  'index.repair': op(z.object({ dryRun: z.boolean().default(false) }), true, (ctx, p) =>
    indexRepair(ctx.container, p),
  ),
  'root.forget': op(
    z.object({ path: z.string().min(1), dryRun: z.boolean().default(false) }),
    true,
    (ctx, p) => rootForget(ctx.container, { path: path.resolve(ctx.cwd, p.path), dryRun: p.dryRun }),
  ),
  'index.prune': op(z.object({ dryRun: z.boolean().default(false) }), true, async (ctx, p) =>
    (await ctx.container.pruneService()).run(p),
  ),
  'asset.show': op(z.object({ ref: z.string().min(1) }), false, async (ctx, p) =>
    (await ctx.container.assetsService()).record(p.ref, ctx.cwd),
  ),
};
