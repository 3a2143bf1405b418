/**
 * The columns alice writes into each index table, one entry per column: its name, the value taken
 * from the row and the SQL that binds it. Adding or moving a column is one edit, so a value cannot
 * end up in its neighbour's column.
 */
import { hexToU64, col, type Column, type DerivedColumn } from './rows.js';
import type { AssetRow, FileErrorRow, LocationRow, ParamKeys, PhashRow } from './rows.js';
import { docLenSql } from './schema.js';

const TS = 'TRY_CAST(? AS TIMESTAMP)';

/** An asset row with the integer id it keeps across upserts. */
export interface AssetInsert {
  id: number;
  asset: AssetRow;
}

const asset = (name: ParamKeys<AssetRow>, sql?: string): Column<AssetInsert> => {
  const c = col<AssetRow>(name, sql);
  return { ...c, value: (r) => c.value(r.asset) };
};

export const ASSET_COLUMNS: readonly Column<AssetInsert>[] = [
  { name: 'asset_id', value: (r) => r.id },
  asset('content_hash'),
  asset('file_path'),
  asset('file_name'),
  asset('file_size'),
  asset('media_type'),
  asset('format'),
  asset('mime'),
  asset('width'),
  asset('height'),
  asset('duration'),
  { name: 'tags', value: (r) => JSON.stringify(r.asset.tags), sql: '?::JSON::VARCHAR[]' },
  asset('description'),
  asset('prompt'),
  asset('negative_prompt'),
  asset('source'),
  asset('model'),
  asset('generation', '?::JSON'),
  asset('created_at', TS),
  asset('first_seen', TS),
  asset('updated_at', TS),
  asset('derived_from'),
  asset('embed_state'),
  asset('status'),
  { name: 'warnings', value: (r) => JSON.stringify(r.asset.warnings), sql: '?::JSON::VARCHAR[]' },
  asset('damage'),
  asset('created_source'),
];

/** `doc_len`, computed from the inserted prompt and description. */
export const ASSET_DERIVED: readonly DerivedColumn[] = [
  { name: 'doc_len', sql: docLenSql('v.prompt::VARCHAR', 'v.description::VARCHAR') },
];

export const PHASH_COLUMNS: readonly Column<PhashRow>[] = [
  col<PhashRow>('content_hash'),
  col<PhashRow>('phash'),
  col<PhashRow>('dhash'),
  col<PhashRow>('ahash'),
  { name: 'phash_u64', value: (p) => hexToU64(p.phash), sql: '?::UBIGINT' },
  { name: 'dhash_u64', value: (p) => hexToU64(p.dhash), sql: '?::UBIGINT' },
  { name: 'ahash_u64', value: (p) => hexToU64(p.ahash), sql: '?::UBIGINT' },
];

/** A row of `phash_crops`: the centred-crop pHashes of one asset, space-separated hex. */
export interface CropInsert {
  content_hash: string;
  hashes: string;
}

export const CROP_COLUMNS: readonly Column<CropInsert>[] = [
  col<CropInsert>('content_hash'),
  col<CropInsert>('hashes'),
];

export interface AliasInsert {
  alias_hash: string;
  content_hash: string;
}

export const ALIAS_COLUMNS: readonly Column<AliasInsert>[] = [
  col<AliasInsert>('alias_hash'),
  col<AliasInsert>('content_hash'),
];

/** A location row with the `asset_id` of its content (null while the content has no asset row). */
export interface LocationInsert {
  id: number | null;
  location: LocationRow;
}

const location = (name: ParamKeys<LocationRow>, sql?: string): Column<LocationInsert> => {
  const c = col<LocationRow>(name, sql);
  return { ...c, value: (r) => c.value(r.location) };
};

export const LOCATION_COLUMNS: readonly Column<LocationInsert>[] = [
  location('path'),
  location('content_hash'),
  location('byte_hash'),
  location('root'),
  location('rel_path'),
  location('size'),
  location('mtime_ms'),
  location('inode'),
  location('present'),
  location('first_seen', TS),
  location('last_seen', TS),
  location('missing_since', TS),
  { name: 'asset_id', value: (r) => r.id },
];

export const FILE_ERROR_COLUMNS: readonly Column<FileErrorRow>[] = [
  col<FileErrorRow>('path'),
  col<FileErrorRow>('root'),
  col<FileErrorRow>('code'),
  col<FileErrorRow>('message'),
  { name: 'seen_at', value: (e) => e.at, sql: TS },
];
