/**
 * All search SQL: filtered, sorted pages of assets with a total and facets, perceptual-hash
 * neighbours, and the rows duplicate reports need. Every user value is a bound parameter; the only
 * text spliced into SQL comes from fixed tables in this file (column names, sort orders).
 */
import type { Db, SqlParam } from '../duckdb.adapter.js';
import { BM25_B, BM25_K1 } from '../../domain/search-values.js';
import type { PerceptualKind, ResolvedSearch, SortKey } from '../../domain/search-filters.js';
import { hexToU64, indexKey, placeholders, toIso, toNum } from './rows.js';
import type { TagMatch } from '../../domain/search-values.js';
import {
  nameWordSql,
  tagKeyOf,
  tagWordSql,
  termKeysIn,
  termPrefixSql,
  WHEN,
  whereOf,
} from './search-where.js';

/** One asset row as search returns it (before locations are attached). */
export interface SearchRow {
  /** The integer id its tags, terms and locations refer to. */
  asset_id: bigint;
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
  /** Why the content is damaged; null when it decodes. */
  damage: string | null;
  /** BM25 relevance (relevance sort) or Hamming distance (similar). */
  score: number | null;
}

export interface Facets {
  tags: { tag: string; count: number }[];
  media_types: Record<string, number>;
  generators: Record<string, number>;
  /** Model names (top 50). */
  models: Record<string, number>;
  formats: Record<string, number>;
  /** `YYYY-MM` of when each asset was made (or first seen). */
  months: Record<string, number>;
}

export interface PhashEntry {
  content_hash: string;
  phash: string;
  /** pHashes of the centred crops, space-separated hex; null when the sidecar had none. */
  crops: string | null;
}

export interface CopyRow {
  content_hash: string;
  path: string;
  first_seen: string | null;
}

const ISO = (col: string): string => `strftime(${col}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
const ROW_COLUMNS = `a.asset_id, a.content_hash, a.file_path, a.file_name, a.file_size, a.media_type, a.format,
  a.width, a.height, a.duration, a.tags, a.prompt, a.description, a.source, a.model,
  ${ISO('a.created_at')} AS created_at, ${ISO('a.first_seen')} AS first_seen, a.status, a.damage`;
/** A sort order: expressions over `assets a` and their directions; ties go by content hash. */
interface SortSpec {
  readonly keys: readonly string[];
  readonly dirs: readonly string[];
}
const SORTS: Readonly<Record<Exclude<SortKey, 'relevance' | 'random'>, SortSpec>> = {
  newest: { keys: [WHEN], dirs: ['DESC NULLS LAST'] },
  oldest: { keys: [WHEN], dirs: ['ASC NULLS LAST'] },
  name: { keys: ['lower(a.file_name)', 'a.file_name'], dirs: ['', ''] },
  size: { keys: ['a.file_size'], dirs: ['DESC NULLS LAST'] },
};
/** Relevance: BM25 score (`k0`), then newest first (`k1`). */
const RELEVANCE: SortSpec = { keys: ['score', WHEN], dirs: ['DESC', 'DESC NULLS LAST'] };

/** `ORDER BY` list over the sort keys `k0, k1, …` of relation `rel`. */
function orderOf(spec: SortSpec, rel: string): string {
  return spec.dirs.map((d, i) => `${rel}.k${i} ${d}`.trim()).join(', ');
}

/**
 * The rest of a page query after the CTE `m(asset_id, k0, k1, …)` of every match with its sort
 * keys: the rows of the page in the sort's order (content hash breaks ties) and the number of
 * matches.
 *
 * The content hash is a 64-character string; sorting every match by it would read it for every
 * match. So the first `offset + limit` matches are found by the sort keys alone, and only matches
 * whose keys equal one of theirs (a set that holds the whole page, ties included) have their hash
 * read. Full rows are then read for the page only. Parameters: offset + limit, limit, offset.
 * (The general form, for pages with many candidates: see {@link candidatesSql}.)
 */
function pageSql(spec: SortSpec, score: string): string {
  // `asset_id IN (SELECT … FROM <few rows>)` rather than a join: DuckDB then always builds its
  // hash table on the few rows and looks the assets up, whatever it estimates their number to be.
  return `,
    ${topAndCandidates(spec)},
    hashes AS (SELECT a.asset_id, a.content_hash AS h FROM assets a WHERE a.asset_id IN (SELECT asset_id FROM cand)),
    page AS MATERIALIZED (
      SELECT cand.*, hashes.h FROM cand JOIN hashes ON hashes.asset_id = cand.asset_id
      ORDER BY ${orderOf(spec, 'cand')}, hashes.h LIMIT ? OFFSET ?),
    rows AS (SELECT ${ROW_COLUMNS} FROM assets a WHERE a.asset_id IN (SELECT asset_id FROM page))
    SELECT rows.*, ${score.replace('k0', 'page.k0')} AS score, (SELECT count(*) FROM m) AS total
    FROM page JOIN rows ON rows.asset_id = page.asset_id
    ORDER BY ${orderOf(spec, 'page')}, page.h`;
}

/** CTEs `top` (the sort keys of the first offset + limit matches) and `cand` (every match tied with one of them). */
function topAndCandidates(spec: SortSpec): string {
  const keys = spec.keys.map((_, i) => `k${i}`);
  const same = keys.map((k) => `top.${k} IS NOT DISTINCT FROM m.${k}`).join(' AND ');
  return `top AS (SELECT ${keys.join(', ')} FROM m ORDER BY ${orderOf(spec, 'm')} LIMIT ?),
    cand AS MATERIALIZED (SELECT m.* FROM m WHERE EXISTS (SELECT 1 FROM top WHERE ${same}))`;
}

/**
 * The candidates for a page after the CTE `m`: every match whose sort keys equal those of one of
 * the first offset + limit (`r`: the rank of its keys, equal keys equal rank), with its score and
 * the number of matches. Their rows are then read by `asset_id` constants, which DuckDB looks up
 * in the `assets_asset_id` index instead of scanning `assets`, and ordered by rank and content
 * hash here. Parameter: offset + limit.
 */
function candidatesSql(spec: SortSpec, score: string): string {
  return `,
    ${topAndCandidates(spec)}
    SELECT cand.asset_id, ${score.replace('k0', 'cand.k0')} AS score,
      dense_rank() OVER (ORDER BY ${orderOf(spec, 'cand')}) AS r, (SELECT count(*) FROM m) AS total
    FROM cand`;
}

/** Above this many candidates a page is read in one statement ({@link pageSql}). */
const MAX_CANDIDATES = 1000;

/**
 * BM25 of one posting `p` of a document of length `len`: its term's `idf`, the average length.
 * Constants are DOUBLE: a literal such as `1.2` is a DECIMAL in DuckDB, and DECIMAL arithmetic
 * over the postings of a common word took most of the query's time.
 */
function bm25(idf: string, len: string, avglen: string, p: string): string {
  const k1 = `${BM25_K1}::DOUBLE`;
  const b = `${BM25_B}::DOUBLE`;
  return `${idf} * ${p}.tf * (${k1} + 1)
    / (${p}.tf + ${k1} * (1 - ${b} + ${b} * ${len} / ${avglen}))`;
}

/**
 * `(rid, d)`: each perceptual_hashes row id and the Hamming distance (UBIGINT) of its `col` to the
 * bound query value. DuckDB's `bit_count` of a UBIGINT casts it to HUGEINT and counts bits one by
 * one; the classic SWAR popcount (bits summed in pairs, nibbles, then bytes, whose sum mod 255 is
 * the count as it is at most 64) takes a third less time over a million rows. One step per
 * projection, so each intermediate is computed once (more, shorter steps measured slower). Compare
 * `d` with a UBIGINT: against an INTEGER parameter DuckDB casts every `d` to HUGEINT.
 */
function hammingSql(col: string): string {
  const m1 = '6148914691236517205::UBIGINT'; // 0x5555555555555555
  const m2 = '3689348814741910323::UBIGINT'; // 0x3333333333333333
  const m4 = '1085102592571150095::UBIGINT'; // 0x0f0f0f0f0f0f0f0f
  return `SELECT rid, ((x + (x >> 4)) & ${m4}) % 255 AS d FROM (
      SELECT rid, (x & ${m2}) + ((x >> 2) & ${m2}) AS x FROM (
        SELECT rid, x - ((x >> 1) & ${m1}) AS x FROM (
          SELECT rowid AS rid, xor(${col}, ?::UBIGINT) AS x FROM perceptual_hashes)))`;
}

const HASH_COLUMN: Readonly<Record<PerceptualKind, string>> = {
  phash: 'phash_u64',
  dhash: 'dhash_u64',
  ahash: 'ahash_u64',
};

/** The CTEs of a page query up to `m(asset_id, k0, k1, …)`, their parameters and the sort order. */
interface PageHead {
  ctes: string;
  params: SqlParam[];
  spec: SortSpec;
}

/** The tag whose postings can drive a query: the first `category:value` of the all-tags filter. */
function tagDriver(q: ResolvedSearch): TagMatch | null {
  return q.allTags.find((t) => t.category !== null) ?? null;
}

interface PageKey {
  h: string;
  score: unknown;
}

/**
 * One page of matches and the number of matches in all (null when the page is empty: an offset
 * past the end does not tell).
 */
export interface SearchPage {
  rows: SearchRow[];
  total: number | null;
  /** The locations of the rows by content hash, as {@link SearchRepository.locationsOf} gives them. */
  locations?: Map<string, string[]>;
}

/** Paths by asset id as paths by the content hash of each row. */
function byHash(
  rows: readonly { asset_id: bigint; content_hash: string }[],
  paths: ReadonlyMap<bigint, string[]>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = paths.get(r.asset_id);
    if (list !== undefined) out.set(r.content_hash, list);
  }
  return out;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function toRow(r: Record<string, unknown>): SearchRow {
  return {
    asset_id: typeof r['asset_id'] === 'bigint' ? r['asset_id'] : BigInt(toNum(r['asset_id']) ?? 0),
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
    damage: (r['damage'] as string | null | undefined) ?? null,
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

  /** One page of matches in the requested order and the number of matches. */
  async page(q: ResolvedSearch): Promise<SearchPage> {
    if (q.limit === 0) return { rows: [], total: null };
    const head =
      q.sort !== 'relevance'
        ? this.sortedPage(q)
        : q.words.length > 0
          ? this.wordRankedPage(q)
          : q.prompt !== null && q.prompt.terms.length > 0
            ? this.rankedPage(q)
            : this.sortedPage(q);
    const score = head.spec === RELEVANCE ? 'k0' : 'NULL::DOUBLE';
    const cand = await this.db.all<{ asset_id: bigint; score: unknown; r: bigint; total: bigint }>(
      `${head.ctes} ${candidatesSql(head.spec, score)}`,
      [...head.params, q.offset + q.limit],
    );
    if (cand.length === 0) return { rows: [], total: 0 };
    const total = toNum(cand[0]?.total) ?? 0;
    if (cand.length > MAX_CANDIDATES) {
      const found = await this.db.all(`${head.ctes} ${pageSql(head.spec, score)}`, [
        ...head.params,
        q.offset + q.limit,
        q.limit,
        q.offset,
      ]);
      const rows = found.map(toRow);
      return { rows, total, locations: await this.locationsOf(rows, q.includeMissing) };
    }
    // Few candidates (the page, and rows tied with it): ordered here by rank and content hash.
    const byId = new Map(cand.map((c) => [c.asset_id, c]));
    let ids = cand.map((c) => c.asset_id);
    if (cand.length > q.limit) {
      const hashes = await this.db.all<{ asset_id: bigint; h: string }>(
        `SELECT asset_id, content_hash AS h FROM assets WHERE asset_id IN (${placeholders(ids.length)})`,
        ids,
      );
      ids = this.ordered(hashes, byId)
        .slice(q.offset, q.offset + q.limit)
        .map((r) => r.asset_id);
      if (ids.length === 0) return { rows: [], total };
    }
    // The rows and their locations are both looked up by asset_id: two statements at once (the
    // database reads them on two connections).
    const [rows, paths] = await Promise.all([
      this.db.all<Record<string, unknown> & { asset_id: bigint; content_hash: string }>(
        `SELECT ${ROW_COLUMNS} FROM assets a WHERE a.asset_id IN (${placeholders(ids.length)})`,
        ids,
      ),
      this.pathsOf(ids, q.includeMissing),
    ]);
    const page = cand.length > q.limit ? this.ordered(rows, byId) : this.ordered(rows, byId).slice(q.offset);
    return {
      rows: page.map((r) => toRow({ ...r, score: byId.get(r.asset_id)?.score ?? null })),
      total,
      locations: byHash(page, paths),
    };
  }

  /** Rows in the order of their candidate's rank, ties by content hash. */
  private ordered<R extends { asset_id: bigint }>(
    rows: readonly R[],
    byId: ReadonlyMap<bigint, { r: bigint }>,
  ): R[] {
    const rank = (r: R): bigint => byId.get(r.asset_id)?.r ?? 0n;
    const hash = (r: R): string => {
      const v = (r as Record<string, unknown>)['h'] ?? (r as Record<string, unknown>)['content_hash'];
      return typeof v === 'string' ? v : '';
    };
    return [...rows].sort((a, b) => {
      const d = rank(a) - rank(b);
      if (d !== 0n) return d < 0n ? -1 : 1;
      const ha = hash(a);
      const hb = hash(b);
      return ha < hb ? -1 : ha > hb ? 1 : 0;
    });
  }

  /**
   * Newest or oldest first (also relevance without prompt terms or words). With a `category:value`
   * tag among the filters, the matches are that tag's postings: their `sort_at` and `present` are
   * copies of the asset's, so the page and the total read only those postings, joining `assets`
   * only for the other filters there are. An asset has one posting per tag key (schema version 7),
   * so they need no DISTINCT (which took half of the statement's time at a million assets).
   */
  private sortedPage(q: ResolvedSearch): PageHead {
    const driver = q.sort === 'newest' || q.sort === 'oldest' || q.sort === 'relevance' ? tagDriver(q) : null;
    const spec = q.sort === 'random' || q.sort === 'relevance' ? SORTS.newest : SORTS[q.sort];
    if (driver !== null) {
      const w = whereOf(q, { present: false, skipTag: driver });
      const params: SqlParam[] = [tagKeyOf(driver), ...w.params];
      const present = q.includeMissing ? '' : 'AND p.present';
      const rest = w.parts.length === 0 ? '' : `AND ${w.sql}`;
      const join = w.parts.length === 0 ? '' : 'JOIN assets a ON a.asset_id = p.asset_id';
      return {
        ctes: `WITH m AS MATERIALIZED (SELECT p.asset_id, p.sort_at AS k0 FROM asset_tags p ${join}
          WHERE p.tag_key = ?::BIGINT ${present} ${rest})`,
        params,
        spec,
      };
    }
    const w = whereOf(q);
    const params: SqlParam[] = [];
    let sorted: SortSpec = spec;
    if (q.sort === 'random') {
      sorted = { keys: [`hash(a.content_hash || ?)`], dirs: [''] };
      params.push(q.seed);
    }
    const cols = sorted.keys.map((k, i) => `${k} AS k${i}`).join(', ');
    params.push(...w.params);
    return {
      ctes: `WITH m AS MATERIALIZED (SELECT a.asset_id, ${cols} FROM assets a WHERE ${w.sql})`,
      params,
      spec: sorted,
    };
  }

  /**
   * Ranks by BM25 over the prompt term index. Document length is the prompt + description length
   * in characters (`doc_len`) relative to the library's average: proportional to the term count
   * and far cheaper than summing every document's terms. Ties: newest first. The postings of the
   * query terms are read once (prompt_terms is sorted by key, so that reads only their row groups)
   * and carry the asset's `doc_len`, `sort_at` and `present`: `assets` is joined only for other
   * filters. An asset must have every term, as the term filter of other sorts requires.
   */
  private rankedPage(q: ResolvedSearch): PageHead {
    const terms = q.prompt?.terms ?? [];
    const params: SqlParam[] = [];
    const termsIn = termKeysIn(terms, params);
    const w = whereOf(q, { terms: false, present: false });
    const present = q.includeMissing ? 'true' : 'x.present';
    const rest = w.parts.length === 0 ? '' : `AND ${w.sql}`;
    const join = w.parts.length === 0 ? '' : 'JOIN assets a ON a.asset_id = x.asset_id';
    const stats = `stats AS (SELECT count(doc_len) AS n, GREATEST(avg(doc_len), 1) AS avglen FROM assets)`;
    const idf = (df: string): string => `ln(1 + (stats.n - ${df} + 0.5) / (${df} + 0.5)) AS idf`;
    let ctes: string;
    if (terms.length === 1) {
      // One term: one posting per asset, so no grouping; idf and average length in one row.
      ctes = `WITH
        pt AS MATERIALIZED (SELECT asset_id, tf, doc_len, sort_at, present FROM prompt_terms WHERE ${termsIn}),
        ${stats},
        c AS (SELECT ${idf('df.n')}, stats.avglen FROM (SELECT count(*) AS n FROM pt) df, stats),
        m AS MATERIALIZED (
          SELECT x.asset_id, x.sort_at AS k1, ${bm25('c.idf', 'x.doc_len', 'c.avglen', 'x')} AS k0
          FROM pt x ${join}, c
          WHERE ${present} ${rest})`;
      params.push(...w.params);
    } else {
      // Several: the assets that have them all first, then the sum over their postings.
      ctes = `WITH
        pt AS MATERIALIZED (SELECT term_key, asset_id, tf, doc_len, sort_at, present FROM prompt_terms WHERE ${termsIn}),
        ${stats},
        idf AS (SELECT pt.term_key, ${idf('count(*)')} FROM pt, stats GROUP BY pt.term_key, stats.n),
        hit AS (SELECT asset_id, any_value(doc_len) AS doc_len, any_value(sort_at) AS sort_at,
            any_value(present) AS present FROM pt GROUP BY asset_id HAVING count(*) = ?),
        ma AS MATERIALIZED (
          SELECT x.asset_id, x.doc_len, x.sort_at AS k1 FROM hit x ${join} WHERE ${present} ${rest}),
        m AS MATERIALIZED (
          SELECT ma.asset_id, ma.k1, sum(${bm25('idf.idf', 'ma.doc_len', 'stats.avglen', 'pt')}) AS k0
          FROM pt JOIN ma ON ma.asset_id = pt.asset_id JOIN idf ON idf.term_key = pt.term_key, stats
          GROUP BY ma.asset_id, ma.k1)`;
      params.push(terms.length, ...w.params);
    }
    return { ctes, params, spec: RELEVANCE };
  }

  /**
   * Ranks by where the search box words matched: per word, a tag 3, the file name 2, a prompt or
   * description term equal to the stemmed word 1 (0.5 when it only starts with it), summed over
   * the places and the words. Ties: newest first. Every word must match somewhere.
   */
  private wordRankedPage(q: ResolvedSearch): PageHead {
    const params: SqlParam[] = [];
    const ctes = q.words.map((word, i) => {
      const tags = tagWordSql(word, params);
      params.push(indexKey(word.stem));
      const terms = termPrefixSql(word.prefixes, params);
      const name = nameWordSql(word, params);
      return `w${i} AS MATERIALIZED (SELECT asset_id, sum(s) AS s FROM (
          SELECT DISTINCT asset_id, 3.0 AS s FROM asset_tags WHERE ${tags}
          UNION ALL SELECT asset_id, max(CASE WHEN term_key = ?::BIGINT THEN 1.0 ELSE 0.5 END) AS s
            FROM prompt_terms WHERE ${terms} GROUP BY asset_id
          UNION ALL SELECT a.asset_id, 2.0 AS s FROM assets a WHERE a.${name}
        ) GROUP BY asset_id)`;
    });
    const w = whereOf(q, { words: false });
    params.push(...w.params);
    const joins = q.words.map((_, i) => `JOIN w${i} ON w${i}.asset_id = a.asset_id`).join(' ');
    const score = q.words.map((_, i) => `w${i}.s`).join(' + ');
    return {
      ctes: `WITH ${ctes.join(',\n')},
      m AS MATERIALIZED (SELECT a.asset_id, (${score})::DOUBLE AS k0, ${WHEN} AS k1 FROM assets a ${joins} WHERE ${w.sql})`,
      params,
      spec: RELEVANCE,
    };
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
    const m = `m AS (SELECT a.asset_id, a.media_type, a.source, a.model, a.format,
      strftime(COALESCE(a.created_at, a.first_seen), '%Y-%m') AS month FROM assets a WHERE ${w.sql})`;
    const tags = await this.db.all(
      `WITH ${m} SELECT t.category, min(t.value) AS value, count(DISTINCT t.asset_id) AS n
       FROM asset_tags t JOIN m ON m.asset_id = t.asset_id
       GROUP BY t.category, t.value_norm ORDER BY n DESC, t.category, t.value_norm LIMIT ?`,
      [...w.params, topTags],
    );
    const kinds = await this.db.all(
      `WITH ${m} SELECT 'media' AS kind, media_type AS key, count(*) AS n FROM m GROUP BY media_type
       UNION ALL SELECT 'source', COALESCE(source, 'unknown'), count(*) FROM m GROUP BY 2
       UNION ALL (SELECT 'model', model, count(*) AS n FROM m WHERE model IS NOT NULL
         GROUP BY 2 ORDER BY n DESC, 2 LIMIT 50)
       UNION ALL SELECT 'format', COALESCE(format, 'unknown'), count(*) FROM m GROUP BY 2
       UNION ALL SELECT 'month', month, count(*) FROM m WHERE month IS NOT NULL GROUP BY 2
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
      models: byKind('model'),
      formats: byKind('format'),
      months: byKind('month'),
    };
  }

  /**
   * Present (or all) locations of these assets, by content hash, paths sorted (read by the rows'
   * `asset_id`, see {@link pathsOf}).
   */
  async locationsOf(
    rows: readonly { asset_id: bigint; content_hash: string }[],
    includeMissing: boolean,
  ): Promise<Map<string, string[]>> {
    return byHash(
      rows,
      await this.pathsOf(
        rows.map((r) => r.asset_id),
        includeMissing,
      ),
    );
  }

  /**
   * Present (or all) locations of these assets by `asset_id`, paths sorted. The only condition is
   * on `asset_id`, so DuckDB looks the rows up in its index; `present` is checked here (with it in
   * the WHERE clause DuckDB scans the whole table instead).
   */
  private async pathsOf(ids: readonly bigint[], includeMissing: boolean): Promise<Map<bigint, string[]>> {
    const out = new Map<bigint, string[]>();
    if (ids.length === 0) return out;
    const rows = await this.db.all<{ id: bigint; p: string; present: boolean }>(
      `SELECT asset_id AS id, path AS p, present FROM locations
       WHERE asset_id IN (${placeholders(ids.length)}) ORDER BY path`,
      ids,
    );
    for (const r of rows) {
      if (!includeMissing && r.present !== true) continue;
      const list = out.get(r.id);
      if (list === undefined) out.set(r.id, [r.p]);
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
    // The content hash (the tie-break) is read only for rows whose distance can make the cut.
    let want = opts.limit + 16;
    for (;;) {
      const keys = await this.db.all<PageKey & Record<string, unknown>>(
        `WITH s AS MATERIALIZED (SELECT rid, d FROM (${hammingSql(col)}) WHERE d <= ?::UBIGINT),
           cut AS (SELECT max(d) AS d FROM (SELECT d FROM s ORDER BY d LIMIT ?)),
           c AS MATERIALIZED (SELECT s.* FROM s, cut WHERE s.d <= cut.d)
         SELECT p.content_hash AS h, c.d AS score FROM c JOIN perceptual_hashes p ON p.rowid = c.rid
         ORDER BY score, h LIMIT ?`,
        [value, opts.threshold, want, want],
      );
      const others = keys.filter((k) => k.h !== opts.exclude);
      const rows = (await this.rowsInOrder(others)).filter(
        (r) => opts.includeMissing || r.status === 'present',
      );
      if (rows.length >= opts.limit || keys.length < want) return rows.slice(0, opts.limit);
      want *= 4;
    }
  }

  /** pHashes of every present asset, for near-duplicate grouping. */
  async presentPhashes(): Promise<PhashEntry[]> {
    return this.db.all<PhashEntry & Record<string, unknown>>(
      `SELECT p.content_hash, p.phash, c.hashes AS crops FROM perceptual_hashes p
       JOIN assets a ON a.content_hash = p.content_hash
       LEFT JOIN phash_crops c ON c.content_hash = p.content_hash
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
