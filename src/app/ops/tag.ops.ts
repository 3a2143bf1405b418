/** Operations of `alice tag add|remove|set`, `alice describe` and `alice embed`. */
import { z } from 'zod';
import { TagMode } from '../../domain/tag-edit.js';
import { op, type OpContext } from './op.js';

function caller(ctx: OpContext): { cwd: string; remote: boolean } {
  return { cwd: ctx.cwd, remote: ctx.remote };
}

const refs = z.array(z.string().min(1)).min(1);
const tags = z.array(z.string());

function tagOp(mode: TagMode) {
  return op(z.object({ refs, tags }), true, async (ctx, p) =>
    (await ctx.container.tagService()).changeTags(p.refs, mode, p.tags, caller(ctx)),
  );
}

export const TAG_OPS = {
  'tag.add': tagOp(TagMode.ADD),
  'tag.remove': tagOp(TagMode.REMOVE),
  'tag.set': tagOp(TagMode.SET),
  'asset.describe': op(z.object({ ref: z.string().min(1), text: z.string() }), true, async (ctx, p) =>
    (await ctx.container.tagService()).describe(p.ref, p.text, caller(ctx)),
  ),
  'metadata.embed': op(
    z.object({
      refs: z.array(z.string().min(1)).default([]),
      all: z.boolean().default(false),
      dryRun: z.boolean().default(false),
    }),
    true,
    async (ctx, p) =>
      (await ctx.container.tagService()).embed(p.refs, p.all, p.dryRun, caller(ctx), ctx.progress),
  ),
};
