/**
 * Test helpers for `alice migrate`: realistic AliceMultiverse sidecars (1.0 flat, 3.0 sharded) for
 * real image files, and the "no field was dropped" check.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { openDb } from '../../src/adapters/duckdb.adapter.js';
import { MIGRATION_KEY } from '../../src/domain/sidecar-migrations.js';
import { snapshotTree, type TreeSnapshot } from '../helpers/fixtures.js';

export type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every leaf (non-object value, array, or empty object) of a JSON value, with its key path. */
function leaves(value: unknown, at: string[] = []): Array<[string[], unknown]> {
  if (!isObj(value) || Object.keys(value).length === 0) return [[at, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, [...at, k]));
}

/** The value at a key path of a JSON value (undefined where the path ends early). */
export function valueAt(value: unknown, at: readonly string[]): unknown {
  let cur = value;
  for (const key of at) cur = isObj(cur) ? cur[key] : undefined;
  return cur;
}

/**
 * Asserts no legacy value was lost: each legacy leaf is still at its path in the migrated sidecar,
 * or the original value of an enclosing path is recorded in `migrated_from.values` (the documented
 * place for values that had to change: `version`, `analysis.media_type`, …).
 */
export function expectEveryFieldKept(legacy: Json, migrated: Json, ignore: readonly string[] = []): void {
  const values = (valueAt(migrated, [MIGRATION_KEY, 'values']) ?? {}) as Json;
  for (const [at, original] of leaves(legacy)) {
    const key = at.join('.');
    if (ignore.includes(key)) continue;
    const samePlace = JSON.stringify(valueAt(migrated, at)) === JSON.stringify(original);
    const recorded = at.some((_, i) => {
      const prefix = at.slice(0, i + 1);
      const k = prefix.join('.');
      return k in values && JSON.stringify(values[k]) === JSON.stringify(valueAt(legacy, prefix));
    });
    expect(samePlace || recorded, `legacy field ${key} was dropped or changed`).toBe(true);
  }
}

/** An AliceMultiverse 1.0 sidecar (flat layout) as its metadata cache wrote it. */
export function legacyV1(hash: string, size: number, originalPath: string): Json {
  return {
    version: '1.0',
    file_hash: '5f1c2e3d4b5a6978',
    content_hash: hash,
    original_path: originalPath,
    file_name: path.basename(originalPath),
    file_size: size,
    last_modified: 1704067200.123,
    analysis: {
      source_type: 'midjourney',
      date_taken: '2024-01-01',
      project_folder: 'inbox',
      media_type: 'MediaType.IMAGE',
      file_number: 12,
      quality_stars: 4,
      brisque_score: 23.5,
      pipeline_result: 'passed',
      understanding: {
        tags: { style: ['cyberpunk', 'neon noir'], mood: ['dark'], subject: ['cat'] },
        description: 'A black cat under neon rain',
        positive_prompt: 'a black cat in neon rain, cyberpunk city',
        negative_prompt: 'blurry, lowres',
        provider: 'anthropic',
        model: 'claude-3-haiku-20240307',
        cost: 0.00042,
      },
    },
    analysis_time: 0.52,
    cached_at: '2024-01-01T10:00:00.123456',
  };
}

/** An AliceMultiverse 3.0 sidecar (sharded layout), with an absolute path from another machine. */
export function legacyV3(hash: string, size: number, fileName: string): Json {
  return {
    version: '3.0',
    file_hash: '0a1b2c3d4e5f6071',
    content_hash: hash,
    original_path: `/Users/someone/AliceMultiverse/inbox/sd/${fileName}`,
    file_name: fileName,
    file_size: size,
    last_modified: 1714067200.5,
    analysis: {
      source_type: 'stablediffusion',
      date_taken: '2024-04-25',
      project_folder: 'portraits',
      media_type: 'MediaType.IMAGE',
      quality_stars: 5,
      understanding: {
        description: 'A neon-lit portrait of a woman in the rain',
        tags: { style: ['photorealistic'], mood: ['moody'], subject: ['woman', 'rain'] },
        positive_prompt: 'portrait of a woman, neon rain, duck pond',
        negative_prompt: 'blurry, deformed',
        technical_details: { lighting: 'neon', composition: 'rule of thirds' },
        provider: 'openai',
        model: 'sdxl-base-1.0',
        cost: 0.002,
      },
    },
    analysis_time: 1.7,
    cached_at: '2024-04-25T12:00:01',
  };
}

/** Writes JSON the way AliceMultiverse did (indent 2, no trailing newline). */
export function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(data, null, 2));
}

export function readJson(file: string): Json {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
}

export function flatSidecar(root: string, hash: string): string {
  return path.join(root, '.metadata', `${hash}.json`);
}

export function backupFile(root: string, hash: string, version: string): string {
  return path.join(root, '.metadata', '.migrated', `${hash}.${version}.json`);
}

/** Snapshot of every root (bytes of every file, hidden ones included). */
export function snapshotRoots(roots: readonly string[]): Record<string, TreeSnapshot> {
  return Object.fromEntries(roots.map((r) => [r, snapshotTree(r)]));
}

/** The index row of an asset (prompt, source, model, description, status), read with plain DuckDB. */
export async function indexAsset(dbFile: string, hash: string): Promise<Json | undefined> {
  const db = await openDb(dbFile, { readOnly: true });
  try {
    const rows = await db.all(
      'SELECT prompt, negative_prompt, source, model, description, status, tags FROM assets WHERE content_hash = ?',
      [hash],
    );
    return rows[0];
  } finally {
    db.close();
  }
}
