/**
 * The search service the CLI builds, over a test index: asset references resolved against the
 * library and project roots, real image hashing for `similar`, a fixed clock and random seed.
 */
import type { Db } from '../../src/adapters/duckdb.adapter.js';
import { AssetRepository } from '../../src/adapters/index/asset.repository.js';
import { SearchRepository } from '../../src/adapters/index/search.repository.js';
import { hashImageFile } from '../../src/app/media-probes.js';
import { parseSearchFilters, type SearchFilters } from '../../src/domain/search-filters.js';
import { AssetsService } from '../../src/services/search/assets.service.js';
import { SearchService, type SearchResponse } from '../../src/services/search/search.service.js';

export function searchServiceOver(db: Db, lib: string, projects: string): SearchService {
  const assets = new AssetsService({
    repo: new AssetRepository(db),
    roots: [
      { path: lib, kind: 'asset', isDefault: false },
      { path: projects, kind: 'project', isDefault: false },
    ],
  });
  return new SearchService({
    repo: new SearchRepository(db),
    resolve: (ref, o) => assets.resolve(ref, o),
    hashImage: hashImageFile,
    projectRoots: [projects],
    clock: { now: () => new Date('2024-03-25T00:00:00.000Z') },
    randomSeed: () => 'fixed',
  });
}

/** Parses `filters` as the CLI does and searches. */
export function searchWith(service: SearchService, filters: SearchFilters): Promise<SearchResponse> {
  return service.search(parseSearchFilters(filters));
}
