/** Operation of `alice understand` (CLI, socket and MCP). The service is built in the container. */
import { z } from 'zod';
import { op } from './op.js';

export const UNDERSTAND_OPS = {
  'asset.understand': op(
    z.object({
      refs: z.array(z.string().min(1)).default([]),
      all: z.boolean().default(false),
      dryRun: z.boolean().default(false),
      force: z.boolean().default(false),
    }),
    true,
    async (ctx, p) =>
      (await ctx.container.understandService()).understand(
        p.refs,
        p.all,
        { dryRun: p.dryRun, force: p.force },
        { cwd: ctx.cwd, remote: ctx.remote },
      ),
  ),
};
