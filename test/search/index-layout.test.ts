/**
 * The index layout behind fast search (schema version 2): integer asset ids in the tag and term
 * tables, integer tag and term keys, tables sorted by key, and the upgrade of a version 1 file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/adapters/duckdb.adapter.js';
import { AssetRepository, type AssetEntry } from '../../src/adapters/index/asset.repository.js';
import {
  indexKey,
  indexKeySql,
  tagKeyText,
  type AssetRow,
  type LocationRow,
} from '../../src/adapters/index/rows.js';
import { migrate, SCHEMA_VERSION, schemaVersion } from '../../src/adapters/index/schema.js';
import { SearchRepository } from '../../src/adapters/index/search.repository.js';
import { stem, tokenize } from '../../src/domain/prompt-text.js';
import { parseSearchFilters, type SearchFilters } from '../../src/domain/search-filters.js';
import { normaliseTagValue, parseTag } from '../../src/domain/tags.js';
import { AliceError, ErrorCode, Search } from '../../src/index.js';
import { AssetsService } from '../../src/services/search/assets.service.js';
import { SearchService, type SearchResponse } from '../../src/services/search/search.service.js';

/** The version 1 schema as alice wrote it (frozen history: what migration 2 upgrades). */
const V1_SCHEMA = [
  `CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
  `CREATE TABLE assets (content_hash VARCHAR PRIMARY KEY, file_path VARCHAR, file_name VARCHAR,
    file_size BIGINT, media_type VARCHAR, format VARCHAR, mime VARCHAR, width INTEGER, height INTEGER,
    duration DOUBLE, tags VARCHAR[], description VARCHAR, prompt VARCHAR, negative_prompt VARCHAR,
    source VARCHAR, model VARCHAR, generation JSON, created_at TIMESTAMP, first_seen TIMESTAMP,
    updated_at TIMESTAMP, derived_from VARCHAR, embed_state VARCHAR, status VARCHAR, warnings VARCHAR[])`,
  `CREATE TABLE locations (path VARCHAR PRIMARY KEY, content_hash VARCHAR NOT NULL, byte_hash VARCHAR NOT NULL,
    root VARCHAR NOT NULL, rel_path VARCHAR NOT NULL, size BIGINT, mtime_ms DOUBLE, inode DOUBLE,
    present BOOLEAN NOT NULL, first_seen TIMESTAMP, last_seen TIMESTAMP, missing_since TIMESTAMP)`,
  `CREATE TABLE aliases (alias_hash VARCHAR PRIMARY KEY, content_hash VARCHAR NOT NULL)`,
  `CREATE TABLE asset_tags (content_hash VARCHAR NOT NULL, category VARCHAR NOT NULL, value VARCHAR NOT NULL,
    value_norm VARCHAR NOT NULL, source VARCHAR)`,
  `CREATE TABLE perceptual_hashes (content_hash VARCHAR PRIMARY KEY, phash VARCHAR, dhash VARCHAR, ahash VARCHAR,
    phash_u64 UBIGINT, dhash_u64 UBIGINT, ahash_u64 UBIGINT)`,
  `CREATE TABLE prompt_terms (term VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, tf INTEGER NOT NULL)`,
  `CREATE TABLE roots (path VARCHAR PRIMARY KEY, kind VARCHAR, state VARCHAR, last_scan TIMESTAMP)`,
  `CREATE TABLE file_errors (path VARCHAR PRIMARY KEY, root VARCHAR, code VARCHAR, message VARCHAR, seen_at TIMESTAMP)`,
  `INSERT INTO meta VALUES ('schema_version', '1')`,
];

const ROOT = '/lib';
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const hashOf = (i: number): string => hex(i * 7919 + 1, 64);

interface Spec {
  tags: string[];
  prompt: string | null;
  description: string | null;
  createdAt: string | null;
  status: 'present' | 'missing';
}

/** A small library with ties (dates, prompt lengths), missing assets and assets without text. */
function specs(n: number): Spec[] {
  const words = ['red', 'neon', 'city', 'night', 'rain', 'portrait', 'Ünïcode', 'forest', 'cities', 'lights'];
  return Array.from({ length: n }, (_, i) => ({
    tags: [
      `style:${['Cyberpunk', 'noir', 'Ukiyo-e'][i % 3]}`,
      `mood:${i % 4 === 0 ? 'calm' : 'tense'}`,
      `subject:s${i % 5}`,
      // A hand-edited sidecar may list a tag twice, in two spellings that normalise alike.
      ...(i % 11 === 0 ? [`style:${['Cyberpunk', 'noir', 'Ukiyo-e'][i % 3]?.toUpperCase()}`] : []),
    ],
    prompt:
      i % 6 === 5
        ? null
        : Array.from({ length: 2 + (i % 5) }, (_, k) => words[(i * 3 + k * k) % words.length]).join(' '),
    description: i % 4 === 1 ? `${words[i % words.length]} description` : null,
    createdAt: i % 7 === 0 ? null : `2024-0${1 + (i % 3)}-1${i % 4}T10:00:00.000Z`,
    status: i % 9 === 4 ? 'missing' : 'present',
  }));
}

function entryOf(i: number, s: Spec): { entry: AssetEntry; location: LocationRow } {
  const hash = hashOf(i);
  const tags = s.tags.map((t) => parseTag(t));
  const file = `${ROOT}/${hex(i, 3)}.png`;
  const asset: AssetRow = {
    content_hash: hash,
    file_path: file,
    file_name: path.basename(file),
    file_size: 1000 + ((i * 37) % 11),
    media_type: i % 10 === 3 ? 'video' : 'image',
    format: 'png',
    mime: null,
    width: 512,
    height: 512 + (i % 3) * 128,
    duration: null,
    tags: tags.map((t) => `${t.category}:${t.value}`),
    description: s.description,
    prompt: s.prompt,
    negative_prompt: null,
    source: 'comfyui',
    model: 'sdxl',
    generation: null,
    created_at: s.createdAt,
    first_seen: '2024-01-05T00:00:00.000Z',
    updated_at: '2024-01-05T00:00:00.000Z',
    derived_from: null,
    embed_state: null,
    status: s.status,
    warnings: [],
    damage: null,
    created_source: null,
  };
  const phash = hex((i * 2654435761) % 2 ** 32, 8).repeat(2);
  return {
    entry: {
      asset,
      tags: tags.map((t) => ({
        content_hash: hash,
        category: t.category,
        value: t.value,
        value_norm: normaliseTagValue(t.value),
        source: 'user',
      })),
      phash: { content_hash: hash, phash, dhash: phash, ahash: phash },
      aliases: [],
    },
    location: {
      path: file,
      content_hash: hash,
      byte_hash: hash,
      root: ROOT,
      rel_path: path.basename(file),
      size: asset.file_size,
      mtime_ms: 0,
      inode: i,
      present: s.status === 'present',
      first_seen: '2024-01-05T00:00:00.000Z',
      last_seen: '2024-01-05T00:00:00.000Z',
      missing_since: null,
    },
  };
}

/** Writes the library the way alice 1 did: version 1 tables filled row by row. */
async function writeV1(db: Db, n: number): Promise<void> {
  for (const sql of V1_SCHEMA) await db.run(sql);
  for (const [i, s] of specs(n).entries()) {
    const { entry, location } = entryOf(i, s);
    const a = entry.asset;
    await db.run(
      `INSERT INTO assets (content_hash, file_path, file_name, file_size, media_type, format, width, height,
         tags, description, prompt, source, model, created_at, first_seen, updated_at, status, warnings)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::JSON::VARCHAR[], ?, ?, ?, ?, TRY_CAST(? AS TIMESTAMP),
         TRY_CAST(? AS TIMESTAMP), TRY_CAST(? AS TIMESTAMP), ?, [])`,
      [
        a.content_hash,
        a.file_path,
        a.file_name,
        a.file_size,
        a.media_type,
        a.format,
        a.width,
        a.height,
        JSON.stringify(a.tags),
        a.description,
        a.prompt,
        a.source,
        a.model,
        a.created_at,
        a.first_seen,
        a.updated_at,
        a.status,
      ],
    );
    for (const t of entry.tags) {
      await db.run(`INSERT INTO asset_tags VALUES (?, ?, ?, ?, ?)`, [
        t.content_hash,
        t.category,
        t.value,
        t.value_norm,
        t.source,
      ]);
    }
    const text = [a.prompt ?? '', a.description ?? ''].join(' ').trim();
    if (text !== '') {
      // Version 1 stored the tokens as they are (not stemmed): the migration stems them in SQL.
      const v1Terms = new Map<string, number>();
      for (const t of tokenize(text)) v1Terms.set(t, (v1Terms.get(t) ?? 0) + 1);
      for (const [term, tf] of v1Terms) {
        await db.run(`INSERT INTO prompt_terms VALUES (?, ?, ?)`, [term, a.content_hash, tf]);
      }
    }
    const p = entry.phash;
    if (p !== null) {
      await db.run(`INSERT INTO perceptual_hashes VALUES (?, ?, ?, ?, ?::UBIGINT, ?::UBIGINT, ?::UBIGINT)`, [
        p.content_hash,
        p.phash,
        p.dhash,
        p.ahash,
        ...[p.phash, p.dhash, p.ahash].map((h) => BigInt(`0x${h}`).toString()),
      ]);
    }
    await db.run(
      `INSERT INTO locations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, TRY_CAST(? AS TIMESTAMP), TRY_CAST(? AS TIMESTAMP), NULL)`,
      [
        location.path,
        location.content_hash,
        location.byte_hash,
        location.root,
        location.rel_path,
        location.size,
        location.mtime_ms,
        location.inode,
        location.present,
        location.first_seen,
        location.last_seen,
      ],
    );
  }
}

/**
 * Writes the same library through today's write path: assets then their locations, or (as a scan
 * writes new content) the locations first.
 */
async function writeCurrent(
  db: Db,
  n: number,
  order: 'assets first' | 'locations first' = 'assets first',
): Promise<AssetRepository> {
  await migrate(db);
  const repo = new AssetRepository(db);
  const built = specs(n).map((s, i) => entryOf(i, s));
  if (order === 'locations first') await repo.upsertLocations(built.map((b) => b.location));
  await repo.upsertAssets(built.map((b) => b.entry));
  if (order === 'assets first') await repo.upsertLocations(built.map((b) => b.location));
  return repo;
}

/** Locations whose `asset_id` (version 7) is not their content's asset id (none when all are linked). */
async function unlinkedLocations(db: Db): Promise<unknown[]> {
  const rows = await db.all<{ path: string }>(
    `SELECT l.path FROM locations l LEFT JOIN assets a ON a.content_hash = l.content_hash
     WHERE l.asset_id IS DISTINCT FROM a.asset_id ORDER BY l.path`,
  );
  return rows.map((r) => r.path);
}

function serviceOf(db: Db): SearchService {
  return new SearchService({
    repo: new SearchRepository(db),
    resolve: (ref, o) => new AssetsService({ repo: new AssetRepository(db), roots: [] }).resolve(ref, o),
    hashImage: () => Promise.resolve({ ok: false, reason: 'not in this test' }),
    projectRoots: [],
    clock: { now: () => new Date('2024-03-25T00:00:00.000Z') },
    randomSeed: () => 'fixed',
  });
}

const QUERIES: SearchFilters[] = [
  { tags: ['style:cyberpunk'] },
  { tags: ['noir'], sort: 'oldest' },
  { any_tags: ['style:noir', 'mood:calm'], exclude_tags: ['subject:s1'], sort: 'name' },
  { tags: ['mood:tense'], sort: 'size', limit: 7, offset: 3 },
  { tags: ['mood:tense'], sort: 'random', seed: 'abc' },
  { prompt: 'city' },
  { prompt: 'neon city', include_missing: true },
  { prompt: 'ünïcode', limit: 3, offset: 1 },
  { prompt: 'description red' },
  { prompt: 'city', sort: 'newest', limit: 4 },
  { prompt: 'rain', facets: true },
  { prompt: 'cities' },
  { query: 'city' },
  { query: 'cyber calm', sort: 'name' },
  { query: 'neo', limit: 3, offset: 2 },
  { tags: ['style:ukiyo-e'], facets: true, include_missing: true },
  { limit: 5, offset: 1000 },
  {},
];

async function answers(db: Db): Promise<SearchResponse[]> {
  const service = serviceOf(db);
  return Promise.all(QUERIES.map((f) => service.search(parseSearchFilters(f))));
}

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-index-layout-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('index keys', () => {
  it('the key computed in TypeScript equals the one computed in SQL', async () => {
    const db = await openDb(':memory:');
    try {
      const texts = ['w7', 'city', 'Ünïcode', '🙂 emoji', tagKeyText('style', 'neon city'), ''];
      for (const t of texts) {
        const rows = await db.all<{ k: bigint }>(`SELECT ${indexKeySql('?::VARCHAR')} AS k`, [t]);
        expect(String(rows[0]?.k)).toBe(indexKey(t));
      }
      expect(indexKey(tagKeyText('a:b', 'c'))).not.toBe(indexKey(tagKeyText('a', 'b:c')));
    } finally {
      db.close();
    }
  });
});

describe('migration from schema version 1', () => {
  it('upgrades a version 1 file: every search answers as on an index written today', async () => {
    const n = 40;
    const oldFile = path.join(dir, 'v1.duckdb');
    const v1 = await openDb(oldFile);
    await writeV1(v1, n);
    v1.close();

    await expect(Search.open(oldFile)).rejects.toSatisfy(
      (err: unknown) => err instanceof AliceError && err.code === ErrorCode.INDEX_MISSING,
    );

    const upgraded = await openDb(oldFile);
    const fresh = await openDb(path.join(dir, 'current.duckdb'));
    try {
      await migrate(upgraded);
      expect(await schemaVersion(upgraded)).toBe(SCHEMA_VERSION);
      await writeCurrent(fresh, n);
      const ids = await upgraded.all(
        `SELECT count(DISTINCT asset_id) AS d, count(*) AS n, count(doc_len) AS l FROM assets`,
      );
      expect(ids[0]).toEqual({
        d: BigInt(n),
        n: BigInt(n),
        l: BigInt(specs(n).filter((s) => s.prompt !== null || s.description !== null).length),
      });
      const expected = await answers(fresh);
      // Every query but the one paged past the end finds something, relevance pages carry scores.
      expect(expected.map((r) => r.results.length > 0)).toEqual(QUERIES.map((q) => q.offset !== 1000));
      expect(expected[5]?.results.every((r) => typeof r.score === 'number')).toBe(true);
      expect(await answers(upgraded)).toEqual(expected);

      // Keys are the ones the write path computes, and the migrated tables are in key order.
      const tags = await upgraded.all<{ k: bigint; c: string; v: string }>(
        `SELECT tag_key AS k, category AS c, value_norm AS v FROM asset_tags ORDER BY rowid`,
      );
      for (const t of tags) expect(String(t.k)).toBe(indexKey(tagKeyText(t.c, t.v)));
      expect(tags.map((t) => t.k)).toEqual(
        [...tags.map((t) => t.k)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      const terms = await upgraded.all<{ k: bigint; t: string }>(
        `SELECT term_key AS k, term AS t FROM prompt_terms ORDER BY rowid`,
      );
      for (const t of terms) expect(String(t.k)).toBe(indexKey(t.t));
      // Version 6: every tag and term key is in its dictionary, in the upgraded and in a fresh index.
      for (const db of [upgraded, fresh]) {
        const missing = await db.all<{ n: bigint }>(
          `SELECT (SELECT count(*) FROM prompt_terms WHERE term_key NOT IN (SELECT term_key FROM search_terms))
                + (SELECT count(*) FROM asset_tags WHERE tag_key NOT IN (SELECT tag_key FROM search_tags)) AS n`,
        );
        expect(missing[0]?.n).toBe(0n);
      }
      // Version 7: every location carries its asset's id, and an asset has one tag posting per
      // key (the sidecars list some tags twice), in the upgraded and in a fresh index.
      for (const db of [upgraded, fresh]) {
        expect(await unlinkedLocations(db)).toEqual([]);
        const twice = await db.all<{ n: bigint }>(
          `SELECT count(*) AS n FROM (SELECT asset_id, tag_key FROM asset_tags GROUP BY ALL HAVING count(*) > 1)`,
        );
        expect(twice[0]?.n).toBe(0n);
      }
      expect(
        (await upgraded.all(`SELECT count(*) AS n FROM asset_tags WHERE value = 'CYBERPUNK'`))[0],
      ).toEqual({ n: BigInt(specs(n).filter((_, i) => i % 33 === 0).length) });
      // Version 6: every posting carries its asset's sort time, presence and document length.
      for (const table of ['asset_tags', 'prompt_terms']) {
        const off = await upgraded.all<{ n: bigint }>(
          `SELECT count(*) AS n FROM ${table} p JOIN assets a USING (asset_id)
           WHERE p.sort_at IS DISTINCT FROM COALESCE(a.created_at, a.first_seen)
              OR p.present IS DISTINCT FROM (a.status = 'present')
              ${table === 'prompt_terms' ? 'OR p.doc_len IS DISTINCT FROM a.doc_len' : ''}`,
        );
        expect(off[0]?.n, table).toBe(0n);
      }
    } finally {
      upgraded.close();
      fresh.close();
    }
    const search = await Search.open(oldFile);
    expect((await search.search({ tags: ['style:noir'] })).total).toBeGreaterThan(0);
    await search.close();
  });
});

describe('tags and terms sorted by key', () => {
  it('an asset keeps its id across upserts; sorting the tables changes no answer', async () => {
    const db = await openDb(path.join(dir, 'sorted.duckdb'));
    try {
      const repo = await writeCurrent(db, 30);
      const before = await answers(db);
      const idOf = async (hash: string): Promise<unknown> =>
        (await db.all(`SELECT asset_id FROM assets WHERE content_hash = ?`, [hash]))[0]?.['asset_id'];
      const kept = await idOf(hashOf(3));

      // Few assets written since the last sort: not worth rewriting the tables.
      expect(await repo.sortSearchTables()).toBe(false);
      expect(await repo.sortSearchTables({ force: true })).toBe(true);
      const keys = await db.all<{ k: bigint }>(`SELECT term_key AS k FROM prompt_terms ORDER BY rowid`);
      expect(keys.map((r) => r.k)).toEqual(
        [...keys.map((r) => r.k)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      expect(await answers(db)).toEqual(before);

      const again = specs(31).map((s, i) => entryOf(i, s));
      await repo.upsertAssets([again[3]!.entry, again[30]!.entry]);
      await repo.upsertLocations([again[30]!.location]);
      expect(await idOf(hashOf(3))).toBe(kept);
      const max = await db.all(`SELECT max(asset_id) AS m FROM assets WHERE content_hash <> ?`, [hashOf(30)]);
      expect(await idOf(hashOf(30))).toBeGreaterThan(max[0]?.['m'] as bigint);
      expect(await answers(db)).not.toEqual(before);
      expect((await serviceOf(db).search(parseSearchFilters({ tags: ['subject:s0'] }))).total).toBe(
        specs(31).filter((s) => s.status === 'present' && s.tags.includes('subject:s0')).length,
      );
    } finally {
      db.close();
    }
  });
});

describe('locations carry their asset id', () => {
  it("locations carried over from a previous index take this index's asset ids", async () => {
    const prevFile = path.join(dir, 'prev.duckdb');
    const prev = await openDb(prevFile);
    await writeCurrent(prev, 12);
    prev.close();
    const db = await openDb(path.join(dir, 'carry.duckdb'));
    try {
      await migrate(db);
      const repo = new AssetRepository(db);
      // Other content first, so the carried assets get other ids than they had.
      const other = entryOf(500, specs(1)[0]!);
      await repo.upsertLocations([{ ...other.location, root: '/other', path: '/other/x.png' }]);
      await repo.upsertAssets([
        { ...other.entry, asset: { ...other.entry.asset, file_path: '/other/x.png' } },
      ]);
      const carried = await repo.carryOverRoots(prevFile, [ROOT], SCHEMA_VERSION);
      expect(carried).toEqual({ assets: 12, locations: 12 });
      expect(await unlinkedLocations(db)).toEqual([]);
      const res = await serviceOf(db).search(parseSearchFilters({ include_missing: true, limit: 100 }));
      expect(res.results).toHaveLength(13);
      for (const r of res.results) expect(r.locations).toEqual([r.path]);
    } finally {
      db.close();
    }
  });
});

describe('column tables', () => {
  it('every asset and location field reads back from its own column', async () => {
    const db = await openDb(':memory:');
    try {
      await migrate(db);
      const repo = new AssetRepository(db);
      const { entry, location } = entryOf(1, specs(2)[1]!);
      // A distinct value in every column, so a value written into a neighbour's column shows.
      const asset: AssetRow = {
        ...entry.asset,
        file_path: '/lib/a/file_path.png',
        file_name: 'file_name.png',
        file_size: 101,
        media_type: 'image',
        format: 'fmt',
        mime: 'image/x-mime',
        width: 102,
        height: 103,
        duration: 104.5,
        tags: ['t:tags'],
        description: 'desc text',
        prompt: 'prompt text',
        negative_prompt: 'negative text',
        source: 'src',
        model: 'mdl',
        generation: '{"seed":105}',
        created_at: '2024-01-01T00:00:01.000Z',
        first_seen: '2024-01-01T00:00:02.000Z',
        updated_at: '2024-01-01T00:00:03.000Z',
        derived_from: 'derived',
        embed_state: 'embed',
        status: 'missing',
        warnings: ['w1'],
        damage: 'damage text',
        created_source: 'file_mtime',
      };
      const loc: LocationRow = {
        ...location,
        byte_hash: 'b'.repeat(64),
        root: '/lib',
        rel_path: 'rel/path.png',
        size: 201,
        mtime_ms: 202.5,
        inode: 203,
        present: false,
        first_seen: '2024-02-01T00:00:01.000Z',
        last_seen: '2024-02-01T00:00:02.000Z',
        missing_since: '2024-02-01T00:00:03.000Z',
      };
      await repo.upsertAssets([{ ...entry, asset }]);
      await repo.upsertLocations([loc]);
      const back = await repo.getAsset(asset.content_hash);
      expect({ ...back, generation: JSON.parse(back?.generation ?? 'null') as unknown }).toEqual({
        ...asset,
        generation: { seed: 105 },
      });
      expect(await repo.location(loc.path)).toEqual(loc);
    } finally {
      db.close();
    }
  });
});

describe('answers equal a full scan', () => {
  it('tag, prompt word and search box queries: the same assets, order, totals and locations as scanning every row', async () => {
    const n = 120;
    const db = await openDb(path.join(dir, 'scan.duckdb'));
    try {
      // Written as a scan writes new content (locations before their assets); then a second copy
      // of every tenth asset, written after its asset (each way must give a location its asset id).
      const repo = await writeCurrent(db, n, 'locations first');
      const locations = specs(n).map((s, i) => entryOf(i, s).location);
      const copies = locations
        .filter((_, i) => i % 10 === 1)
        .map((l) => ({ ...l, path: `${ROOT}/copies/${path.basename(l.path)}`, inode: l.inode + 1000 }));
      await repo.upsertLocations(copies);
      locations.push(...copies);
      expect(await unlinkedLocations(db)).toEqual([]);
      const service = serviceOf(db);
      const rows = specs(n).map((s, i) => ({ s, e: entryOf(i, s).entry.asset }));
      // Every present copy's path (every known one with include_missing), sorted: what a result lists.
      const pathsOf = (hash: string, includeMissing: boolean): string[] =>
        locations
          .filter((l) => l.content_hash === hash && (includeMissing || l.present))
          .map((l) => l.path)
          .sort();
      let present = rows.filter((r) => r.s.status === 'present');
      const when = (a: AssetRow): string => a.created_at ?? a.first_seen ?? '';
      // newest first, then content hash: the order search gives without a relevance score
      const newest = (xs: typeof rows): string[] =>
        [...xs]
          .sort(
            (x, y) => when(y.e).localeCompare(when(x.e)) || x.e.content_hash.localeCompare(y.e.content_hash),
          )
          .map((x) => x.e.content_hash);
      const terms = (a: AssetRow): string[] => tokenize(`${a.prompt ?? ''} ${a.description ?? ''}`).map(stem);
      const checksOf = (): [SearchFilters, string[]][] => [
        ...['style:cyberpunk', 'style:noir', 'mood:calm', 'subject:s3'].map(
          (t): [SearchFilters, string[]] => [
            { tags: [t], sort: 'newest', limit: 1000 },
            newest(present.filter((r) => r.e.tags.map((x) => x.toLowerCase()).includes(t))),
          ],
        ),
        ...['city', 'lights', 'rain', 'ünïcode'].map((w): [SearchFilters, string[]] => [
          { prompt: w, sort: 'newest', limit: 1000 },
          newest(present.filter((r) => terms(r.e).includes(stem(w)))),
        ]),
        ...['cit', 'cyberpunk', 'forest', 's2'].map((w): [SearchFilters, string[]] => [
          { query: w, sort: 'newest', limit: 1000 },
          newest(
            present.filter(
              (r) =>
                terms(r.e).some((t) => t.startsWith(w)) ||
                r.e.tags.some((t) =>
                  t
                    .toLowerCase()
                    .split(/[^\p{L}\p{N}]+/u)
                    .some((x) => x.startsWith(w)),
                ) ||
                r.e.file_name.split(/[^\p{L}\p{N}]+/u).some((x) => x.startsWith(w)),
            ),
          ),
        ]),
        // Tags and terms with other filters (postings joined to assets) and relevance paging.
        [
          { tags: ['style:noir', 'mood:calm'], media_type: 'image', sort: 'newest', limit: 1000 },
          newest(
            present.filter(
              (r) =>
                r.e.media_type === 'image' &&
                ['style:noir', 'mood:calm'].every((t) => r.e.tags.map((x) => x.toLowerCase()).includes(t)),
            ),
          ),
        ],
      ];
      const check = async (): Promise<void> => {
        const checks = checksOf();
        expect(checks.every(([, e]) => e.length > 0)).toBe(true);
        for (const [filters, expected] of checks) {
          const res = await service.search(parseSearchFilters(filters));
          expect(res.total, JSON.stringify(filters)).toBe(expected.length);
          expect(
            res.results.map((r) => r.content_hash),
            JSON.stringify(filters),
          ).toEqual(expected);
          expect(
            res.results.map((r) => r.locations),
            JSON.stringify(filters),
          ).toEqual(expected.map((h) => pathsOf(h, false)));
          const page = await service.search(parseSearchFilters({ ...filters, limit: 5, offset: 3 }));
          expect(page.total).toBe(expected.length);
          expect(page.results.map((r) => r.content_hash)).toEqual(expected.slice(3, 8));
          // Pages start and end inside runs of equal dates: the locations follow the rows.
          expect(page.results.map((r) => r.locations)).toEqual(
            expected.slice(3, 8).map((h) => pathsOf(h, false)),
          );
        }
        // With missing assets: every known copy, present or not.
        const all = await service.search(
          parseSearchFilters({ tags: ['style:noir'], include_missing: true, limit: 1000 }),
        );
        expect(all.results.some((r) => r.status === 'missing')).toBe(true);
        expect(all.results.some((r) => r.locations.length > 1)).toBe(true);
        for (const r of all.results)
          expect(r.locations, r.content_hash).toEqual(pathsOf(r.content_hash, true));
      };
      await check();

      // Assets going missing and coming back: the postings' copy of presence follows the status.
      const gone = rows.filter((r, i) => r.s.status === 'present' && i % 5 === 2);
      const back = rows.filter((r) => r.s.status === 'missing');
      await repo.markMissing(
        gone.map((r) => r.e.file_path ?? ''),
        '2024-03-01T00:00:00.000Z',
      );
      const returned = back.map((r) => ({ ...entryOf(rows.indexOf(r), r.s).location, present: true }));
      await repo.upsertLocations(returned);
      for (const l of locations) {
        if (gone.some((r) => r.e.file_path === l.path)) l.present = false;
        if (returned.some((r) => r.path === l.path)) l.present = true;
      }
      await repo.refreshStatus([...gone, ...back].map((r) => r.e.content_hash));
      present = rows.filter((r) => !gone.includes(r) && (r.s.status === 'present' || back.includes(r)));
      expect(gone.length).toBeGreaterThan(0);
      expect(back.length).toBeGreaterThan(0);
      await check();
    } finally {
      db.close();
    }
  });
});
