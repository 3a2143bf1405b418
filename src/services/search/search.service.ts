/**
 * Search use cases: filtered search with a total and facets, visual similarity by perceptual hash
 * (also for files outside the library, hashed on the fly), and duplicate reports with a suggested
 * keeper. Reads only: nothing here changes the library.
 */
import fs from 'node:fs';
import type { Facets, SearchRepository, SearchRow } from '../../adapters/index/search.repository.js';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import {
  locationTest,
  resolveSearch,
  type DupesQuery,
  type PerceptualKind,
  type SearchQuery,
  type SimilarQuery,
} from '../../domain/search-filters.js';
import { isGlob } from '../../domain/search-values.js';
import type { PerceptualHashes } from '../../domain/sidecar.js';
import { groupTags, parseTag, type TagsByCategory } from '../../domain/tags.js';
import type { ResolvedRef } from './assets.service.js';
import { findDupes, type CopyBytes, type DupesResponse } from './dupes.service.js';
import type { Clock } from '../../ports.js';

export type { DupesResponse, ExactGroup, NearGroup, NearMember } from './dupes.service.js';

/** One asset in search results. */
export interface SearchResult {
  content_hash: string;
  /**
   * Primary path (a present copy; the last known one for a missing asset). With a `path` or
   * `project` filter, a location that matches it.
   */
  path: string | null;
  /** Every present copy (every known copy with `include_missing`). */
  locations: string[];
  media_type: string;
  format: string | null;
  width: number | null;
  height: number | null;
  duration: number | null;
  file_size: number;
  file_name: string;
  tags: TagsByCategory;
  prompt: string | null;
  description: string | null;
  source: string | null;
  model: string | null;
  created_at: string | null;
  first_seen: string | null;
  status: string;
  /** Why the file is damaged (does not decode completely, or is not what its name says); null when sound. */
  damage: string | null;
  /** BM25 relevance, when sorted by relevance. */
  score?: number;
}

export interface SearchResponse {
  results: SearchResult[];
  /** Matches over the whole library (not just this page). */
  total: number;
  facets?: Facets;
  /** The seed of a random order: pass it back to get the next page of the same order. */
  seed?: string;
}

export interface SimilarResult extends SearchResult {
  /** Hamming distance (bits out of 64) to the query. */
  distance: number;
}

export interface SimilarResponse {
  query: {
    content_hash: string | null;
    path: string | null;
    /** False for a file alice has not indexed (its hash was computed on the fly). */
    indexed: boolean;
    hash: PerceptualKind;
    value: string;
    threshold: number;
  };
  results: SimilarResult[];
}

export type ImageHasher = (
  file: string,
) => Promise<{ ok: true; hashes: PerceptualHashes } | { ok: false; reason: string }>;

export interface SearchServiceDeps {
  readonly repo: SearchRepository;
  /** Resolves `<file|hash>` references (AssetsService.resolve). */
  readonly resolve: (ref: string, opts: { cwd?: string; confineToRoots?: boolean }) => Promise<ResolvedRef>;
  /** Perceptual hashes of a file that is not indexed. */
  readonly hashImage: ImageHasher;
  /** Absolute `storage.project_paths` entries. */
  readonly projectRoots: readonly string[];
  readonly clock: Clock;
  /** Seed for `sort: random` without one; default: random. */
  readonly randomSeed?: () => string;
  /** Byte hash and size of each copy, so `dupes` groups only identical bytes for deletion. */
  readonly copyBytes?: CopyBytes;
}

function tagsOf(flat: readonly string[]): TagsByCategory {
  return groupTags(flat.map((t) => parseTag(t)));
}

function resultOf(r: SearchRow, locations: Map<string, string[]>): SearchResult {
  const out: SearchResult = {
    content_hash: r.content_hash,
    path: r.file_path,
    locations: locations.get(r.content_hash) ?? [],
    media_type: r.media_type,
    format: r.format,
    width: r.width,
    height: r.height,
    duration: r.duration,
    file_size: r.file_size,
    file_name: r.file_name,
    tags: tagsOf(r.tags),
    prompt: r.prompt,
    description: r.description,
    source: r.source,
    model: r.model,
    created_at: r.created_at,
    first_seen: r.first_seen,
    status: r.status,
    damage: r.damage,
  };
  return out;
}

/**
 * An absolute `path` without wildcards names a folder (or file) on this machine: when it does not
 * exist, no present asset can be under it, so that is an error rather than "no matches". (With
 * `include_missing` a vanished folder can still hold missing assets.)
 */
function checkPathFilter(query: SearchQuery): void {
  const p = query.path;
  if (p === undefined || !p.startsWith('/') || isGlob(p) || query.include_missing) return;
  if (fs.existsSync(p)) return;
  throw new AliceError(ErrorCode.NOT_FOUND, `no such folder: ${p}`, {
    hint: "--path takes a folder (it and everything under it) or a glob such as '*.png' or '2024/**'; add --include-missing to list assets whose files were there",
  });
}

export class SearchService {
  constructor(private readonly deps: SearchServiceDeps) {}

  /** Filtered, sorted page of assets, the total over the library, and optionally facets. */
  async search(query: SearchQuery): Promise<SearchResponse> {
    const { repo } = this.deps;
    checkPathFilter(query);
    const q = resolveSearch(query, {
      now: this.deps.clock.now(),
      projectRoots: this.deps.projectRoots,
      randomSeed: this.deps.randomSeed?.() ?? Math.random().toString(36).slice(2, 10),
    });
    const page = await repo.page(q);
    const rows = page.rows;
    const total =
      page.total ??
      (rows.length < q.limit && (rows.length > 0 || q.offset === 0)
        ? q.offset + rows.length
        : await repo.count(q));
    const locations = page.locations ?? (await repo.locationsOf(rows, q.includeMissing));
    const within = locationTest(q);
    const results = rows.map((r) => {
      const res = resultOf(r, locations);
      if (within !== undefined && (res.path === null || !within(res.path)))
        res.path = res.locations.find(within) ?? res.path;
      if (q.sort === 'relevance' && r.score !== null) res.score = Math.round(r.score * 1e4) / 1e4;
      return res;
    });
    const out: SearchResponse = { results, total };
    if (q.facets) out.facets = await repo.facets(q);
    if (q.sort === 'random') out.seed = q.seed;
    return out;
  }

  /** Assets whose perceptual hash is within `threshold` bits of the query's, nearest first. */
  async findSimilar(
    query: SimilarQuery,
    opts: { cwd?: string; confineToRoots?: boolean } = {},
  ): Promise<SimilarResponse> {
    const { repo } = this.deps;
    const target = await this.queryHash(query, opts);
    const rows = await repo.similar(query.hash, target.value, {
      threshold: query.threshold,
      limit: query.limit,
      exclude: target.content_hash,
      includeMissing: query.include_missing,
    });
    const locations = await repo.locationsOf(rows, query.include_missing);
    return {
      query: { ...target, hash: query.hash, threshold: query.threshold },
      results: rows.map((r) => ({ ...resultOf(r, locations), distance: r.score ?? 0 })),
    };
  }

  /** The query's hash value: stored for an indexed asset, computed from the file otherwise. */
  private async queryHash(
    query: SimilarQuery,
    opts: { cwd?: string; confineToRoots?: boolean },
  ): Promise<{ content_hash: string | null; path: string | null; indexed: boolean; value: string }> {
    // The common case, an asset's content hash: its stored hash is found without resolving the
    // reference first (perceptual hashes exist only for assets, so this is what resolve gives).
    const lower = query.ref.toLowerCase();
    if (/^[0-9a-f]{64}$/.test(lower)) {
      const stored = await this.deps.repo.perceptualOf(lower, query.hash);
      if (stored !== undefined) return { content_hash: lower, path: null, indexed: true, value: stored };
    }
    const ref = await this.deps.resolve(query.ref, opts);
    const hash = ref.contentHash ?? null;
    const path = ref.path ?? null;
    if (ref.indexed && hash !== null) {
      const stored = await this.deps.repo.perceptualOf(hash, query.hash);
      if (stored !== undefined) return { content_hash: hash, path, indexed: true, value: stored };
    }
    if (path === null) {
      throw new AliceError(
        ErrorCode.NOT_FOUND,
        ref.indexed
          ? `asset ${query.ref} has no perceptual hash (not an image, or it could not be decoded)`
          : `not in the library: ${query.ref}`,
        { hint: 'give the path of an image file instead: it is hashed on the fly' },
      );
    }
    const computed = await this.deps.hashImage(path);
    if (!computed.ok) {
      throw new AliceError(
        ErrorCode.UNSUPPORTED,
        `cannot compute a perceptual hash of ${path}: ${computed.reason}`,
        {
          hint: 'similarity works on images (and videos with ffmpeg installed)',
        },
      );
    }
    return { content_hash: hash, path, indexed: ref.indexed, value: computed.hashes[query.hash] };
  }

  /** Exact duplicate groups and, when asked, near-duplicate groups. Never deletes anything. */
  async dupes(query: DupesQuery): Promise<DupesResponse> {
    return findDupes(this.deps.repo, query, this.deps.projectRoots, this.deps.copyBytes);
  }
}
