/**
 * Reads and writes assets, locations, aliases, tags and perceptual hashes in the index. All SQL for
 * these tables lives here; services speak in row objects.
 */
import path from 'node:path';
import type { Db } from '../duckdb.adapter.js';
import { termFrequencies } from '../../domain/prompt-text.js';
import {
  ALIAS_COLUMNS,
  ASSET_COLUMNS,
  ASSET_DERIVED,
  FILE_ERROR_COLUMNS,
  LOCATION_COLUMNS,
  CROP_COLUMNS,
  PHASH_COLUMNS,
  type AliasInsert,
  type CropInsert,
} from './asset-columns.js';
import { POSTING_COPY_SQL, sortSearchTablesSql } from './schema.js';
import {
  indexKeySql,
  insertRows,
  tagKeyTextSql,
  placeholders,
  toIso,
  toNum,
  type AssetRow,
  type FileErrorRow,
  type LocationRow,
  type PhashRow,
  type TagRow,
} from './rows.js';

export interface AssetEntry {
  asset: AssetRow;
  tags: TagRow[];
  phash: PhashRow | null;
  aliases: string[];
}

/** Locations per page of {@link AssetRepository.locationStats}. */
const STAT_PAGE = 20_000;

/**
 * A location's stat as a scan compares it, in one short string (a Map of 100,000 of these is a
 * fraction of the size of their row objects): present, size, mtime and inode. A file on disk is
 * unchanged when `statKey(true, size, mtimeMs, ino)` equals it.
 */
export function statKey(present: boolean, size: number, mtimeMs: number, inode: number): string {
  return `${present ? 1 : 0}:${size}:${mtimeMs}:${inode}`;
}

/** `meta` key: assets upserted since asset_tags and prompt_terms were last sorted by key. */
const UNSORTED_KEY = 'unsorted_assets';
/** Below this many unsorted assets the unsorted rows cost too little to scan to sort for. */
const SORT_MIN_ASSETS = 5000;

/** Every table that holds rows of an asset, by its content hash or asset_id. */
const ASSET_TABLES = ['assets', 'aliases', 'perceptual_hashes', 'phash_crops', 'asset_tags', 'prompt_terms'];

/** True when no value occurs twice. */
function distinct(values: readonly string[]): boolean {
  return new Set(values).size === values.length;
}

function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const ASSET_SELECT = `SELECT * EXCLUDE (asset_id, doc_len, created_at, first_seen, updated_at, generation),
  strftime(created_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS created_at,
  strftime(first_seen, '%Y-%m-%dT%H:%M:%S.%gZ') AS first_seen,
  strftime(updated_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS updated_at,
  CAST(generation AS VARCHAR) AS generation FROM assets`;

const LOCATION_SELECT = `SELECT * EXCLUDE (first_seen, last_seen, missing_since, asset_id),
  strftime(first_seen, '%Y-%m-%dT%H:%M:%S.%gZ') AS first_seen,
  strftime(last_seen, '%Y-%m-%dT%H:%M:%S.%gZ') AS last_seen,
  strftime(missing_since, '%Y-%m-%dT%H:%M:%S.%gZ') AS missing_since FROM locations`;

function normaliseAsset(r: Record<string, unknown>): AssetRow {
  return {
    ...(r as unknown as AssetRow),
    file_size: toNum(r['file_size']) ?? 0,
    width: toNum(r['width']),
    height: toNum(r['height']),
    duration: toNum(r['duration']),
    tags: (r['tags'] as string[] | null) ?? [],
    warnings: (r['warnings'] as string[] | null) ?? [],
  };
}

function normaliseLocation(r: Record<string, unknown>): LocationRow {
  return {
    ...(r as unknown as LocationRow),
    size: toNum(r['size']) ?? 0,
    mtime_ms: toNum(r['mtime_ms']) ?? 0,
    inode: toNum(r['inode']) ?? 0,
    first_seen: toIso(r['first_seen']),
    last_seen: toIso(r['last_seen']),
    missing_since: toIso(r['missing_since']),
  };
}

export class AssetRepository {
  constructor(private readonly db: Db) {}

  /**
   * Runs `fn` as one transaction: the index holds all of its writes or none of them, so a crash
   * (kill -9) never leaves locations that point at an asset row that was not written.
   */
  atomically<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /**
   * Replaces everything the index holds for these assets (row, tags, hashes, aliases, terms). An
   * asset keeps its `asset_id` across upserts; a new one takes the next from the `asset_ids`
   * sequence. Tags and terms are keyed by `asset_id`, so the search joins compare integers.
   */
  async upsertAssets(entries: readonly AssetEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction(async () => {
      // Into an empty index (a rebuild's), distinct assets have no old rows to look up or delete.
      const empty = distinct(entries.map((e) => e.asset.content_hash)) && (await this.allEmpty(ASSET_TABLES));
      for (const part of chunks(entries)) {
        const hashes = part.map((e) => e.asset.content_hash);
        const ids = empty ? new Map<string, number>() : await this.assetIds(hashes);
        const old = [...ids.values()];
        if (old.length > 0) {
          const oldList = placeholders(old.length);
          for (const table of ['asset_tags', 'prompt_terms']) {
            await this.db.run(`DELETE FROM ${table} WHERE asset_id IN (${oldList})`, old);
          }
        }
        const inList = placeholders(hashes.length);
        for (const table of empty ? [] : ['assets', 'perceptual_hashes', 'phash_crops', 'aliases']) {
          await this.db.run(`DELETE FROM ${table} WHERE content_hash IN (${inList})`, hashes);
        }
        const fresh = hashes.filter((h) => !ids.has(h));
        if (fresh.length > 0) {
          const next = await this.db.all<{ id: bigint }>(`SELECT nextval('asset_ids') AS id FROM range(?)`, [
            fresh.length,
          ]);
          fresh.forEach((h, i) => ids.set(h, Number(next[i]?.id)));
        }
        const idOf = (h: string): number => {
          const id = ids.get(h);
          if (id === undefined) throw new Error(`no asset_id for ${h}`);
          return id;
        };
        await insertRows(
          this.db,
          'assets',
          ASSET_COLUMNS,
          part.map((e) => ({ id: idOf(e.asset.content_hash), asset: e.asset })),
          { derived: ASSET_DERIVED },
        );
        await this.linkLocations(fresh, idOf);
        await this.insertChildren(part, idOf);
      }
      if ((await this.noteUnsorted(entries.length)) >= SORT_MIN_ASSETS) await this.sortSearchTables();
    });
  }

  /**
   * Gives the locations of these newly written assets their `asset_id` (a scan writes the locations
   * of new content before its asset row). One statement per chunk: at a million locations it adds
   * about 25 ms per chunk of 500 new assets (DuckDB joins the chunk's hashes against the
   * `content_hash` column rather than looking each up in its index).
   */
  private async linkLocations(hashes: readonly string[], idOf: (hash: string) => number): Promise<void> {
    if (hashes.length === 0) return;
    await this.db.run(
      `UPDATE locations SET asset_id = v.id
       FROM (SELECT unnest(?::JSON::VARCHAR[]) AS h, unnest(?::JSON::BIGINT[]) AS id) v
       WHERE locations.content_hash = v.h AND locations.content_hash IN (${placeholders(hashes.length)})`,
      [JSON.stringify(hashes), JSON.stringify(hashes.map(idOf)), ...hashes],
    );
  }

  /** Adds `n` to the assets written since the last sort of the search tables; returns the sum. */
  private async noteUnsorted(n: number): Promise<number> {
    const rows = await this.db.all(
      `UPDATE meta SET value = CAST(COALESCE(TRY_CAST(value AS BIGINT), 0) + ? AS VARCHAR)
       WHERE key = '${UNSORTED_KEY}' RETURNING value`,
      [n],
    );
    if (rows[0] !== undefined) return Number(rows[0]['value']);
    await this.db.run(`INSERT INTO meta VALUES ('${UNSORTED_KEY}', ?)`, [String(n)]);
    return n;
  }

  /**
   * A tag or prompt term filter reads only the row groups of asset_tags and prompt_terms whose
   * min/max key can match, as long as those tables are sorted by key. Upserts append to them; once
   * the assets written since the last sort reach a tenth of all assets (and at least
   * {@link SORT_MIN_ASSETS}), both tables are rewritten in key order, in the caller's transaction.
   * An index rebuild writes every asset, so it ends with a sort. Returns whether it sorted.
   */
  async sortSearchTables(opts: { force?: boolean } = {}): Promise<boolean> {
    const rows = await this.db.all(
      `SELECT (SELECT TRY_CAST(value AS BIGINT) FROM meta WHERE key = '${UNSORTED_KEY}') AS unsorted,
              (SELECT count(*) FROM assets) AS assets`,
    );
    const unsorted = toNum(rows[0]?.['unsorted']) ?? 0;
    const assets = toNum(rows[0]?.['assets']) ?? 0;
    if (opts.force !== true && (unsorted < SORT_MIN_ASSETS || unsorted * 10 < assets)) return false;
    await this.db.transaction(async () => {
      for (const sql of sortSearchTablesSql()) await this.db.run(sql);
      await this.db.run(`INSERT OR REPLACE INTO meta VALUES ('${UNSORTED_KEY}', '0')`);
    });
    return true;
  }

  /** True when the index holds no asset and no location (the new index a rebuild writes). */
  async isEmpty(): Promise<boolean> {
    return this.allEmpty([...ASSET_TABLES, 'locations']);
  }

  /**
   * True when none of `tables` holds a row, as in the new index a rebuild writes. Lookups and
   * deletes by key there would find nothing, and DuckDB takes about 12 µs to bind each key of an
   * `IN (?, …)` list: for 2,000 new assets, the skipped statements took a third of a second.
   */
  private async allEmpty(tables: readonly string[]): Promise<boolean> {
    const rows = await this.db.all<{ empty: boolean }>(
      `SELECT ${tables.map((t) => `NOT EXISTS (SELECT 1 FROM ${t})`).join(' AND ')} AS empty`,
    );
    return rows[0]?.empty === true;
  }

  /** `asset_id` of each of these assets that has a row (ids stay far below 2^53). */
  private async assetIds(hashes: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.db.all<{ h: string; id: bigint | null }>(
      `SELECT content_hash AS h, asset_id AS id FROM assets WHERE content_hash IN (${placeholders(hashes.length)})`,
      hashes,
    );
    return new Map(rows.flatMap((r) => (r.id === null ? [] : [[r.h, Number(r.id)] as const])));
  }

  private async insertChildren(part: readonly AssetEntry[], idOf: (hash: string) => number): Promise<void> {
    // Postings copy their asset's sort time, presence and document length (schema version 6):
    // read from the rows just written, by asset_id (an index lookup of this chunk's ids). One tag
    // posting per asset and key (version 7): a sidecar listing `Cat` and `cat` gives one row.
    const chunkIds = part.map((e) => idOf(e.asset.content_hash));
    const copy = `(SELECT a.asset_id, ${POSTING_COPY_SQL}, a.doc_len FROM assets a
      WHERE a.asset_id IN (${placeholders(chunkIds.length)})) c`;
    const tags = part.flatMap((e) => e.tags.map((t) => ({ ...t, asset_id: idOf(e.asset.content_hash) })));
    const list = <K extends keyof (typeof tags)[number]>(k: K): string =>
      JSON.stringify(tags.map((t) => t[k]));
    if (tags.length > 0) {
      await this.db.run(
        `INSERT INTO asset_tags (asset_id, tag_key, category, value, value_norm, source, sort_at, present)
         SELECT v.asset_id, ${indexKeySql(tagKeyTextSql('v.category', 'v.value_norm'))}, v.category, v.value,
           v.value_norm, v.source, c.sort_at, c.present
         FROM (SELECT unnest(?::JSON::BIGINT[]) AS asset_id, unnest(?::JSON::VARCHAR[]) AS category,
           unnest(?::JSON::VARCHAR[]) AS value, unnest(?::JSON::VARCHAR[]) AS value_norm,
           unnest(?::JSON::VARCHAR[]) AS source) v
         JOIN ${copy} ON c.asset_id = v.asset_id
         QUALIFY row_number() OVER (PARTITION BY v.asset_id, v.category, v.value_norm ORDER BY v.value, v.source) = 1`,
        [list('asset_id'), list('category'), list('value'), list('value_norm'), list('source'), ...chunkIds],
      );
      await this.db.run(
        `INSERT OR IGNORE INTO search_tags
         SELECT DISTINCT ${indexKeySql(tagKeyTextSql('category', 'value_norm'))}, category, value_norm
         FROM (SELECT unnest(?::JSON::VARCHAR[]) AS category, unnest(?::JSON::VARCHAR[]) AS value_norm)`,
        [list('category'), list('value_norm')],
      );
    }
    const ph = part.flatMap((e) => (e.phash === null ? [] : [e.phash]));
    await insertRows(this.db, 'perceptual_hashes', PHASH_COLUMNS, ph);
    const crops = ph.flatMap((p): CropInsert[] =>
      p.phash_crops === undefined || p.phash_crops.length === 0
        ? []
        : [{ content_hash: p.content_hash, hashes: p.phash_crops.join(' ') }],
    );
    await insertRows(this.db, 'phash_crops', CROP_COLUMNS, crops);
    const aliasRows = part.flatMap((e) =>
      e.aliases.map((alias_hash): AliasInsert => ({ alias_hash, content_hash: e.asset.content_hash })),
    );
    await insertRows(this.db, 'aliases', ALIAS_COLUMNS, aliasRows, { verb: 'INSERT OR REPLACE' });
    // The term index is the largest table (a dozen rows per asset): its rows go in as three
    // JSON lists per statement, unnested by DuckDB, instead of thousands of bound parameters.
    const ids: number[] = [];
    const tfs: number[] = [];
    const terms: string[] = [];
    for (const e of part) {
      const text = [e.asset.prompt ?? '', e.asset.description ?? ''].join(' ').trim();
      if (text === '') continue;
      const id = idOf(e.asset.content_hash);
      for (const [term, tf] of termFrequencies(text)) {
        ids.push(id);
        tfs.push(tf);
        terms.push(term);
      }
    }
    for (let i = 0; i < terms.length; i += 5000) {
      await this.db.run(
        `INSERT INTO prompt_terms (term_key, asset_id, tf, term, sort_at, present, doc_len)
         SELECT ${indexKeySql('v.term')}, v.asset_id, v.tf, v.term, c.sort_at, c.present, c.doc_len
         FROM (SELECT unnest(?::JSON::VARCHAR[]) AS term, unnest(?::JSON::BIGINT[]) AS asset_id,
           unnest(?::JSON::INTEGER[]) AS tf) v
         JOIN ${copy} ON c.asset_id = v.asset_id`,
        [
          JSON.stringify(terms.slice(i, i + 5000)),
          JSON.stringify(ids.slice(i, i + 5000)),
          JSON.stringify(tfs.slice(i, i + 5000)),
          ...chunkIds,
        ],
      );
      await this.db.run(
        `INSERT OR IGNORE INTO search_terms SELECT DISTINCT ${indexKeySql('term')}, term
         FROM (SELECT unnest(?::JSON::VARCHAR[]) AS term)`,
        [JSON.stringify(terms.slice(i, i + 5000))],
      );
    }
  }

  async upsertLocations(rows: readonly LocationRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction(async () => {
      // Into an empty index (a rebuild's): no old row at these paths, no asset to link yet.
      const noPaths = distinct(rows.map((r) => r.path)) && (await this.allEmpty(['locations']));
      const noAssets = await this.allEmpty(['assets']);
      for (const part of chunks(rows)) {
        const paths = part.map((r) => r.path);
        if (!noPaths)
          await this.db.run(`DELETE FROM locations WHERE path IN (${placeholders(paths.length)})`, paths);
        // The content's asset_id when it has an asset row; else upsertAssets gives it one later.
        const ids = noAssets
          ? new Map<string, number>()
          : await this.assetIds([...new Set(part.map((r) => r.content_hash))]);
        await insertRows(
          this.db,
          'locations',
          LOCATION_COLUMNS,
          part.map((location) => ({ id: ids.get(location.content_hash) ?? null, location })),
        );
      }
    });
  }

  async deleteLocations(paths: readonly string[]): Promise<void> {
    for (const part of chunks(paths)) {
      await this.db.run(`DELETE FROM locations WHERE path IN (${placeholders(part.length)})`, part);
    }
  }

  async markMissing(paths: readonly string[], at: string): Promise<void> {
    for (const part of chunks(paths)) {
      await this.db.run(
        `UPDATE locations SET present = false, missing_since = COALESCE(missing_since, TRY_CAST(? AS TIMESTAMP)) WHERE path IN (${placeholders(part.length)})`,
        [at, ...part],
      );
    }
  }

  /**
   * Recomputes each asset's primary path, its size (the primary file's: embedded tags make an
   * alias's file larger than the content first seen) and present/missing status from its
   * locations, and the presence its tag and term postings copy (only postings whose presence
   * changed are written). A missing asset keeps the path and size it had.
   */
  async refreshStatus(hashes: readonly string[]): Promise<void> {
    if (hashes.length === 0) return;
    // One transaction: the reads see this write's rows (outside one, reads see only committed data).
    await this.db.transaction(async () => {
      for (const part of chunks(hashes)) {
        const inList = placeholders(part.length);
        const before = await this.db.all<{ id: bigint; status: string | null }>(
          `SELECT asset_id AS id, status FROM assets WHERE content_hash IN (${inList})`,
          part,
        );
        const was = new Map(before.map((r) => [r.id, r.status]));
        const after = await this.db.all<{ id: bigint; status: string }>(
          `UPDATE assets SET file_path = COALESCE(s.p, assets.file_path),
             file_name = COALESCE(regexp_extract(s.p, '[^/]*$'), assets.file_name),
             file_size = COALESCE(s.size, assets.file_size),
             status = CASE WHEN s.p IS NULL THEN 'missing' ELSE 'present' END
           FROM (SELECT a.content_hash AS h, min(l.path) FILTER (WHERE l.present) AS p,
                   arg_min(l.size, l.path) FILTER (WHERE l.present) AS size
                 FROM assets a LEFT JOIN locations l ON l.content_hash = a.content_hash
                 WHERE a.content_hash IN (${inList}) GROUP BY a.content_hash) s
           WHERE assets.content_hash = s.h
           RETURNING asset_id AS id, status`,
          part,
        );
        const flipped = after
          .filter((r) => was.get(r.id) !== r.status)
          .map((r) => ({ id: r.id, present: r.status === 'present' }));
        for (const present of [true, false]) {
          const ids = flipped.filter((r) => r.present === present).map((r) => r.id);
          if (ids.length === 0) continue;
          for (const table of ['asset_tags', 'prompt_terms']) {
            await this.db.run(
              `UPDATE ${table} SET present = ? WHERE asset_id IN (${placeholders(ids.length)})`,
              [present, ...ids],
            );
          }
        }
      }
    });
  }

  async getAsset(hash: string): Promise<AssetRow | undefined> {
    const rows = await this.db.all(`${ASSET_SELECT} WHERE content_hash = ?`, [hash]);
    return rows[0] === undefined ? undefined : normaliseAsset(rows[0]);
  }

  async getAssets(hashes: readonly string[]): Promise<AssetRow[]> {
    const out: AssetRow[] = [];
    for (const part of chunks(hashes)) {
      const rows = await this.db.all(
        `${ASSET_SELECT} WHERE content_hash IN (${placeholders(part.length)})`,
        part,
      );
      out.push(...rows.map(normaliseAsset));
    }
    return out;
  }

  /** The asset hash for a byte hash: itself when it is an asset, its owner when it is an alias. */
  async resolveHash(hash: string): Promise<string | undefined> {
    const rows = await this.db.all<{ h: string }>(
      `SELECT content_hash AS h FROM assets WHERE content_hash = ? UNION ALL SELECT content_hash FROM aliases WHERE alias_hash = ? LIMIT 1`,
      [hash, hash],
    );
    return rows[0]?.h;
  }

  /** `resolveHash` for many byte hashes in a few queries: only the known ones are in the map. */
  async resolveHashes(hashes: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (await this.allEmpty(['assets', 'aliases'])) return out;
    for (const part of chunks([...new Set(hashes)])) {
      const list = placeholders(part.length);
      const rows = await this.db.all<{ b: string; h: string }>(
        `SELECT content_hash AS b, content_hash AS h FROM assets WHERE content_hash IN (${list})
         UNION ALL SELECT alias_hash, content_hash FROM aliases WHERE alias_hash IN (${list})`,
        [...part, ...part],
      );
      // An asset's own hash wins over an alias row naming it (as resolveHash's first row).
      for (const r of rows) if (!out.has(r.b) || r.b === r.h) out.set(r.b, r.h);
    }
    return out;
  }

  async resolvePrefix(prefix: string): Promise<string[]> {
    const rows = await this.db.all<{ h: string }>(
      `SELECT content_hash AS h FROM assets WHERE starts_with(content_hash, ?) LIMIT 2`,
      [prefix],
    );
    return rows.map((r) => r.h);
  }

  async aliasesOf(hash: string): Promise<string[]> {
    const rows = await this.db.all<{ a: string }>(
      `SELECT alias_hash AS a FROM aliases WHERE content_hash = ? ORDER BY 1`,
      [hash],
    );
    return rows.map((r) => r.a);
  }

  async locationsOf(hash: string): Promise<LocationRow[]> {
    const rows = await this.db.all(`${LOCATION_SELECT} WHERE content_hash = ? ORDER BY path`, [hash]);
    return rows.map(normaliseLocation);
  }

  /**
   * What a scan compares of each location at or below a folder (or under a root): its path and
   * {@link statKey}, read a page of {@link STAT_PAGE} rows at a time in path order (the next page
   * starts after the last path), so a catch-up over 100,000 files never holds their full rows.
   */
  async locationStats(where: { root: string } | { atOrBelow: string }): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const [cond, params]: [string, string[]] =
      'root' in where
        ? ['root = ?', [where.root]]
        : [
            '(path = ? OR starts_with(path, ?))',
            [where.atOrBelow, where.atOrBelow.endsWith('/') ? where.atOrBelow : `${where.atOrBelow}/`],
          ];
    let after = '';
    for (;;) {
      const rows = await this.db.all<{ p: string; present: boolean; size: unknown; m: unknown; i: unknown }>(
        `SELECT path AS p, present, size, mtime_ms AS m, inode AS i FROM locations
         WHERE ${cond} AND path > ? ORDER BY path LIMIT ${STAT_PAGE}`,
        [...params, after],
      );
      for (const r of rows)
        out.set(r.p, statKey(r.present, toNum(r.size) ?? 0, toNum(r.m) ?? 0, toNum(r.i) ?? 0));
      const last = rows[rows.length - 1];
      if (rows.length < STAT_PAGE || last === undefined) return out;
      after = last.p;
    }
  }

  /** `locationStats` of exactly these paths (a few queries for many; paths without a row are left out). */
  async locationStatsAt(paths: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const part of chunks([...new Set(paths)])) {
      const rows = await this.db.all<{ p: string; present: boolean; size: unknown; m: unknown; i: unknown }>(
        `SELECT path AS p, present, size, mtime_ms AS m, inode AS i FROM locations
         WHERE path IN (${placeholders(part.length)})`,
        part,
      );
      for (const r of rows)
        out.set(r.p, statKey(r.present, toNum(r.size) ?? 0, toNum(r.m) ?? 0, toNum(r.i) ?? 0));
    }
    return out;
  }

  /** Full rows of these locations (any order; paths without a row are left out). */
  async locationsAt(paths: readonly string[]): Promise<LocationRow[]> {
    const out: LocationRow[] = [];
    for (const part of chunks(paths)) {
      const rows = await this.db.all(`${LOCATION_SELECT} WHERE path IN (${placeholders(part.length)})`, part);
      out.push(...rows.map(normaliseLocation));
    }
    return out;
  }

  /** `locationsOf` for many assets in a few queries (assets without a location are absent). */
  async locationsOfMany(hashes: readonly string[]): Promise<Map<string, LocationRow[]>> {
    const out = new Map<string, LocationRow[]>();
    if (hashes.length === 0 || (await this.allEmpty(['locations']))) return out;
    for (const part of chunks([...new Set(hashes)])) {
      const rows = await this.db.all(
        `${LOCATION_SELECT} WHERE content_hash IN (${placeholders(part.length)}) ORDER BY path`,
        part,
      );
      for (const row of rows.map(normaliseLocation)) {
        const list = out.get(row.content_hash);
        if (list === undefined) out.set(row.content_hash, [row]);
        else list.push(row);
      }
    }
    return out;
  }

  async locationsUnder(root: string): Promise<LocationRow[]> {
    const rows = await this.db.all(`${LOCATION_SELECT} WHERE root = ?`, [root]);
    return rows.map(normaliseLocation);
  }

  /** How many present locations the index holds under `root`. */
  async presentCountUnder(root: string): Promise<number> {
    const rows = await this.db.all<{ n: unknown }>(
      `SELECT count(*) AS n FROM locations WHERE root = ? AND present`,
      [root],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Paths of locations under `root` whose asset has no row (an incomplete index entry). */
  async locationsWithoutAsset(root: string): Promise<string[]> {
    const rows = await this.db.all<{ path: string }>(
      `SELECT l.path FROM locations l WHERE l.root = ?
         AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.content_hash = l.content_hash)`,
      [root],
    );
    return rows.map((r) => r.path);
  }

  /** Locations at `p` or below the folder `p`. */
  async locationsAtOrBelow(p: string): Promise<LocationRow[]> {
    const rows = await this.db.all(`${LOCATION_SELECT} WHERE path = ? OR starts_with(path, ?)`, [
      p,
      p.endsWith('/') ? p : `${p}/`,
    ]);
    return rows.map(normaliseLocation);
  }

  async allLocations(): Promise<LocationRow[]> {
    return (await this.db.all(LOCATION_SELECT)).map(normaliseLocation);
  }

  async location(path: string): Promise<LocationRow | undefined> {
    const rows = await this.db.all(`${LOCATION_SELECT} WHERE path = ?`, [path]);
    return rows[0] === undefined ? undefined : normaliseLocation(rows[0]);
  }

  /**
   * Records a file's new bytes after alice rewrote it in place (embedding), so the next scan sees
   * it unchanged (size, mtime, inode) and does not hash it again.
   */
  async updateLocationBytes(
    path: string,
    bytes: { byte_hash: string; size: number; mtime_ms: number; inode: number },
  ): Promise<void> {
    await this.db.run(
      `UPDATE locations SET byte_hash = ?, size = ?, mtime_ms = ?, inode = ? WHERE path = ?`,
      [bytes.byte_hash, bytes.size, bytes.mtime_ms, bytes.inode, path],
    );
  }

  async tagsOf(hash: string): Promise<TagRow[]> {
    return this.db.all<TagRow & Record<string, unknown>>(
      `SELECT a.content_hash, t.category, t.value, t.value_norm, t.source
       FROM asset_tags t JOIN assets a ON a.asset_id = t.asset_id
       WHERE a.content_hash = ? ORDER BY t.category, t.value`,
      [hash],
    );
  }

  async phashOf(hash: string): Promise<PhashRow | undefined> {
    const rows = await this.db.all<PhashRow & Record<string, unknown>>(
      `SELECT content_hash, phash, dhash, ahash FROM perceptual_hashes WHERE content_hash = ?`,
      [hash],
    );
    return rows[0];
  }

  async allAssetHashes(): Promise<string[]> {
    return (await this.db.all<{ h: string }>(`SELECT content_hash AS h FROM assets`)).map((r) => r.h);
  }

  /** Hashes of assets whose every file is gone (status `missing`): remembered, not drift. */
  async missingAssetHashes(): Promise<string[]> {
    const rows = await this.db.all<{ h: string }>(
      `SELECT content_hash AS h FROM assets WHERE status = 'missing'`,
    );
    return rows.map((r) => r.h);
  }

  async setRoot(path: string, kind: string, state: string, at: string | null): Promise<void> {
    await this.db.run(`INSERT OR REPLACE INTO roots VALUES (?, ?, ?, TRY_CAST(? AS TIMESTAMP))`, [
      path,
      kind,
      state,
      at,
    ]);
  }

  async replaceFileErrors(root: string, rows: readonly FileErrorRow[]): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run(`DELETE FROM file_errors WHERE root = ?`, [root]);
      await insertRows(this.db, 'file_errors', FILE_ERROR_COLUMNS, rows, { verb: 'INSERT OR REPLACE' });
    });
  }

  /**
   * Removes assets from the index entirely: their rows, tags, terms, hashes, aliases and locations.
   * Only for content no file backs and nothing refers to (a half-written ghost); the caller checks.
   */
  async deleteAssets(hashes: readonly string[]): Promise<void> {
    if (hashes.length === 0) return;
    await this.db.transaction(async () => {
      for (const part of chunks(hashes)) {
        const ids = [...(await this.assetIds(part)).values()];
        if (ids.length > 0) {
          for (const table of ['asset_tags', 'prompt_terms']) {
            await this.db.run(`DELETE FROM ${table} WHERE asset_id IN (${placeholders(ids.length)})`, ids);
          }
        }
        const inList = placeholders(part.length);
        for (const table of ['assets', 'perceptual_hashes', 'phash_crops', 'aliases', 'locations']) {
          await this.db.run(`DELETE FROM ${table} WHERE content_hash IN (${inList})`, part);
        }
      }
    });
  }

  /** Assets made from this one by an in-place edit (`derived_from`), newest edits included. */
  async derivedFrom(hash: string): Promise<string[]> {
    const rows = await this.db.all(
      `SELECT content_hash FROM assets WHERE derived_from = ? ORDER BY updated_at DESC NULLS LAST`,
      [hash],
    );
    return rows.map((r) => String(r['content_hash']));
  }

  /** Present assets whose content is damaged, with why. */
  async damagedAssets(): Promise<{ content_hash: string; path: string; damage: string }[]> {
    const rows = await this.db.all(
      `SELECT content_hash, file_path, damage FROM assets
       WHERE status = 'present' AND damage IS NOT NULL ORDER BY file_path`,
    );
    return rows.map((r) => ({
      content_hash: String(r['content_hash']),
      path: (r['file_path'] as string | null) ?? '',
      damage: String(r['damage']),
    }));
  }

  /**
   * Index totals. `duplicates` counts content at more than one present path outside
   * `projectRoots` (project copies are not duplicates), as `alice dupes` groups it.
   */
  async counts(projectRoots: readonly string[] = []): Promise<{
    assets: number;
    present: number;
    missing: number;
    locations: number;
    duplicates: number;
    errors: number;
    damaged: number;
  }> {
    const outside = projectRoots.map(() => `AND NOT starts_with(path, ?)`).join(' ');
    const rows = await this.db.all(
      `SELECT
      (SELECT count(*) FROM assets) AS assets,
      (SELECT count(*) FROM assets WHERE status = 'present') AS present,
      (SELECT count(*) FROM assets WHERE status = 'missing') AS missing,
      (SELECT count(*) FROM locations WHERE present) AS locations,
      (SELECT count(*) FROM (SELECT content_hash FROM locations WHERE present ${outside} GROUP BY 1 HAVING count(*) > 1)) AS duplicates,
      (SELECT count(*) FROM file_errors) AS errors,
      (SELECT count(*) FROM assets WHERE status = 'present' AND damage IS NOT NULL) AS damaged`,
      projectRoots.map((r) => (r.endsWith(path.sep) ? r : `${r}${path.sep}`)),
    );
    const r = rows[0] ?? {};
    return {
      assets: toNum(r['assets']) ?? 0,
      present: toNum(r['present']) ?? 0,
      missing: toNum(r['missing']) ?? 0,
      locations: toNum(r['locations']) ?? 0,
      duplicates: toNum(r['duplicates']) ?? 0,
      errors: toNum(r['errors']) ?? 0,
      damaged: toNum(r['damaged']) ?? 0,
    };
  }

  /**
   * Copies from the index file `prevFile` (attached read-only) everything it held for the roots
   * `roots` (offline during a rebuild, so this index could not scan them): their locations and file
   * errors, the last scan of each root, and every asset that has a location there and no row here
   * yet, with its tags, prompt terms, perceptual hashes, crops and aliases (given fresh asset ids).
   * Locations keep `present` as it was: an offline root's files are not missing. Returns the
   * number of assets and locations copied; nothing is copied from a file of another schema version
   * (`skipped` says so).
   */
  async carryOverRoots(
    prevFile: string,
    roots: readonly string[],
    schemaVersion: number,
  ): Promise<{ assets: number; locations: number; skipped?: string }> {
    if (roots.length === 0) return { assets: 0, locations: 0 };
    await this.db.run(`ATTACH '${prevFile.replace(/'/g, "''")}' AS prev (READ_ONLY)`);
    try {
      const version = await this.db.all<{ value: string }>(
        `SELECT value FROM prev.meta WHERE key = 'schema_version'`,
      );
      const found = version[0]?.value;
      if (Number(found) !== schemaVersion)
        return {
          assets: 0,
          locations: 0,
          skipped: `the previous index has schema version ${found ?? 'none'}, not ${schemaVersion}`,
        };
      const inRoots = placeholders(roots.length);
      return await this.db.transaction(async () => {
        // Without the previous index's asset ids: this index's ids are set below.
        const located = await this.db.all<{ n: bigint }>(
          `INSERT INTO locations BY NAME
           SELECT l.* EXCLUDE (asset_id) FROM prev.locations l
           WHERE l.root IN (${inRoots}) AND l.path NOT IN (SELECT path FROM locations)
           RETURNING 1 AS n`,
          roots,
        );
        await this.db.run(
          `CREATE TEMP TABLE carried AS
           SELECT o.asset_id AS old_id, o.content_hash, nextval('asset_ids') AS new_id FROM prev.assets o
           WHERE o.content_hash IN (SELECT content_hash FROM prev.locations WHERE root IN (${inRoots}))
             AND o.content_hash NOT IN (SELECT content_hash FROM assets)`,
          roots,
        );
        await this.db.run(
          `INSERT INTO assets BY NAME
           SELECT o.* REPLACE (c.new_id AS asset_id) FROM prev.assets o JOIN carried c ON c.content_hash = o.content_hash`,
        );
        // The carried locations' asset ids: a carried asset's new id, else the asset this index has.
        await this.db.run(
          `UPDATE locations SET asset_id = a.asset_id FROM assets a
           WHERE a.content_hash = locations.content_hash AND locations.asset_id IS DISTINCT FROM a.asset_id
             AND locations.root IN (${inRoots})`,
          roots,
        );
        for (const table of ['asset_tags', 'prompt_terms']) {
          await this.db.run(
            `INSERT INTO ${table} BY NAME
             SELECT t.* REPLACE (c.new_id AS asset_id) FROM prev.${table} t JOIN carried c ON c.old_id = t.asset_id`,
          );
        }
        for (const table of ['search_tags', 'search_terms']) {
          await this.db.run(`INSERT OR IGNORE INTO ${table} BY NAME SELECT * FROM prev.${table}`);
        }
        for (const table of ['perceptual_hashes', 'phash_crops']) {
          await this.db.run(
            `INSERT INTO ${table} BY NAME
             SELECT t.* FROM prev.${table} t WHERE t.content_hash IN (SELECT content_hash FROM carried)`,
          );
        }
        await this.db.run(
          `INSERT INTO aliases BY NAME
           SELECT t.* FROM prev.aliases t WHERE t.content_hash IN (SELECT content_hash FROM carried)
             AND t.alias_hash NOT IN (SELECT alias_hash FROM aliases)`,
        );
        await this.db.run(
          `INSERT INTO file_errors BY NAME
           SELECT e.* FROM prev.file_errors e
           WHERE e.root IN (${inRoots}) AND e.path NOT IN (SELECT path FROM file_errors)`,
          roots,
        );
        await this.db.run(
          `UPDATE roots SET last_scan = p.last_scan FROM prev.roots p
           WHERE roots.path = p.path AND roots.path IN (${inRoots}) AND roots.last_scan IS NULL`,
          roots,
        );
        const carried = await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM carried`);
        await this.db.run(`DROP TABLE carried`);
        const assets = Number(carried[0]?.n ?? 0);
        if (assets > 0) await this.noteUnsorted(assets);
        return { assets, locations: located.length };
      });
    } finally {
      await this.db.run(`DETACH prev`);
    }
  }

  /**
   * Reads every row of every table once (a hash of each whole row), so damage anywhere in the file
   * (a checksum mismatch, a block past a truncated end) surfaces now as INDEX_CORRUPT instead of
   * at the first query that happens to touch that block.
   */
  async probeReadable(): Promise<void> {
    const tables = await this.db.all<{ name: string }>(
      `SELECT table_name AS name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary`,
    );
    for (const t of tables) {
      const q = `"${t.name.replace(/"/g, '""')}"`;
      await this.db.all(`SELECT count(*) AS n, max(hash(${q})) AS h FROM ${q}`);
    }
  }
}
