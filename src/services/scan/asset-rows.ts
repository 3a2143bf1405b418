/** Conversions between sidecars, analysis results and index rows. Pure. */
import path from 'node:path';
import type { AssetRow, PhashRow, TagRow } from '../../adapters/index/rows.js';
import type { MediaInfo } from '../../domain/media.js';
import { newSidecar, type Sidecar } from '../../domain/sidecar.js';
import { flattenTags, groupTags, normaliseTagValue, tagKey } from '../../domain/tags.js';
import type { AssetEntry } from '../../adapters/index/asset.repository.js';
import type { Analysis } from '../../ports.js';

export interface NewAssetInput {
  hash: string;
  file: string;
  size: number;
  media: MediaInfo;
  analysis: Analysis;
  now: string;
  /** The file's mtime when alice first saw the content (ms since the epoch). */
  mtimeMs?: number;
}

/** A fresh 4.0 sidecar for content seen for the first time. */
export function sidecarFromAnalysis(input: NewAssetInput): Sidecar {
  const { analysis } = input;
  const sidecar = newSidecar({
    contentHash: input.hash,
    fileName: path.basename(input.file),
    fileSize: input.size,
    mediaType: input.media.type,
    now: input.now,
  });
  sidecar.media = { mime: input.media.mime, format: input.media.format, ...analysis.media };
  sidecar.generation = analysis.generation;
  sidecar.perceptual = analysis.perceptual;
  const u = sidecar.analysis.understanding;
  u.tags = groupTags(analysis.tags);
  u.tag_sources = Object.fromEntries(analysis.tags.map((t) => [tagKey(t), t.source]));
  u.description = analysis.description;
  if (Object.keys(analysis.embeddedMetadata).length > 0)
    sidecar.embedded_metadata = analysis.embeddedMetadata;
  if (analysis.warnings.length > 0) sidecar.warnings = analysis.warnings;
  if (analysis.damage !== undefined) sidecar.damage = analysis.damage;
  if (analysis.imageHash !== undefined) sidecar.image_hash = analysis.imageHash;
  if (analysis.pixelHash !== undefined) sidecar.pixel_hash = analysis.pixelHash;
  if (analysis.generatedAt !== undefined) sidecar.generated_at = analysis.generatedAt;
  if (input.mtimeMs !== undefined && Number.isFinite(input.mtimeMs) && input.mtimeMs > 0)
    sidecar.file_mtime = new Date(input.mtimeMs).toISOString();
  return sidecar;
}

export function tagRowsOf(sidecar: Sidecar): TagRow[] {
  const sources = sidecar.analysis.understanding.tag_sources ?? {};
  return flattenTags(sidecar.analysis.understanding.tags).map((t) => ({
    content_hash: sidecar.content_hash,
    category: t.category,
    value: t.value,
    value_norm: normaliseTagValue(t.value),
    source: sources[tagKey(t)] ?? 'user',
  }));
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * When the content was made and how alice knows: the embedded creation date, else the
 * generator's timestamp, else the file's mtime when alice first saw it.
 */
export function createdOf(sidecar: Sidecar): { at: string; source: CreatedSource } | null {
  const embedded = sidecar.media?.created_at;
  if (typeof embedded === 'string' && !Number.isNaN(Date.parse(embedded)))
    return { at: embedded, source: 'embedded' };
  const generated = sidecar.generated_at;
  if (typeof generated === 'string' && !Number.isNaN(Date.parse(generated)))
    return { at: generated, source: 'generation' };
  const mtime = sidecar.file_mtime;
  if (typeof mtime === 'string' && !Number.isNaN(Date.parse(mtime)))
    return { at: mtime, source: 'file_mtime' };
  return null;
}

export type CreatedSource = 'embedded' | 'generation' | 'file_mtime';

export function assetRowOf(sidecar: Sidecar, primaryPath: string | null, present: boolean): AssetRow {
  const media = sidecar.media ?? {};
  const gen = sidecar.generation ?? null;
  const u = sidecar.analysis.understanding;
  const created = createdOf(sidecar);
  return {
    content_hash: sidecar.content_hash,
    file_path: primaryPath,
    // The name shown, searched and sorted by is the primary copy's, not the first-seen one (the
    // part after the last '/', as the index takes it when it refreshes file_path).
    file_name: primaryPath === null ? sidecar.file_name : path.basename(primaryPath),
    file_size: sidecar.file_size,
    media_type: sidecar.analysis.media_type,
    format: typeof media.format === 'string' ? media.format : null,
    mime: typeof media.mime === 'string' ? media.mime : null,
    width: num(media.width) ?? num(gen?.width),
    height: num(media.height) ?? num(gen?.height),
    duration: num(media.duration),
    tags: flattenTags(u.tags).map((t) => `${t.category}:${t.value}`),
    description: u.description ?? null,
    prompt: gen?.prompt ?? null,
    negative_prompt: gen?.negative_prompt ?? null,
    source: gen?.source ?? null,
    model: gen?.model ?? null,
    generation: gen === null ? null : JSON.stringify({ ...gen, raw: undefined }),
    created_at: created?.at ?? null,
    created_source: created?.source ?? null,
    first_seen: sidecar.first_seen ?? null,
    updated_at: sidecar.updated_at ?? null,
    derived_from: sidecar.derived_from ?? null,
    embed_state: sidecar.embedding?.state ?? null,
    status: present ? 'present' : 'missing',
    warnings: sidecar.warnings ?? [],
    damage: typeof sidecar.damage === 'string' ? sidecar.damage : null,
  };
}

export function phashRowOf(sidecar: Sidecar): PhashRow | null {
  const p = sidecar.perceptual;
  if (p === null || p === undefined) return null;
  const hex = (h: string): boolean => /^[0-9a-f]{16}$/.test(h);
  if (![p.phash, p.dhash, p.ahash].every(hex)) return null;
  const row: PhashRow = {
    content_hash: sidecar.content_hash,
    phash: p.phash,
    dhash: p.dhash,
    ahash: p.ahash,
  };
  const crops = (p.phash_crops ?? []).filter(hex);
  return crops.length > 0 ? { ...row, phash_crops: crops } : row;
}

export function entryOf(sidecar: Sidecar, primaryPath: string | null, present: boolean): AssetEntry {
  return {
    asset: assetRowOf(sidecar, primaryPath, present),
    tags: tagRowsOf(sidecar),
    phash: phashRowOf(sidecar),
    aliases: sidecar.aliases ?? [],
  };
}
