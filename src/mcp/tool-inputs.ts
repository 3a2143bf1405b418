/**
 * Input schemas of the MCP tools, as zod shapes the SDK publishes as JSON Schema. They are kept
 * plain (strings, lists, numbers) and described for the model that reads them; the operations
 * validate again with their own, stricter schemas.
 */
import { z } from 'zod';
import { ORIENTATIONS, PERCEPTUAL_KINDS, SORT_KEYS } from '../domain/search-filters.js';
import type { McpSettings } from './mcp-env.js';

/** Results per call when the caller gives no limit (capped by `mcp.max_results`). */
export const DEFAULT_MCP_LIMIT = 20;

const tagList = (what: string) =>
  z
    .array(z.string().min(1).max(200))
    .max(50)
    .optional()
    .describe(
      `${what} A tag is \`category:value\` (style:cyberpunk) to match that category, or a bare value (cyberpunk) to match any category.`,
    );

const hashRef = z
  .string()
  .describe('Content hash of the asset (64 hex digits, or a unique prefix of 8 or more).')
  .optional();
const pathRef = z
  .string()
  .min(1)
  .max(4096)
  .describe('Absolute path of a file inside a configured library or project root.')
  .optional();

/** `limit`; with `countOnly`, 0 is allowed and returns just the total. */
function limitOf(s: McpSettings, countOnly = false) {
  const range = `default ${Math.min(DEFAULT_MCP_LIMIT, s.max_results)}, at most ${s.max_results}`;
  return z
    .number()
    .int()
    .min(countOnly ? 0 : 1)
    .optional()
    .describe(`How many results to return (${range}${countOnly ? '; 0 returns only the total' : ''}).`);
}

function thumbnailsOf(s: McpSettings) {
  return z
    .boolean()
    .optional()
    .describe(
      `Also return small JPEG thumbnails (at most ${s.thumbnails}, ${s.thumbnail_px}px) of the first image results, so you can see them.`,
    );
}

export function searchInput(s: McpSettings) {
  return {
    query: z
      .string()
      .max(1000)
      .optional()
      .describe(
        'Search box: words matched in tags (category and value), prompt, description and file name; every word must match somewhere. Case-insensitive, plurals fold (cats = cat), prefixes match (cyber finds cyberpunk); ranked by where they matched.',
      ),
    tags: tagList('Assets must have every one of these tags.'),
    any_tags: tagList('Assets must have at least one of these tags.'),
    exclude_tags: tagList('Assets must have none of these tags.'),
    media_type: z.enum(['image', 'video', 'audio']).optional().describe('Only this kind of media.'),
    prompt: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe(
        'Words (all must occur) and "quoted phrases" searched in the generation prompt and description.',
      ),
    source: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Generator (comfyui, automatic1111, midjourney…): substring.'),
    model: z.string().min(1).max(200).optional().describe('Model name: case-insensitive substring.'),
    since: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Made at or after: 2024-03-01, 2024-03, an ISO date-time, or relative (7d, 12h, today).'),
    until: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Made at or before (a date means through that day, UTC).'),
    formats: z
      .array(z.string().min(1).max(20))
      .max(20)
      .optional()
      .describe('File formats: png, jpg, webp, mp4…'),
    orientation: z.enum(ORIENTATIONS).optional(),
    project: z.string().min(1).max(200).optional().describe('Only assets inside this project.'),
    has_prompt: z.boolean().optional().describe('Only assets with (true) or without (false) a prompt.'),
    gen_seed: z
      .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)])
      .optional()
      .describe('Generation seed recorded by the generator.'),
    sampler: z.string().min(1).max(200).optional().describe('Sampler: case-insensitive substring.'),
    steps: z.number().int().min(1).optional().describe('Sampling steps.'),
    cfg: z.number().min(0).optional().describe('CFG scale.'),
    lora: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('A LoRA used: case-insensitive substring of its name.'),
    include_missing: z.boolean().optional().describe('Also assets whose every copy is missing.'),
    damaged: z
      .boolean()
      .optional()
      .describe('Only damaged files (do not decode completely, or are not what their name says).'),
    sort: z
      .enum(SORT_KEYS)
      .optional()
      .describe('Default: relevance with query words or a prompt query, else newest.'),
    limit: limitOf(s, true),
    offset: z.number().int().min(0).optional().describe('Skip this many results (paging; see next_offset).'),
    thumbnails: thumbnailsOf(s),
  };
}

export function similarInput(s: McpSettings) {
  return {
    content_hash: hashRef,
    path: pathRef,
    threshold: z
      .number()
      .int()
      .min(0)
      .max(64)
      .optional()
      .describe('Largest Hamming distance (bits out of 64) still counted as similar; default 10.'),
    hash: z.enum(PERCEPTUAL_KINDS).optional().describe('Perceptual hash to compare; default phash.'),
    limit: limitOf(s),
    thumbnails: thumbnailsOf(s),
  };
}

export const ASSET_INPUT = { content_hash: hashRef, path: pathRef };

export const TAG_INPUT = {
  content_hash: hashRef,
  path: pathRef,
  add: tagList('Tags to add.'),
  remove: tagList('Tags to remove.'),
};

export const SELECT_INPUT = {
  project: z.string().min(1).max(200).describe('Project name (see list_projects).'),
  content_hash: hashRef,
  path: pathRef,
  reason: z.string().min(1).max(2000).describe('Why this asset is chosen for the project.'),
  role: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('What it is for in the project: hero, b-roll, reference…'),
};
