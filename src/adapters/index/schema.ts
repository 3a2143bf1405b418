/**
 * Index schema, versioned by ordered migrations (docs/index-schema.md). The index is a cache: a
 * schema it does not know is rebuilt, never patched by hand.
 *
 * DuckDB cannot create an index on a table the same transaction updated ("outstanding updates"),
 * so a migration that adds a derived column to an indexed table copies it into a new table.
 */
import type { Db } from '../duckdb.adapter.js';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import { indexKeySql, stemSql, tagKeyTextSql } from './rows.js';

export const SCHEMA_VERSION = 7;

/**
 * `assets.doc_len`: prompt + description length in characters, NULL when the asset has neither
 * (the document length of BM25, stored so ranking does not read every prompt).
 */
export function docLenSql(prompt: string, description: string): string {
  return `list_sum([length(${prompt}), length(${description})])::BIGINT`;
}

/** Tags by asset (since version 2). `tag_key`: indexKey of category + U+001F + normalised value. */
const ASSET_TAGS_COLUMNS_V2 = `(
  asset_id BIGINT NOT NULL,
  tag_key BIGINT NOT NULL,
  category VARCHAR NOT NULL,
  value VARCHAR NOT NULL,
  value_norm VARCHAR NOT NULL,
  source VARCHAR
)`;

/** The prompt/description term index (since version 2). `term_key`: indexKey of the term. */
const PROMPT_TERMS_COLUMNS_V2 = `(
  term_key BIGINT NOT NULL,
  asset_id BIGINT NOT NULL,
  tf INTEGER NOT NULL,
  term VARCHAR NOT NULL
)`;

/**
 * Since version 6 every tag and term posting also carries what a query over one key needs from its
 * asset, so the top of the page and the total read that key's postings only, never `assets`:
 * `sort_at` (the asset's `COALESCE(created_at, first_seen)`, the newest/oldest order), `present`
 * (`status = 'present'`) and, for terms, `doc_len` (the BM25 document length). They are copies of
 * the asset row, written with the postings and updated with the status (asset.repository.ts).
 */
const ASSET_TAGS_COLUMNS = `(
  asset_id BIGINT NOT NULL,
  tag_key BIGINT NOT NULL,
  category VARCHAR NOT NULL,
  value VARCHAR NOT NULL,
  value_norm VARCHAR NOT NULL,
  source VARCHAR,
  sort_at TIMESTAMP,
  present BOOLEAN
)`;
const PROMPT_TERMS_COLUMNS = `(
  term_key BIGINT NOT NULL,
  asset_id BIGINT NOT NULL,
  tf INTEGER NOT NULL,
  term VARCHAR NOT NULL,
  sort_at TIMESTAMP,
  present BOOLEAN,
  doc_len BIGINT
)`;

/** The asset columns a posting copies (see {@link ASSET_TAGS_COLUMNS}), over `assets a`. */
export const POSTING_COPY_SQL = `COALESCE(a.created_at, a.first_seen) AS sort_at, a.status = 'present' AS present`;

/**
 * The tables a tag or prompt term filter reads, and the order they are kept in: sorted by key,
 * DuckDB skips every row group whose min/max cannot hold the key asked for.
 */
const SORTED_TABLES = [
  { table: 'asset_tags', columns: ASSET_TAGS_COLUMNS, order: 'tag_key, asset_id' },
  { table: 'prompt_terms', columns: PROMPT_TERMS_COLUMNS, order: 'term_key, asset_id' },
] as const;

/** Statements that rewrite asset_tags and prompt_terms in key order (run them in a transaction). */
export function sortSearchTablesSql(): string[] {
  return SORTED_TABLES.flatMap(({ table, columns, order }) => [
    `CREATE TABLE ${table}_sorted ${columns}`,
    `INSERT INTO ${table}_sorted SELECT * FROM ${table} ORDER BY ${order}`,
    `DROP TABLE ${table}`,
    `ALTER TABLE ${table}_sorted RENAME TO ${table}`,
  ]);
}

/**
 * `locations` since version 7: `asset_id` is the `assets.asset_id` of the location's content (NULL
 * while the content has no asset row), so a page of search results reads its locations by the same
 * integer ids as its rows, in parallel with them. Written by every write path (asset.repository.ts:
 * a location inserted after its asset takes the id then, an asset inserted after its locations
 * gives them its id). Index `locations_asset_id`.
 */
const LOCATIONS_COLUMNS = `(
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
  missing_since TIMESTAMP,
  asset_id BIGINT
)`;

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
  // 2: integer asset ids for the search joins (tags, prompt terms), integer tag and term keys
  // (both tables sorted by key), stored BM25 document lengths, an index on locations by asset.
  [
    `CREATE SEQUENCE IF NOT EXISTS asset_ids START 1`,
    `CREATE TABLE assets_v2 (
      asset_id BIGINT NOT NULL,
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
      warnings VARCHAR[],
      doc_len BIGINT
    )`,
    `INSERT INTO assets_v2 SELECT nextval('asset_ids'), *, ${docLenSql('prompt', 'description')} FROM assets`,
    `DROP TABLE assets`,
    `ALTER TABLE assets_v2 RENAME TO assets`,
    `CREATE INDEX assets_asset_id ON assets (asset_id)`,
    `CREATE TABLE asset_tags_v2 ${ASSET_TAGS_COLUMNS_V2}`,
    `INSERT INTO asset_tags_v2
     SELECT a.asset_id, ${indexKeySql(tagKeyTextSql('t.category', 't.value_norm'))}, t.category, t.value, t.value_norm, t.source
     FROM asset_tags t JOIN assets a ON a.content_hash = t.content_hash ORDER BY 2, 1`,
    `DROP TABLE asset_tags`,
    `ALTER TABLE asset_tags_v2 RENAME TO asset_tags`,
    `CREATE TABLE prompt_terms_v2 ${PROMPT_TERMS_COLUMNS_V2}`,
    `INSERT INTO prompt_terms_v2
     SELECT ${indexKeySql('p.term')}, a.asset_id, p.tf, p.term
     FROM prompt_terms p JOIN assets a ON a.content_hash = p.content_hash ORDER BY 1, 2`,
    `DROP TABLE prompt_terms`,
    `ALTER TABLE prompt_terms_v2 RENAME TO prompt_terms`,
    `CREATE INDEX locations_content_hash ON locations (content_hash)`,
    `INSERT OR REPLACE INTO meta VALUES ('unsorted_assets', '0')`,
  ],
  // 3 (issue 16): pHashes of centred crops, space-separated hex (sidecar perceptual.phash_crops).
  // A table of its own: DuckDB cannot add a column to a table with a primary key.
  [`CREATE TABLE IF NOT EXISTS phash_crops (content_hash VARCHAR PRIMARY KEY, hashes VARCHAR NOT NULL)`],
  // 4 (issue 17): prompt terms stemmed for plurals (`cats` and `cat` are one term, so `--prompt
  // cats` finds "cat"); the old unstemmed terms are stemmed in SQL, merged, and kept in key order.
  [
    `CREATE TABLE prompt_terms_v4 ${PROMPT_TERMS_COLUMNS_V2}`,
    `INSERT INTO prompt_terms_v4
     SELECT ${indexKeySql('s.term')}, s.asset_id, sum(s.tf)::INTEGER, s.term
     FROM (SELECT ${stemSql('term')} AS term, asset_id, tf FROM prompt_terms) s
     GROUP BY s.term, s.asset_id ORDER BY 1, 2`,
    `DROP TABLE prompt_terms`,
    `ALTER TABLE prompt_terms_v4 RENAME TO prompt_terms`,
  ],
  // 5 (issue 21): why a file is damaged (null when it decodes), and where created_at came from
  [
    `ALTER TABLE assets ADD COLUMN IF NOT EXISTS damage VARCHAR`,
    `ALTER TABLE assets ADD COLUMN IF NOT EXISTS created_source VARCHAR`,
  ],
  // 6 (issue 17): postings that answer a one-key query alone: each tag and term row copies its
  // asset's sort time, presence and (terms) document length; both tables stay in key order.
  [
    `CREATE TABLE asset_tags_v6 ${ASSET_TAGS_COLUMNS}`,
    `INSERT INTO asset_tags_v6
     SELECT t.*, ${POSTING_COPY_SQL} FROM asset_tags t JOIN assets a ON a.asset_id = t.asset_id
     ORDER BY t.tag_key, t.asset_id`,
    `DROP TABLE asset_tags`,
    `ALTER TABLE asset_tags_v6 RENAME TO asset_tags`,
    `CREATE TABLE prompt_terms_v6 ${PROMPT_TERMS_COLUMNS}`,
    `INSERT INTO prompt_terms_v6
     SELECT t.*, ${POSTING_COPY_SQL}, a.doc_len FROM prompt_terms t JOIN assets a ON a.asset_id = t.asset_id
     ORDER BY t.term_key, t.asset_id`,
    `DROP TABLE prompt_terms`,
    `ALTER TABLE prompt_terms_v6 RENAME TO prompt_terms`,
    // Dictionaries of the distinct terms and tags: the search box matches a word's prefixes
    // against these (thousands of rows), then reads the postings of the keys found.
    `CREATE TABLE search_terms (term_key BIGINT PRIMARY KEY, term VARCHAR NOT NULL)`,
    `INSERT INTO search_terms SELECT term_key, any_value(term) FROM prompt_terms GROUP BY term_key`,
    `CREATE TABLE search_tags (tag_key BIGINT PRIMARY KEY, category VARCHAR NOT NULL, value_norm VARCHAR NOT NULL)`,
    `INSERT INTO search_tags SELECT tag_key, any_value(category), any_value(value_norm) FROM asset_tags GROUP BY tag_key`,
  ],
  // 7 (issue 17): locations carry their asset's integer id (see LOCATIONS_COLUMNS), indexed.
  // DuckDB cannot add a column to a table with a primary key: the table is copied. And one tag
  // posting per asset and tag_key (the smallest value of the ones that normalise alike), so the
  // postings of a tag are its assets without a DISTINCT.
  [
    `CREATE TABLE asset_tags_v7 ${ASSET_TAGS_COLUMNS}`,
    `INSERT INTO asset_tags_v7
     SELECT * FROM asset_tags
     QUALIFY row_number() OVER (PARTITION BY asset_id, tag_key ORDER BY value, source) = 1
     ORDER BY tag_key, asset_id`,
    `DROP TABLE asset_tags`,
    `ALTER TABLE asset_tags_v7 RENAME TO asset_tags`,
    `CREATE TABLE locations_v7 ${LOCATIONS_COLUMNS}`,
    `INSERT INTO locations_v7
     SELECT l.*, a.asset_id FROM locations l LEFT JOIN assets a ON a.content_hash = l.content_hash ORDER BY l.path`,
    `DROP TABLE locations`,
    `ALTER TABLE locations_v7 RENAME TO locations`,
    `CREATE INDEX locations_content_hash ON locations (content_hash)`,
    `CREATE INDEX locations_asset_id ON locations (asset_id)`,
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

/**
 * For a read-only connection, which cannot migrate: an index written by an older alice lacks
 * columns this one queries, so it fails here with a hint rather than later with a SQL error.
 */
export async function assertSchemaCurrent(db: Db): Promise<void> {
  const version = await schemaVersion(db);
  assertKnownSchema(db, version);
  if (version >= SCHEMA_VERSION) return;
  throw new AliceError(
    ErrorCode.INDEX_MISSING,
    `the index ${db.file} has schema version ${version}; this alice reads version ${SCHEMA_VERSION}`,
    {
      hint: 'start the agent or run `alice index update` once: opening the index for writing upgrades it in place',
    },
  );
}

/**
 * A version this alice does not know (written by a newer one, or not a number) is INDEX_CORRUPT:
 * the agent sets such a file aside and rebuilds, `alice index rebuild` replaces it.
 */
function assertKnownSchema(db: Db, version: number): void {
  if (Number.isInteger(version) && version >= 0 && version <= SCHEMA_VERSION) return;
  throw new AliceError(
    ErrorCode.INDEX_CORRUPT,
    `the index ${db.file} has schema version ${version}, which this alice (version ${SCHEMA_VERSION}) does not know`,
    {
      hint: 'run `alice index rebuild` (the agent does it on start): the index is rebuilt from files and sidecars',
    },
  );
}

/** Applies every migration newer than the file's version. */
export async function migrate(db: Db): Promise<void> {
  const current = await schemaVersion(db);
  assertKnownSchema(db, current);
  for (let v = current; v < MIGRATIONS.length; v++) {
    const steps = MIGRATIONS[v] ?? [];
    await db.transaction(async () => {
      for (const sql of steps) await db.run(sql);
      await db.run(`INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)`, [String(v + 1)]);
    });
  }
}
