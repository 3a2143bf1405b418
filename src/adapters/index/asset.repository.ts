/**
 * Reads and writes assets, locations, aliases, tags and perceptual hashes in the index. All SQL for
 * these tables lives here; services speak in row objects.
 */
import type { Db, SqlParam } from '../duckdb.adapter.js';
import { termFrequencies } from '../../domain/prompt-text.js';
import {
  hexToU64,
  insertRows,
  placeholders,
  toIso,
  toNum,
  type AssetRow,
  type ColumnSpec,
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

const ASSET_COLUMNS: ColumnSpec = [
  ['content_hash', '?'],
  ['file_path', '?'],
  ['file_name', '?'],
  ['file_size', '?'],
  ['media_type', '?'],
  ['format', '?'],
  ['mime', '?'],
  ['width', '?'],
  ['height', '?'],
  ['duration', '?'],
  ['tags', '?::JSON::VARCHAR[]'],
  ['description', '?'],
  ['prompt', '?'],
  ['negative_prompt', '?'],
  ['source', '?'],
  ['model', '?'],
  ['generation', '?::JSON'],
  ['created_at', 'TRY_CAST(? AS TIMESTAMP)'],
  ['first_seen', 'TRY_CAST(? AS TIMESTAMP)'],
  ['updated_at', 'TRY_CAST(? AS TIMESTAMP)'],
  ['derived_from', '?'],
  ['embed_state', '?'],
  ['status', '?'],
  ['warnings', '?::JSON::VARCHAR[]'],
];

const LOCATION_COLUMNS: ColumnSpec = [
  ['path', '?'],
  ['content_hash', '?'],
  ['byte_hash', '?'],
  ['root', '?'],
  ['rel_path', '?'],
  ['size', '?'],
  ['mtime_ms', '?'],
  ['inode', '?'],
  ['present', '?'],
  ['first_seen', 'TRY_CAST(? AS TIMESTAMP)'],
  ['last_seen', 'TRY_CAST(? AS TIMESTAMP)'],
  ['missing_since', 'TRY_CAST(? AS TIMESTAMP)'],
];

function assetParams(a: AssetRow): SqlParam[] {
  return [
    a.content_hash,
    a.file_path,
    a.file_name,
    a.file_size,
    a.media_type,
    a.format,
    a.mime,
    a.width,
    a.height,
    a.duration,
    JSON.stringify(a.tags),
    a.description,
    a.prompt,
    a.negative_prompt,
    a.source,
    a.model,
    a.generation,
    a.created_at,
    a.first_seen,
    a.updated_at,
    a.derived_from,
    a.embed_state,
    a.status,
    JSON.stringify(a.warnings),
  ];
}

function locationParams(l: LocationRow): SqlParam[] {
  return [
    l.path,
    l.content_hash,
    l.byte_hash,
    l.root,
    l.rel_path,
    l.size,
    l.mtime_ms,
    l.inode,
    l.present,
    l.first_seen,
    l.last_seen,
    l.missing_since,
  ];
}

function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const ASSET_SELECT = `SELECT * EXCLUDE (created_at, first_seen, updated_at, generation),
  strftime(created_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS created_at,
  strftime(first_seen, '%Y-%m-%dT%H:%M:%S.%gZ') AS first_seen,
  strftime(updated_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS updated_at,
  CAST(generation AS VARCHAR) AS generation FROM assets`;

const LOCATION_SELECT = `SELECT * EXCLUDE (first_seen, last_seen, missing_since),
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

  /** Replaces everything the index holds for these assets (row, tags, hashes, aliases, terms). */
  async upsertAssets(entries: readonly AssetEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction(async () => {
      for (const part of chunks(entries)) {
        const hashes = part.map((e) => e.asset.content_hash);
        const inList = placeholders(hashes.length);
        for (const table of ['assets', 'asset_tags', 'perceptual_hashes', 'prompt_terms', 'aliases']) {
          await this.db.run(`DELETE FROM ${table} WHERE content_hash IN (${inList})`, hashes);
        }
        await insertRows(
          this.db,
          'assets',
          ASSET_COLUMNS,
          part.map((e) => assetParams(e.asset)),
        );
        await this.insertChildren(part);
      }
    });
  }

  private async insertChildren(part: readonly AssetEntry[]): Promise<void> {
    const tagRows = part.flatMap((e) =>
      e.tags.map((t) => [t.content_hash, t.category, t.value, t.value_norm, t.source]),
    );
    await insertRows(
      this.db,
      'asset_tags',
      [
        ['content_hash', '?'],
        ['category', '?'],
        ['value', '?'],
        ['value_norm', '?'],
        ['source', '?'],
      ],
      tagRows,
    );
    const ph = part.flatMap((e) => (e.phash === null ? [] : [e.phash]));
    await insertRows(
      this.db,
      'perceptual_hashes',
      [
        ['content_hash', '?'],
        ['phash', '?'],
        ['dhash', '?'],
        ['ahash', '?'],
        ['phash_u64', '?::UBIGINT'],
        ['dhash_u64', '?::UBIGINT'],
        ['ahash_u64', '?::UBIGINT'],
      ],
      ph.map((p) => [
        p.content_hash,
        p.phash,
        p.dhash,
        p.ahash,
        hexToU64(p.phash),
        hexToU64(p.dhash),
        hexToU64(p.ahash),
      ]),
    );
    const aliasRows = part.flatMap((e) => e.aliases.map((a) => [a, e.asset.content_hash]));
    await insertRows(
      this.db,
      'aliases',
      [
        ['alias_hash', '?'],
        ['content_hash', '?'],
      ],
      aliasRows,
      'INSERT OR REPLACE',
    );
    const terms: SqlParam[][] = [];
    for (const e of part) {
      const text = [e.asset.prompt ?? '', e.asset.description ?? ''].join(' ').trim();
      if (text === '') continue;
      for (const [term, tf] of termFrequencies(text)) terms.push([term, e.asset.content_hash, tf]);
    }
    await insertRows(
      this.db,
      'prompt_terms',
      [
        ['term', '?'],
        ['content_hash', '?'],
        ['tf', '?'],
      ],
      terms,
      'INSERT',
      300,
    );
  }

  async upsertLocations(rows: readonly LocationRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction(async () => {
      for (const part of chunks(rows)) {
        const paths = part.map((r) => r.path);
        await this.db.run(`DELETE FROM locations WHERE path IN (${placeholders(paths.length)})`, paths);
        await insertRows(this.db, 'locations', LOCATION_COLUMNS, part.map(locationParams));
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

  /** Recomputes each asset's primary path and present/missing status from its locations. */
  async refreshStatus(hashes: readonly string[]): Promise<void> {
    for (const part of chunks(hashes)) {
      await this.db.run(
        `UPDATE assets SET file_path = COALESCE(s.p, assets.file_path),
           status = CASE WHEN s.p IS NULL THEN 'missing' ELSE 'present' END
         FROM (SELECT a.content_hash AS h, min(l.path) FILTER (WHERE l.present) AS p
               FROM assets a LEFT JOIN locations l ON l.content_hash = a.content_hash
               WHERE a.content_hash IN (${placeholders(part.length)}) GROUP BY a.content_hash) s
         WHERE assets.content_hash = s.h`,
        part,
      );
    }
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

  async locationsUnder(root: string): Promise<LocationRow[]> {
    const rows = await this.db.all(`${LOCATION_SELECT} WHERE root = ?`, [root]);
    return rows.map(normaliseLocation);
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
      `SELECT * FROM asset_tags WHERE content_hash = ? ORDER BY category, value`,
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
      const params = rows.map((r) => [r.path, r.root, r.code, r.message, r.at]);
      await insertRows(
        this.db,
        'file_errors',
        [
          ['path', '?'],
          ['root', '?'],
          ['code', '?'],
          ['message', '?'],
          ['seen_at', 'TRY_CAST(? AS TIMESTAMP)'],
        ],
        params,
        'INSERT OR REPLACE',
      );
    });
  }

  async counts(): Promise<{
    assets: number;
    present: number;
    missing: number;
    locations: number;
    duplicates: number;
    errors: number;
  }> {
    const rows = await this.db.all(`SELECT
      (SELECT count(*) FROM assets) AS assets,
      (SELECT count(*) FROM assets WHERE status = 'present') AS present,
      (SELECT count(*) FROM assets WHERE status = 'missing') AS missing,
      (SELECT count(*) FROM locations WHERE present) AS locations,
      (SELECT count(*) FROM (SELECT content_hash FROM locations WHERE present GROUP BY 1 HAVING count(*) > 1)) AS duplicates,
      (SELECT count(*) FROM file_errors) AS errors`);
    const r = rows[0] ?? {};
    return {
      assets: toNum(r['assets']) ?? 0,
      present: toNum(r['present']) ?? 0,
      missing: toNum(r['missing']) ?? 0,
      locations: toNum(r['locations']) ?? 0,
      duplicates: toNum(r['duplicates']) ?? 0,
      errors: toNum(r['errors']) ?? 0,
    };
  }
}
