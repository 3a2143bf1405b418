/**
 * Duplicate reports: exact groups (one content hash at several present paths) and near groups
 * (pHash within a threshold, by multi-index hashing), each with a suggested keeper and the reason.
 * It only reports; nothing is ever deleted.
 */
import type { SearchRepository, SearchRow } from '../../adapters/index/search.repository.js';
import { chooseKeeper, chooseKeeperCopy, type KeeperCandidate } from '../../domain/duplicate-keeper.js';
import { isInProject } from '../../domain/project.js';
import { findNearDuplicates, nearDistance, type HashItem } from '../../domain/near-duplicates.js';
import type { DupesQuery } from '../../domain/search-filters.js';

export interface ExactGroup {
  content_hash: string;
  /** Library copies (outside project folders); every one but the keeper could go. */
  paths: string[];
  keeper: string;
  reason: string;
  /**
   * With `--include-projects`: copies of the same bytes inside project folders (`selected/`,
   * `exports/`, `created/`). Never candidates for deletion: they are what projects deliver.
   */
  project_copies?: string[];
  /**
   * Library copies of the same content whose bytes differ from the keeper's: another program
   * edited their metadata (keywords, rating…). Not identical files, so never offered for deletion.
   */
  metadata_differs?: string[];
  /** Bytes of the keeper as it is now (alice's own embedding changes a file's size). */
  file_size: number;
  media_type: string | null;
}

export interface NearMember {
  content_hash: string;
  path: string | null;
  width: number | null;
  height: number | null;
  file_size: number;
  tag_count: number;
  has_prompt: boolean;
  first_seen: string | null;
  /** pHash distance to the keeper (crop-tolerant: see docs/perceptual-hashes.md). */
  distance: number;
}

export interface NearGroup {
  keeper: string;
  keeper_path: string | null;
  reason: string;
  members: NearMember[];
}

export interface DupesResponse {
  exact: ExactGroup[];
  near: NearGroup[];
  /** The threshold near groups were made with; null when near duplicates were not looked for. */
  near_threshold: number | null;
}

/** Byte hash and size of present locations by path, for the assets asked (the index's `locations`). */
export type CopyBytes = (
  contentHashes: readonly string[],
) => Promise<Map<string, { byteHash: string; size: number }>>;

/**
 * Exact groups of library copies. Copies inside project folders are never part of a group (a user
 * acting on the list would delete deliverables); with `includeProjects` they are listed beside it
 * in `project_copies`, and content held once in the library plus in projects is reported too.
 */
async function exactGroups(
  repo: SearchRepository,
  projectRoots: readonly string[],
  includeProjects: boolean,
  copyBytes?: CopyBytes,
): Promise<ExactGroup[]> {
  const copies = await repo.exactCopies();
  const byHash = new Map<string, typeof copies>();
  for (const c of copies) byHash.set(c.content_hash, [...(byHash.get(c.content_hash) ?? []), c]);
  const wanted = [...byHash.entries()].flatMap(([hash, list]) => {
    const library = list.filter((c) => !isInProject(c.path, projectRoots));
    const inProjects = list.filter((c) => isInProject(c.path, projectRoots)).map((c) => c.path);
    const counts = library.length > 1 || (includeProjects && library.length === 1);
    return counts ? [{ hash, library, inProjects }] : [];
  });
  const hashes = wanted.map((w) => w.hash);
  const rows = new Map((await repo.rowsOf(hashes)).map((r) => [r.content_hash, r]));
  const bytes =
    copyBytes === undefined ? new Map<string, { byteHash: string; size: number }>() : await copyBytes(hashes);
  const groups = wanted.map(({ hash, library, inProjects }): ExactGroup => {
    const candidates = library.map((c) => ({ path: c.path, firstSeen: c.first_seen }));
    const keeper = chooseKeeperCopy(candidates).keeper;
    // One asset's copies can differ in bytes: metadata edited in one of them by another program.
    const bytesOf = (p: string): string => bytes.get(p)?.byteHash ?? hash;
    const same = candidates.filter((c) => bytesOf(c.path) === bytesOf(keeper));
    const differs = candidates.filter((c) => bytesOf(c.path) !== bytesOf(keeper)).map((c) => c.path);
    const reason =
      same.length > 1
        ? chooseKeeperCopy(same).reason
        : differs.length > 0
          ? 'the other library copies are the same picture with other metadata'
          : 'the only library copy; the others are project copies';
    const row = rows.get(hash);
    return {
      content_hash: hash,
      paths: same.map((c) => c.path),
      keeper,
      reason,
      ...(includeProjects ? { project_copies: inProjects } : {}),
      ...(differs.length > 0 ? { metadata_differs: differs } : {}),
      file_size: bytes.get(keeper)?.size ?? row?.file_size ?? 0,
      media_type: row?.media_type ?? null,
    };
  });
  // Most wasted space first.
  return groups.sort(
    (a, b) =>
      b.file_size * (b.paths.length - 1) - a.file_size * (a.paths.length - 1) ||
      (a.content_hash < b.content_hash ? -1 : 1),
  );
}

function candidateOf(r: SearchRow): KeeperCandidate {
  return {
    id: r.content_hash,
    width: r.width,
    height: r.height,
    format: r.format,
    fileSize: r.file_size,
    tagCount: r.tags.length,
    hasPrompt: (r.prompt ?? '') !== '',
    hasDescription: (r.description ?? '') !== '',
    firstSeen: r.first_seen,
  };
}

function memberOf(r: SearchRow, distance: number): NearMember {
  return {
    content_hash: r.content_hash,
    path: r.file_path,
    width: r.width,
    height: r.height,
    file_size: r.file_size,
    tag_count: r.tags.length,
    has_prompt: (r.prompt ?? '') !== '',
    first_seen: r.first_seen,
    distance,
  };
}

async function nearGroups(repo: SearchRepository, threshold: number): Promise<NearGroup[]> {
  const entries = await repo.presentPhashes();
  const items: HashItem[] = entries.map((e) => ({
    id: e.content_hash,
    hash: BigInt(`0x${e.phash}`),
    crops: (e.crops ?? '')
      .split(' ')
      .filter((h) => /^[0-9a-f]{16}$/.test(h))
      .map((h) => BigInt(`0x${h}`)),
  }));
  const itemOf = new Map(items.map((i) => [i.id, i]));
  const { groups } = findNearDuplicates(items, { threshold, maxPairs: 0 });
  const rows = new Map((await repo.rowsOf(groups.flat())).map((r) => [r.content_hash, r]));
  return groups.map((ids) => {
    const members = ids.flatMap((id) => rows.get(id) ?? []);
    const choice = chooseKeeper(members.map(candidateOf));
    const keeper = itemOf.get(choice.keeper);
    const distance = (r: SearchRow): number => {
      const other = itemOf.get(r.content_hash);
      return keeper === undefined || other === undefined ? 0 : nearDistance(keeper, other);
    };
    return {
      keeper: choice.keeper,
      keeper_path: rows.get(choice.keeper)?.file_path ?? null,
      reason: choice.reason,
      members: members
        .map((r) => memberOf(r, distance(r)))
        .sort((a, b) => a.distance - b.distance || (a.content_hash < b.content_hash ? -1 : 1)),
    };
  });
}

/** Exact duplicate groups and, when asked, near-duplicate groups. */
export async function findDupes(
  repo: SearchRepository,
  query: DupesQuery,
  projectRoots: readonly string[],
  copyBytes?: CopyBytes,
): Promise<DupesResponse> {
  return {
    exact: await exactGroups(repo, projectRoots, query.includeProjects, copyBytes),
    near: query.near ? await nearGroups(repo, query.threshold) : [],
    near_threshold: query.near ? query.threshold : null,
  };
}
