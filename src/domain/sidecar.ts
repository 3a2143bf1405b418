/**
 * The sidecar document (format "4.0"): everything alice knows about one asset that the file itself
 * cannot hold. Stored at `<root>/.metadata/<first 2 hex>/<content_hash>.json`. Pure: no I/O.
 * Unknown fields are kept on every rewrite (forward compatibility), see docs/sidecar-format.md.
 */
import { z } from 'zod';
import type { Generation } from './generation/model.js';
import type { MediaType } from './media.js';
import type { TagsByCategory } from './tags.js';

export const SIDECAR_VERSION = '4.0';
export const SIDECAR_MAX_BYTES = 1024 * 1024;
export const HASH_RE = /^[0-9a-f]{64}$/;

/** Where a tag came from: `user`, `file:<exif tag>`, `vocabulary`, `migrate`, `project`. */
export type TagSource = string;

export interface Understanding {
  tags: TagsByCategory;
  /** `category:value` (value lowercased) → source. Tags without an entry count as `user`. */
  tag_sources?: Record<string, TagSource>;
  description?: string | null;
  cost?: number;
  [key: string]: unknown;
}

export interface MediaFacts {
  mime?: string;
  format?: string;
  width?: number;
  height?: number;
  duration?: number;
  /** When the content was made, from embedded metadata (ISO 8601). */
  created_at?: string;
  [key: string]: unknown;
}

export interface PerceptualHashes {
  phash: string;
  dhash: string;
  ahash: string;
  /**
   * pHashes of the centred 95 % and 90 % crops (optional: older sidecars lack it, format stays "4.0");
   * near-duplicate grouping compares them with other images' full pHashes to catch crops.
   */
  phash_crops?: string[];
}

export interface EmbedState {
  /** `written` (alice wrote it), `current` (file already held it), `sidecar_only`, `failed`. */
  state: 'written' | 'current' | 'sidecar_only' | 'failed';
  at: string;
  reason?: string;
  warnings?: string[];
  /** Byte hash of the file right after alice embedded into it. */
  hash?: string;
  [key: string]: unknown;
}

export interface Sidecar {
  version: typeof SIDECAR_VERSION;
  content_hash: string;
  file_name: string;
  file_size: number;
  /** Other byte-hashes of this same asset (for example after alice embedded tags into the file). */
  aliases?: string[];
  /** The asset this one was made from when another program edited a file in place. */
  derived_from?: string | null;
  first_seen?: string;
  updated_at?: string;
  /** Paths relative to the root where the asset was last seen. */
  last_paths?: string[];
  media?: MediaFacts;
  analysis: {
    media_type: MediaType;
    understanding: Understanding;
    [key: string]: unknown;
  };
  generation?: Generation | null;
  perceptual?: PerceptualHashes | null;
  /** Facts read from embedded metadata (title, rating, software, keywords as found). */
  embedded_metadata?: Record<string, unknown>;
  embedding?: EmbedState;
  warnings?: string[];
  /** Why the content is damaged: it does not decode completely, or is not what its name says. */
  damage?: string;
  /** The file's mtime when alice first saw this content (ISO 8601): the last fallback for its date. */
  file_mtime?: string;
  /** When the generator made it (PNG `Creation Time` text, `tIME` chunk; ISO 8601): the date before `file_mtime`. */
  generated_at?: string;
  /**
   * SHA-256 of the coded image data without the metadata around it (PNG, JPEG, WebP; see
   * src/adapters/image-data-hash.adapter.ts): equal for files that differ only in metadata.
   */
  image_hash?: string;
  /** SHA-256 of the decoded pixels: the same role for other image formats, and in older sidecars. */
  pixel_hash?: string;
  [key: string]: unknown;
}

const tagsSchema = z.record(z.string(), z.array(z.string()));

const sidecarSchema = z
  .object({
    version: z.literal(SIDECAR_VERSION),
    content_hash: z.string().regex(HASH_RE),
    file_name: z.string(),
    file_size: z.number().int().nonnegative(),
    aliases: z.array(z.string().regex(HASH_RE)).optional(),
    derived_from: z.string().regex(HASH_RE).nullable().optional(),
    first_seen: z.string().optional(),
    updated_at: z.string().optional(),
    last_paths: z.array(z.string()).optional(),
    media: z.looseObject({}).optional(),
    analysis: z.looseObject({
      media_type: z.enum(['image', 'video', 'audio']),
      understanding: z.looseObject({
        tags: tagsSchema,
        tag_sources: z.record(z.string(), z.string()).optional(),
        description: z.string().nullable().optional(),
        cost: z.number().optional(),
      }),
    }),
    generation: z.looseObject({ source: z.string() }).nullable().optional(),
    perceptual: z
      .object({
        phash: z.string(),
        dhash: z.string(),
        ahash: z.string(),
        phash_crops: z.array(z.string()).optional(),
      })
      .nullable()
      .optional(),
    warnings: z.array(z.string()).optional(),
    damage: z.string().optional(),
    file_mtime: z.string().optional(),
    generated_at: z.string().optional(),
    image_hash: z.string().optional(),
    pixel_hash: z.string().optional(),
  })
  .loose();

export type SidecarCheck = { ok: true; sidecar: Sidecar } | { ok: false; reason: string; version?: string };

/** Validates parsed JSON as a 4.0 sidecar for `expectedHash` (when given). */
export function checkSidecar(data: unknown, expectedHash?: string): SidecarCheck {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const version = (data as { version?: unknown }).version;
  if (version !== SIDECAR_VERSION) {
    return {
      ok: false,
      reason: `version ${JSON.stringify(version)} is not ${SIDECAR_VERSION}`,
      version: String(version),
    };
  }
  const parsed = sidecarSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unknown'}`,
    };
  }
  const sidecar = data as Sidecar;
  if (expectedHash !== undefined && sidecar.content_hash !== expectedHash) {
    return { ok: false, reason: `names another hash (${sidecar.content_hash.slice(0, 12)}…)` };
  }
  return { ok: true, sidecar };
}

/** Relative path of a sidecar below its root: `.metadata/ab/abcdef….json`. */
export function sidecarRelPath(contentHash: string): string {
  return `.metadata/${contentHash.slice(0, 2)}/${contentHash}.json`;
}

export interface NewSidecarInput {
  contentHash: string;
  fileName: string;
  fileSize: number;
  mediaType: MediaType;
  now: string;
}

export function newSidecar(input: NewSidecarInput): Sidecar {
  return {
    version: SIDECAR_VERSION,
    content_hash: input.contentHash,
    file_name: input.fileName,
    file_size: input.fileSize,
    aliases: [],
    derived_from: null,
    first_seen: input.now,
    updated_at: input.now,
    last_paths: [],
    media: {},
    analysis: { media_type: input.mediaType, understanding: { tags: {}, description: null, cost: 0 } },
    generation: null,
    perceptual: null,
  };
}

/** Serialises a sidecar with stable key order for the top-level fields alice owns. */
export function serialiseSidecar(sidecar: Sidecar): string {
  return `${JSON.stringify(sidecar, null, 2)}\n`;
}

/** Stable JSON for comparisons (ignores `updated_at`). */
export function sidecarFingerprint(sidecar: Sidecar): string {
  const { updated_at: _ignored, ...rest } = sidecar;
  return JSON.stringify(rest);
}
