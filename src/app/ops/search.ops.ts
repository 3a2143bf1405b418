/** Operations of search: `search`, `similar`, `dupes` (read-only; served in-process or by the agent). */
import { analyseImage } from '../../adapters/sharp.adapter.js';
import { SearchRepository } from '../../adapters/index/search.repository.js';
import { dupesSchema, searchFiltersSchema, similarSchema } from '../../domain/search-filters.js';
import { SYSTEM_CLOCK } from '../../ports.js';
import { SearchService, type ImageHasher } from '../../services/search/search.service.js';
import type { Container } from '../container.js';
import { op } from './op.js';

/** Perceptual hashes of a file that is not in the index (sharp, one decode). */
export const hashImageFile: ImageHasher = async (file) => {
  const res = await analyseImage(file);
  return res.ok ? { ok: true, hashes: res.hashes } : { ok: false, reason: res.reason };
};

/** Builds the search service over a container's index. */
export async function searchServiceOf(container: Container): Promise<SearchService> {
  const assets = await container.assetsService();
  return new SearchService({
    repo: new SearchRepository(await container.index({ mustExist: true })),
    resolve: (ref, opts) => assets.resolve(ref, opts),
    hashImage: hashImageFile,
    projectRoots: container.config.roots.filter((r) => r.kind === 'project').map((r) => r.path),
    clock: SYSTEM_CLOCK,
  });
}

export const SEARCH_OPS = {
  search: op(searchFiltersSchema, false, async (ctx, p) => (await searchServiceOf(ctx.container)).search(p)),
  similar: op(similarSchema, false, async (ctx, p) =>
    (await searchServiceOf(ctx.container)).findSimilar(p, { cwd: ctx.cwd, confineToRoots: ctx.remote }),
  ),
  dupes: op(dupesSchema, false, async (ctx, p) => (await searchServiceOf(ctx.container)).dupes(p)),
};
