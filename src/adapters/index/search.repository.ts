/**
 * All search SQL: filtered, sorted pages of assets with a total and facets, perceptual-hash
 * neighbours, and the rows duplicate reports need. Every user value is a bound parameter; the only
 * text spliced into SQL comes from fixed tables in this file (column names, sort orders).
 */
import type { Db } from '../duckdb.adapter.js';
import { BM25_B, BM25_K1 } from '../../domain/search-values.js';
import type { PerceptualKind, ResolvedSearch, SortKey } from '../../domain/search-filters.js';
import { hexToU64, placeholders, toIso, toNum } from './rows.js';
import { WHEN, whereOf } from './search-where.js';

/** One asset row as search returns it (before locations are attached). */
export interface SearchRow {
  content_hash: string;
  file_path: string | null;
  file_name: string;
  file_size: number;
  media_type: string;
  format: string | null;
  width: number | null;
  height: number | null;
  duration: number | null;
  tags: string[];
  prompt: string | null;
  description: string | null;
  source: string | null;
  model: string | null;
  created_at: string | null;
  first_seen: string | null;
  status: string;
  /** BM25 relevance (relevance sort) or Hamming distance (similar). */
  score: number | null;
}

export interface Facets {
  tags: { tag: string; count: number }[];
  media_types: Record<string, number>;
  generators: Record<string, number>;
}

export interface PhashEntry {
  content_hash: string;
  phash: string;
}

export interface CopyRow {
  content_hash: string;
  path: string;
  first_seen: string | null;
}

const ISO = (col: string): string => `strftime(${col}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
const ROW_COLUMNS = `a.content_hash, a.file_path, a.file_name, a.file_size, a.media_type, a.format,
  a.width, a.height, a.duration, a.tags, a.prompt, a.description, a.source, a.model,
  ${ISO('a.created_at')} AS created_at, ${ISO('a.first_seen')} AS first_seen, a.status`;
const SORT_SQL: Readonly<Record<Exclude<SortKey, 'relevance' | 'random'>, string>> = {
  newest: `${WHEN} DESC NULLS LAST, a.content_hash`,
  oldest: `${WHEN} ASC NULLS LAST, a.content_hash`,
  name: `lower(a.file_name), a.file_name, a.content_hash`,
  size: `a.file_size DESC NULLS LAST, a.content_hash`,
};
const HASH_COLUMN: Readonly<Record<PerceptualKind, string>> = {
  phash: 'phash_u64',
  dhash: 'dhash_u64',
  ahash: 'ahash_u64',
};

interface PageKey {
  h: string;
  score: unknown;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function toRow(r: Record<string, unknown>): SearchRow {
  return {
    content_hash: String(r['content_hash']),
    file_path: (r['file_path'] as string | null) ?? null,
    file_name: str(r['file_name']),
    file_size: toNum(r['file_size']) ?? 0,
    media_type: str(r['media_type']),
    format: (r['format'] as string | null) ?? null,
    width: toNum(r['width']),
    height: toNum(r['height']),
    duration: toNum(r['duration']),
    tags: (r['tags'] as string[] | null) ?? [],
    prompt: (r['prompt'] as string | null) ?? null,
    description: (r['description'] as string | null) ?? null,
    source: (r['source'] as string | null) ?? null,
    model: (r['model'] as string | null) ?? null,
    created_at: toIso(r['created_at']),
    first_seen: toIso(r['first_seen']),
    status: str(r['status']),
    score: toNum(r['score']),
  };
}

export class SearchRepository {
  constructor(private readonly db: Db) {}

  async count(q: ResolvedSearch): Promise<number> {
    const w = whereOf(q);
    const rows = await this.db.all(`SELECT count(*) AS n FROM assets a WHERE ${w.sql}`, w.params);
    return toNum(rows[0]?.['n']) ?? 0;
  }

  /**
   * One page of matches in the requested order. Sorting touches only keys and sort columns; the
   * full rows of the page are then read by primary key, which DuckDB serves from its index.
   */
  async page(q: ResolvedSearch): Promise<SearchRow[]> {
    if (q.limit === 0) return [];
    const keys =
      q.sort === 'relevance' && q.prompt !== null && q.prompt.terms.length > 0
        ? await this.rankedKeys(q)
        : await this.sortedKeys(q);
    return this.rowsInOrder(keys);
  }

  private async sortedKeys(q: ResolvedSearch): Promise<PageKey[]> {
    const w = whereOf(q);
    const params = [...w.params];
    let order: string;
    if (q.sort === 'random') {
      order = `hash(a.content_hash || ?), a.content_hash`;
      params.push(q.seed);
    } else {
      order = SORT_SQL[q.sort === 'relevance' ? 'newest' : q.sort];
    }
    return this.db.all<PageKey & Record<string, unknown>>(
      `SELECT a.content_hash AS h, NULL::DOUBLE AS score FROM assets a WHERE ${w.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
      [...params, q.limit, q.offset],
    );
  }

  /**
   * Ranks by BM25 over the prompt term index. Document length is the prompt + description length
   * in characters relative to the library's average: proportional to the term count and far
   * cheaper than summing every document's terms. Ties: newest first.
   */
  private async rankedKeys(q: ResolvedSearch): Promise<PageKey[]> {
    const terms = q.prompt?.terms ?? [];
    const w = whereOf(q);
    const len = `(length(COALESCE(a.prompt, '')) + length(COALESCE(a.description, '')))`;
    const sql = `WITH
      m AS (SELECT a.content_hash, ${len} AS len, ${WHEN} AS ts FROM assets a WHERE ${w.sql}),
      pt AS (SELECT term, content_hash, tf FROM prompt_terms WHERE term IN (${placeholders(terms.length)})),
      df AS (SELECT term, count(*) AS df FROM pt GROUP BY term),
      stats AS (SELECT count(*) AS n, GREATEST(avg(${len}), 1) AS avglen FROM assets a
                WHERE a.prompt IS NOT NULL OR a.description IS NOT NULL)
      SELECT m.content_hash AS h,
        sum(ln(1 + (stats.n - df.df + 0.5) / (df.df + 0.5)) * pt.tf * ${BM25_K1 + 1}
            / (pt.tf + ${BM25_K1} * (1 - ${BM25_B} + ${BM25_B} * m.len / stats.avglen))) AS score
      FROM pt JOIN m ON m.content_hash = pt.content_hash JOIN df ON df.term = pt.term, stats
      GROUP BY m.content_hash, m.ts
      ORDER BY score DESC, m.ts DESC NULLS LAST, m.content_hash LIMIT ? OFFSET ?`;
    return this.db.all<PageKey & Record<string, unknown>>(sql, [...w.params, ...terms, q.limit, q.offset]);
  }

  private async rowsInOrder(keys: readonly PageKey[]): Promise<SearchRow[]> {
    const rows = new Map((await this.rowsOf(keys.map((k) => k.h))).map((r) => [r.content_hash, r]));
    return keys.flatMap((k) => {
      const row = rows.get(k.h);
      return row === undefined ? [] : [{ ...row, score: toNum(k.score) }];
    });
  }

  /** Tag, media type and generator counts over every match (not just the page). */
  async facets(q: ResolvedSearch, topTags = 50): Promise<Facets> {
    const w = whereOf(q);
    const m = `m AS (SELECT a.content_hash, a.media_type, a.source FROM assets a WHERE ${w.sql})`;
    const tags = await this.db.all(
      `WITH ${m} SELECT t.category, min(t.value) AS value, count(DISTINCT t.content_hash) AS n
       FROM asset_tags t JOIN m ON m.content_hash = t.content_hash
       GROUP BY t.category, t.value_norm ORDER BY n DESC, t.category, t.value_norm LIMIT ?`,
      [...w.params, topTags],
    );
    const kinds = await this.db.all(
      `WITH ${m} SELECT 'media' AS kind, media_type AS key, count(*) AS n FROM m GROUP BY media_type
       UNION ALL SELECT 'source', COALESCE(source, 'unknown'), count(*) FROM m GROUP BY 2
       ORDER BY kind, n DESC, key`,
      w.params,
    );
    const byKind = (kind: string): Record<string, number> =>
      Object.fromEntries(
        kinds.filter((r) => r['kind'] === kind).map((r) => [String(r['key']), toNum(r['n']) ?? 0]),
      );
    return {
      tags: tags.map((r) => ({
        tag: `${String(r['category'])}:${String(r['value'])}`,
        count: toNum(r['n']) ?? 0,
      })),
      media_types: byKind('media'),
      generators: byKind('source'),
    };
  }

  /** Present (or all) locations of these assets, by asset, paths sorted. */
  async locationsOf(hashes: readonly string[], includeMissing: boolean): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (hashes.length === 0) return out;
    const rows = await this.db.all<{ h: string; p: string }>(
      `SELECT content_hash AS h, path AS p FROM locations
       WHERE content_hash IN (${placeholders(hashes.length)}) ${includeMissing ? '' : 'AND present'}
       ORDER BY path`,
      hashes,
    );
    for (const r of rows) {
      const list = out.get(r.h);
      if (list === undefined) out.set(r.h, [r.p]);
      else list.push(r.p);
    }
    return out;
  }

  /** The stored hex value of one perceptual hash of an asset, if any. */
  async perceptualOf(hash: string, kind: PerceptualKind): Promise<string | undefined> {
    const rows = await this.db.all<{ v: string | null }>(
      `SELECT ${kind} AS v FROM perceptual_hashes WHERE content_hash = ?`,
      [hash],
    );
    return rows[0]?.v ?? undefined;
  }

  /** Assets within `threshold` bits of `hex`, nearest first, ties by content hash. */
  async similar(
    kind: PerceptualKind,
    hex: string,
    opts: { threshold: number; limit: number; exclude: string | null; includeMissing: boolean },
  ): Promise<SearchRow[]> {
    if (opts.limit === 0) return [];
    const col = HASH_COLUMN[kind];
    const value = hexToU64(hex);
    // Only the integer column is scanned; the query asset and missing assets are dropped from the
    // few candidates afterwards (rows read by primary key), asking for more only if too many went.
    let want = opts.limit + 16;
    for (;;) {
      const keys = await this.db.all<PageKey & Record<string, unknown>>(
        `SELECT content_hash AS h, bit_count(xor(${col}, ?::UBIGINT)) AS score FROM perceptual_hashes
         WHERE bit_count(xor(${col}, ?::UBIGINT)) <= ? ORDER BY score, content_hash LIMIT ?`,
        [value, value, opts.threshold, want],
      );
      const rows = (await this.rowsInOrder(keys)).filter(
        (r) => r.content_hash !== opts.exclude && (opts.includeMissing || r.status === 'present'),
      );
      if (rows.length >= opts.limit || keys.length < want) return rows.slice(0, opts.limit);
      want *= 4;
    }
  }

  /** pHashes of every present asset, for near-duplicate grouping. */
  async presentPhashes(): Promise<PhashEntry[]> {
    return this.db.all<PhashEntry & Record<string, unknown>>(
      `SELECT p.content_hash, p.phash FROM perceptual_hashes p JOIN assets a ON a.content_hash = p.content_hash
       WHERE a.status = 'present' AND p.phash IS NOT NULL ORDER BY p.content_hash`,
    );
  }

  /** Present locations of every asset that has more than one, by asset then path. */
  async exactCopies(): Promise<CopyRow[]> {
    const rows = await this.db.all(
      `SELECT content_hash, path, ${ISO('first_seen')} AS first_seen FROM locations
       WHERE present AND content_hash IN
         (SELECT content_hash FROM locations WHERE present GROUP BY content_hash HAVING count(*) > 1)
       ORDER BY content_hash, path`,
    );
    return rows.map((r) => ({
      content_hash: String(r['content_hash']),
      path: String(r['path']),
      first_seen: toIso(r['first_seen']),
    }));
  }

  /** Asset rows by content hash (any status). */
  async rowsOf(hashes: readonly string[]): Promise<SearchRow[]> {
    if (hashes.length === 0) return [];
    const out: SearchRow[] = [];
    for (let i = 0; i < hashes.length; i += 500) {
      const part = hashes.slice(i, i + 500);
      const rows = await this.db.all(
        `SELECT ${ROW_COLUMNS}, NULL AS score FROM assets a WHERE a.content_hash IN (${placeholders(part.length)})`,
        part,
      );
      out.push(...rows.map(toRow));
    }
    return out;
  }
}
