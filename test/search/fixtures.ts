/**
 * A real DuckDB index built from real files for the search tests: images made with sharp (scenes
 * with shapes and noise, so perceptual hashes behave as on real pictures), hashed with SHA-256,
 * analysed with the real sharp adapter, and written through AssetRepository. Tags, prompts and
 * dates are set in the rows, as the scan pipeline would from sidecars.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { openDb, type Db } from '../../src/adapters/duckdb.adapter.js';
import { AssetRepository, type AssetEntry } from '../../src/adapters/index/asset.repository.js';
import type { AssetRow, LocationRow } from '../../src/adapters/index/rows.js';
import { migrate } from '../../src/adapters/index/schema.js';
import { analyseImage } from '../../src/adapters/sharp.adapter.js';
import { normaliseTagValue, parseTag } from '../../src/domain/tags.js';
import { scene } from '../phash/fixtures.js';

export interface ImageSpec {
  /** Scene seed: the same seed is the same picture. */
  seed: number;
  width: number;
  height: number;
  format: 'png' | 'jpeg' | 'webp';
  quality?: number;
}

export interface AssetSpec {
  /** Key used by tests to refer to the asset. */
  key: string;
  /** Path relative to the library root (or to the project root with `project`). */
  file: string;
  /** An image, or raw bytes for a non-image (a video stand-in). */
  image?: ImageSpec;
  bytes?: Buffer;
  /** `bytes` are an image (a re-encode made by the test): analyse them as one. */
  analyse?: boolean;
  mediaType?: 'image' | 'video' | 'audio';
  format?: string;
  size?: { width: number; height: number };
  tags?: string[];
  prompt?: string;
  description?: string;
  source?: string;
  model?: string;
  /** The `generation` JSON (seed, sampler, steps, cfg_scale, loras). */
  generation?: Record<string, unknown>;
  createdAt?: string;
  firstSeen?: string;
  missing?: boolean;
  /** Why the content is damaged (`alice search --damaged`). */
  damage?: string;
  /** More copies of the same bytes, relative to the library root. */
  copies?: { file: string; firstSeen: string }[];
  /** In the project root (`projects/<file>`), not the library root. */
  project?: boolean;
}

export interface BuiltAsset {
  hash: string;
  path: string;
  spec: AssetSpec;
}

export interface BuiltIndex {
  db: Db;
  file: string;
  assets: Map<string, BuiltAsset>;
  hashOf(key: string): string;
  keyOf(hash: string): string;
}

/** Writes an image for `spec` and returns its bytes. */
export async function makeImage(spec: ImageSpec): Promise<Buffer> {
  const base = await scene(spec.seed, 512);
  const img = sharp(base).resize(spec.width, spec.height, { fit: 'fill' });
  if (spec.format === 'jpeg') return img.jpeg({ quality: spec.quality ?? 90 }).toBuffer();
  if (spec.format === 'webp') return img.webp({ quality: spec.quality ?? 90 }).toBuffer();
  return img.png().toBuffer();
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function location(file: string, root: string, hash: string, present: boolean, seen: string): LocationRow {
  const st = fs.statSync(file);
  return {
    path: file,
    content_hash: hash,
    byte_hash: hash,
    root,
    rel_path: path.relative(root, file),
    size: st.size,
    mtime_ms: st.mtimeMs,
    inode: st.ino,
    present,
    first_seen: seen,
    last_seen: seen,
    missing_since: present ? null : seen,
  };
}

async function entryOf(spec: AssetSpec, file: string, data: Buffer): Promise<AssetEntry> {
  const hash = sha256(data);
  const analysis = spec.image === undefined && spec.analyse !== true ? undefined : await analyseImage(file);
  if (analysis !== undefined && !analysis.ok) throw new Error(`cannot analyse ${file}: ${analysis.reason}`);
  const tags = (spec.tags ?? []).map((t) => parseTag(t));
  const firstSeen = spec.firstSeen ?? '2024-01-15T12:00:00.000Z';
  const asset: AssetRow = {
    content_hash: hash,
    file_path: file,
    file_name: path.basename(file),
    file_size: data.length,
    media_type: spec.mediaType ?? 'image',
    format: spec.format ?? analysis?.format ?? null,
    mime: null,
    width: spec.size?.width ?? analysis?.width ?? null,
    height: spec.size?.height ?? analysis?.height ?? null,
    duration: null,
    tags: tags.map((t) => `${t.category}:${t.value}`),
    description: spec.description ?? null,
    prompt: spec.prompt ?? null,
    negative_prompt: null,
    source: spec.source ?? null,
    model: spec.model ?? null,
    generation: spec.generation === undefined ? null : JSON.stringify(spec.generation),
    created_at: spec.createdAt ?? null,
    first_seen: firstSeen,
    updated_at: firstSeen,
    derived_from: null,
    embed_state: null,
    status: spec.missing === true ? 'missing' : 'present',
    warnings: [],
    damage: spec.damage ?? null,
    created_source: spec.createdAt === undefined ? null : 'embedded',
  };
  return {
    asset,
    tags: tags.map((t) => ({
      content_hash: hash,
      category: t.category,
      value: t.value,
      value_norm: normaliseTagValue(t.value),
      source: 'user',
    })),
    phash: analysis?.ok === true ? { content_hash: hash, ...analysis.hashes } : null,
    aliases: [],
  };
}

/** Writes every asset's file(s) under `libRoot` / `projectRoot` and indexes them in `dbFile`. */
export async function buildIndex(
  dbFile: string,
  roots: { lib: string; projects: string },
  specs: readonly AssetSpec[],
): Promise<BuiltIndex> {
  const db = await openDb(dbFile);
  await migrate(db);
  const repo = new AssetRepository(db);
  const assets = new Map<string, BuiltAsset>();
  for (const spec of specs) {
    const root = spec.project === true ? roots.projects : roots.lib;
    const file = path.join(root, spec.file);
    const data =
      spec.image === undefined ? (spec.bytes ?? Buffer.from(spec.key)) : await makeImage(spec.image);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    const entry = await entryOf(spec, file, data);
    const seen = entry.asset.first_seen ?? '2024-01-15T12:00:00.000Z';
    const locs = [location(file, root, entry.asset.content_hash, spec.missing !== true, seen)];
    for (const copy of spec.copies ?? []) {
      const copyFile = path.join(roots.lib, copy.file);
      fs.mkdirSync(path.dirname(copyFile), { recursive: true });
      fs.writeFileSync(copyFile, data);
      locs.push(location(copyFile, roots.lib, entry.asset.content_hash, true, copy.firstSeen));
    }
    // A missing file is gone from disk too.
    if (spec.missing === true) fs.rmSync(file);
    await repo.upsertAssets([entry]);
    await repo.upsertLocations(locs);
    assets.set(spec.key, { hash: entry.asset.content_hash, path: file, spec });
  }
  const byHash = new Map([...assets].map(([k, a]) => [a.hash, k]));
  return {
    db,
    file: dbFile,
    assets,
    hashOf: (key) => {
      const a = assets.get(key);
      if (a === undefined) throw new Error(`no fixture asset ${key}`);
      return a.hash;
    },
    keyOf: (hash) => byHash.get(hash) ?? `?${hash.slice(0, 8)}`,
  };
}

/**
 * The library used by most search tests. Dates: `createdAt` when set, else `firstSeen`, else
 * 2024-01-15T12:00Z. The forest has a near duplicate (half size, JPEG q70); the portrait has an
 * exact copy seen later.
 */
export const LIBRARY: readonly AssetSpec[] = [
  {
    key: 'portrait',
    file: 'cyber/portrait.png',
    image: { seed: 11, width: 256, height: 384, format: 'png' },
    tags: ['style:cyberpunk', 'subject:portrait', 'color:Neon'],
    prompt: 'a cyberpunk portrait of a woman, neon city at night',
    source: 'ComfyUI',
    model: 'SDXL Base 1.0',
    createdAt: '2024-03-05T10:00:00.000Z',
    firstSeen: '2024-03-06T10:00:00.000Z',
    copies: [{ file: 'copies/portrait-copy.png', firstSeen: '2024-04-01T00:00:00.000Z' }],
  },
  {
    key: 'city',
    file: 'cyber/city.jpg',
    image: { seed: 22, width: 384, height: 256, format: 'jpeg' },
    tags: ['style:cyberpunk', 'subject:city'],
    prompt: 'neon city skyline, cyberpunk, rain, night night',
    source: 'automatic1111',
    model: 'DreamShaper 8',
    createdAt: '2024-03-20T08:00:00.000Z',
  },
  {
    key: 'forest',
    file: 'nature/forest.webp',
    image: { seed: 33, width: 320, height: 320, format: 'webp' },
    tags: ['subject:forest', 'mood:calm', 'keywords:cyberpunk'],
    prompt: 'a calm forest at dawn, mist',
    description: 'misty woods in the morning',
    source: 'midjourney',
    firstSeen: '2024-05-01T00:00:00.000Z',
  },
  {
    key: 'forest-small',
    file: 'nature/forest-small.jpg',
    image: { seed: 33, width: 160, height: 160, format: 'jpeg', quality: 70 },
    firstSeen: '2024-05-02T00:00:00.000Z',
  },
  {
    key: 'plain',
    file: 'misc/plain.png',
    image: { seed: 44, width: 200, height: 200, format: 'png' },
    createdAt: '2023-12-31T23:00:00.000Z',
  },
  {
    key: 'gone',
    file: 'cyber/gone.png',
    image: { seed: 55, width: 240, height: 240, format: 'png' },
    tags: ['style:cyberpunk'],
    missing: true,
  },
  {
    key: 'hero',
    file: 'alpha/hero.png',
    project: true,
    image: { seed: 66, width: 300, height: 200, format: 'png' },
    tags: ['subject:hero'],
    prompt: 'hero shot, city',
    createdAt: '2024-02-01T00:00:00.000Z',
  },
  {
    key: 'clip',
    file: 'video/clip.mp4',
    bytes: Buffer.from('not really an mp4: the index only needs the row'),
    mediaType: 'video',
    format: 'mp4',
    size: { width: 64, height: 64 },
    tags: ['subject:city'],
    createdAt: '2024-02-10T00:00:00.000Z',
  },
];
