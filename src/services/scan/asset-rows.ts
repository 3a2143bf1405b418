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

export function assetRowOf(sidecar: Sidecar, primaryPath: string | null, present: boolean): AssetRow {
  const media = sidecar.media ?? {};
  const gen = sidecar.generation ?? null;
  const u = sidecar.analysis.understanding;
  return {
    content_hash: sidecar.content_hash,
    file_path: primaryPath,
    file_name: sidecar.file_name,
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
    created_at: typeof media.created_at === 'string' ? media.created_at : null,
    first_seen: sidecar.first_seen ?? null,
    updated_at: sidecar.updated_at ?? null,
    derived_from: sidecar.derived_from ?? null,
    embed_state: sidecar.embedding?.state ?? null,
    status: present ? 'present' : 'missing',
    warnings: sidecar.warnings ?? [],
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
