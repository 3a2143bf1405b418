/**
 * Nothing is the last copy in the index: a sidecar that is garbled on disk while the index still
 * describes its asset is written back from what the index holds (tags and their sources, the
 * description, aliases, where it came from, when it was first seen), over a fresh reading of the
 * file for what the file itself can tell again. The garbled original is kept aside.
 */
import path from 'node:path';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import type { AssetRow, LocationRow } from '../../adapters/index/rows.js';
import { copySidecarAside, writeSidecar } from '../../adapters/sidecar-store.adapter.js';
import type { Generation } from '../../domain/generation/model.js';
import { MediaType, mediaInfoFor } from '../../domain/media.js';
import { HASH_RE, newSidecar, type EmbedState, type Sidecar } from '../../domain/sidecar.js';
import { groupTags, tagKey } from '../../domain/tags.js';
import type { Analyser } from '../../ports.js';
import { sidecarFromAnalysis } from './asset-rows.js';
import type { SidecarRecovery } from './sidecar-cache.js';

export interface SidecarRepair {
  /** The sidecar file written back. */
  file: string;
  content_hash: string;
  /** Where the garbled original was kept (absent in a dry run). */
  movedTo?: string;
  /** How many tags the repaired sidecar carries (user tags included). */
  tags: number;
}

export interface SidecarRepairDeps {
  /** The index that still describes the asset (the previous one during a rebuild). */
  repo: AssetRepository;
  analyser: Analyser;
  now: () => string;
}

const MEDIA_TYPES: readonly string[] = Object.values(MediaType);

function mediaTypeOf(row: AssetRow): MediaType {
  return MEDIA_TYPES.includes(row.media_type) ? (row.media_type as MediaType) : MediaType.IMAGE;
}

function generationOf(row: AssetRow): Generation | null {
  if (row.generation === null) return null;
  try {
    const g = JSON.parse(row.generation) as unknown;
    return typeof g === 'object' && g !== null && typeof (g as { source?: unknown }).source === 'string'
      ? (g as Generation)
      : null;
  } catch {
    return null;
  }
}

const EMBED_STATES: readonly string[] = ['written', 'current', 'sidecar_only', 'failed'];

export class SidecarRepairer {
  constructor(private readonly deps: SidecarRepairDeps) {}

  /**
   * The sidecar of `hash` in `root` as the index describes it, or null when the index does not
   * know the asset (then nothing can be recovered: the caller sets the file aside as before).
   */
  async fromIndex(root: string, hash: string): Promise<Sidecar | null> {
    if (!HASH_RE.test(hash)) return null;
    const { repo } = this.deps;
    const row = await repo.getAsset(hash);
    if (row === undefined) return null;
    const locs = (await repo.locationsOf(hash)).filter((l) => l.root === root);
    const base = (await this.fresh(row, locs)) ?? this.bare(row);
    const tags = await repo.tagsOf(hash);
    const phash = await repo.phashOf(hash);
    const u = base.analysis.understanding;
    const sidecar: Sidecar = {
      ...base,
      file_name: row.file_name,
      file_size: row.file_size,
      aliases: await repo.aliasesOf(hash),
      derived_from: row.derived_from,
      first_seen: row.first_seen ?? base.first_seen ?? this.deps.now(),
      updated_at: this.deps.now(),
      last_paths: locs.map((l) => l.rel_path).sort(),
      analysis: {
        ...base.analysis,
        understanding: {
          ...u,
          tags: groupTags(tags.map((t) => ({ category: t.category, value: t.value }))),
          tag_sources: Object.fromEntries(
            tags.map((t) => [tagKey({ category: t.category, value: t.value }), t.source ?? 'user']),
          ),
          description: row.description,
        },
      },
      generation: base.generation ?? generationOf(row),
      perceptual:
        base.perceptual ??
        (phash === undefined ? null : { phash: phash.phash, dhash: phash.dhash, ahash: phash.ahash }),
      repaired_from_index: this.deps.now(),
    };
    if (row.embed_state !== null && EMBED_STATES.includes(row.embed_state))
      sidecar.embedding = {
        state: row.embed_state as EmbedState['state'],
        at: row.updated_at ?? this.deps.now(),
      };
    if (row.damage !== null) sidecar.damage = row.damage;
    return sidecar;
  }

  /**
   * Writes the repaired sidecar over the garbled `file`, which is copied aside first; the new one
   * is written atomically, so the path holds the garbled or the repaired sidecar at every moment
   * (a crash in between leaves the garbled one, repaired again next time). Null: not repairable.
   */
  readonly recovery: SidecarRecovery = async (root, hash, file, dryRun) => {
    const sidecar = await this.fromIndex(root, hash);
    if (sidecar === null) return null;
    if (dryRun) return { sidecar };
    const movedTo = await copySidecarAside(file);
    await writeSidecar(root, sidecar);
    return { sidecar, movedTo };
  };

  async repair(root: string, hash: string, file: string, dryRun: boolean): Promise<SidecarRepair | null> {
    const r = await this.recovery(root, hash, file, dryRun);
    if (r === null) return null;
    const tags = Object.values(r.sidecar.analysis.understanding.tags).flat().length;
    return { file, content_hash: hash, tags, ...(r.movedTo === undefined ? {} : { movedTo: r.movedTo }) };
  }

  /** A fresh reading of a present file of the asset in this root (what the file can tell again). */
  private async fresh(row: AssetRow, locs: readonly LocationRow[]): Promise<Sidecar | null> {
    for (const loc of locs.filter((l) => l.present)) {
      const media = mediaInfoFor(loc.path);
      if (media === undefined) continue;
      try {
        const analysis = await this.deps.analyser.analyse(loc.path, media);
        return sidecarFromAnalysis({
          hash: row.content_hash,
          file: loc.path,
          size: loc.size,
          media,
          analysis,
          now: this.deps.now(),
          mtimeMs: loc.mtime_ms,
        });
      } catch {
        // Unreadable or vanished: the index alone still holds what the user wrote.
      }
    }
    return null;
  }

  private bare(row: AssetRow): Sidecar {
    const s = newSidecar({
      contentHash: row.content_hash,
      fileName: row.file_name || path.basename(row.file_path ?? row.content_hash),
      fileSize: row.file_size,
      mediaType: mediaTypeOf(row),
      now: row.first_seen ?? this.deps.now(),
    });
    const media: Record<string, unknown> = {};
    if (row.mime !== null) media.mime = row.mime;
    if (row.format !== null) media.format = row.format;
    if (row.width !== null) media.width = row.width;
    if (row.height !== null) media.height = row.height;
    if (row.duration !== null) media.duration = row.duration;
    if (row.created_at !== null && row.created_source === 'embedded') media.created_at = row.created_at;
    s.media = media;
    if (row.created_at !== null && row.created_source === 'file_mtime') s.file_mtime = row.created_at;
    if (row.warnings.length > 0) s.warnings = row.warnings;
    return s;
  }
}
