/** Operations of search: `search`, `similar`, `dupes` (read-only; served in-process or by the agent). */
import { dupesSchema, searchFiltersSchema, similarSchema } from '../../domain/search-filters.js';
import { op } from './op.js';

export const SEARCH_OPS = {
  search: op(searchFiltersSchema, false, async (ctx, p) => (await ctx.container.searchService()).search(p)),
  similar: op(similarSchema, false, async (ctx, p) =>
    (await ctx.container.searchService()).findSimilar(p, { cwd: ctx.cwd, confineToRoots: ctx.remote }),
  ),
  dupes: op(dupesSchema, false, async (ctx, p) => (await ctx.container.searchService()).dupes(p)),
};
