/**
 * Index schema, versioned by ordered migrations (docs/index-schema.md). The index is a cache: a
 * schema it does not know is rebuilt, never patched by hand.
 */
import type { Db } from '../duckdb.adapter.js';

export const SCHEMA_VERSION = 1;

const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: initial schema
  [
    `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
    `CREATE TABLE IF NOT EXISTS assets (
      content_hash VARCHAR PRIMARY KEY,
      file_path VARCHAR,
      file_name VARCHAR,
      file_size BIGINT,
      media_type VARCHAR,
      format VARCHAR,
      mime VARCHAR,
      width INTEGER,
      height INTEGER,
      duration DOUBLE,
      tags VARCHAR[],
      description VARCHAR,
      prompt VARCHAR,
      negative_prompt VARCHAR,
      source VARCHAR,
      model VARCHAR,
      generation JSON,
      created_at TIMESTAMP,
      first_seen TIMESTAMP,
      updated_at TIMESTAMP,
      derived_from VARCHAR,
      embed_state VARCHAR,
      status VARCHAR,
      warnings VARCHAR[]
    )`,
    `CREATE TABLE IF NOT EXISTS locations (
      path VARCHAR PRIMARY KEY,
      content_hash VARCHAR NOT NULL,
      byte_hash VARCHAR NOT NULL,
      root VARCHAR NOT NULL,
      rel_path VARCHAR NOT NULL,
      size BIGINT,
      mtime_ms DOUBLE,
      inode DOUBLE,
      present BOOLEAN NOT NULL,
      first_seen TIMESTAMP,
      last_seen TIMESTAMP,
      missing_since TIMESTAMP
    )`,
    `CREATE TABLE IF NOT EXISTS aliases (alias_hash VARCHAR PRIMARY KEY, content_hash VARCHAR NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS asset_tags (
      content_hash VARCHAR NOT NULL,
      category VARCHAR NOT NULL,
      value VARCHAR NOT NULL,
      value_norm VARCHAR NOT NULL,
      source VARCHAR
    )`,
    `CREATE TABLE IF NOT EXISTS perceptual_hashes (
      content_hash VARCHAR PRIMARY KEY,
      phash VARCHAR,
      dhash VARCHAR,
      ahash VARCHAR,
      phash_u64 UBIGINT,
      dhash_u64 UBIGINT,
      ahash_u64 UBIGINT
    )`,
    `CREATE TABLE IF NOT EXISTS prompt_terms (term VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, tf INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS roots (path VARCHAR PRIMARY KEY, kind VARCHAR, state VARCHAR, last_scan TIMESTAMP)`,
    `CREATE TABLE IF NOT EXISTS file_errors (path VARCHAR PRIMARY KEY, root VARCHAR, code VARCHAR, message VARCHAR, seen_at TIMESTAMP)`,
  ],
];

export async function schemaVersion(db: Db): Promise<number> {
  const tables = await db.all<{ n: bigint }>(
    `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'meta'`,
  );
  if (Number(tables[0]?.n ?? 0) === 0) return 0;
  const rows = await db.all<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`);
  return rows[0] === undefined ? 0 : Number(rows[0].value);
}

/** Applies every migration newer than the file's version. */
export async function migrate(db: Db): Promise<void> {
  const current = await schemaVersion(db);
  for (let v = current; v < MIGRATIONS.length; v++) {
    const steps = MIGRATIONS[v] ?? [];
    await db.transaction(async () => {
      for (const sql of steps) await db.run(sql);
      await db.run(`INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)`, [String(v + 1)]);
    });
  }
}
