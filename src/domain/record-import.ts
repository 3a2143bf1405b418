/**
 * Turns one record of a database export (a JSON Lines object or a CSV row) into a partial update:
 * tags, description and prompts, keyed by content hash or path. Recognised columns:
 * `content_hash`/`hash`/`sha256`, `file_path`/`path`/`original_path`, `tags` (list, `{category:
 * [values]}`, JSON text or `;`/`,`/`|`-separated `category:value` text), `<category>_tags` and
 * `keywords` columns, `description`/`caption`, `prompt`/`positive_prompt`, `negative_prompt`, and a
 * whole legacy sidecar's `analysis.understanding`. Pure.
 */
import { HASH_RE } from './sidecar.js';
import { DEFAULT_TAG_CATEGORY, parseTag, tagKey, type Tag } from './tags.js';

export interface ImportedRecord {
  contentHash?: string;
  path?: string;
  tags: Tag[];
  description?: string;
  prompt?: string;
  negativePrompt?: string;
  warnings: string[];
}

const MAX_TAGS = 1000;
const MAX_TAG_LENGTH = 200;
const MAX_TEXT = 32 * 1024;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, MAX_TEXT);
}

/** JSON text that holds a list or object, else undefined. */
function jsonish(value: string): unknown {
  const t = value.trim();
  if (!(t.startsWith('[') || t.startsWith('{'))) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

/** Tag values from a list, a JSON string, or `a; b; c` text (`;` first, then `|`, then `,`). */
function values(value: unknown): string[] {
  if (Array.isArray(value))
    return value.flatMap((v) => (typeof v === 'string' || typeof v === 'number' ? [String(v)] : []));
  if (typeof value !== 'string') return [];
  const parsed = jsonish(value);
  if (parsed !== undefined) return values(parsed);
  const sep = [';', '|', ','].find((s) => value.includes(s));
  return sep === undefined ? [value] : value.split(sep);
}

function tagsFrom(value: unknown, category: string | undefined): Tag[] {
  if (typeof value === 'string' && isObject(jsonish(value))) return tagsFrom(jsonish(value), category);
  if (isObject(value)) {
    return Object.entries(value).flatMap(([cat, vals]) =>
      values(vals).map((v) => ({ category: cat.toLowerCase(), value: v.trim() })),
    );
  }
  return values(value).map((v) => (category === undefined ? parseTag(v) : { category, value: v.trim() }));
}

function collectTags(record: Record<string, unknown>, understanding: Record<string, unknown>): Tag[] {
  const found: Tag[] = [
    ...tagsFrom(understanding['tags'], undefined),
    ...tagsFrom(record['tags'], undefined),
  ];
  for (const [key, value] of Object.entries(record)) {
    const m = /^([\p{L}\p{N}-]+)_tags$/u.exec(key);
    if (m?.[1] !== undefined) found.push(...tagsFrom(value, m[1].toLowerCase()));
    else if (key === 'keywords') found.push(...tagsFrom(value, DEFAULT_TAG_CATEGORY));
  }
  return found;
}

function dedupe(tags: Tag[], warnings: string[]): Tag[] {
  const seen = new Set<string>();
  const out: Tag[] = [];
  for (const tag of tags) {
    if (tag.value === '') continue;
    if (tag.value.length > MAX_TAG_LENGTH) {
      warnings.push(`tag longer than ${MAX_TAG_LENGTH} characters skipped`);
      continue;
    }
    if (seen.has(tagKey(tag))) continue;
    if (out.length >= MAX_TAGS) {
      warnings.push(`more than ${MAX_TAGS} tags; rest skipped`);
      break;
    }
    seen.add(tagKey(tag));
    out.push(tag);
  }
  return out;
}

function first(record: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = text(record[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Reads one exported record. Unknown columns are ignored; nothing here throws. */
export function importRecord(record: Record<string, unknown>): ImportedRecord {
  const warnings: string[] = [];
  const analysis = isObject(record['analysis']) ? record['analysis'] : {};
  const understanding = isObject(analysis['understanding']) ? analysis['understanding'] : {};
  const hash = first(record, ['content_hash', 'hash', 'sha256'])?.toLowerCase();
  if (hash !== undefined && !HASH_RE.test(hash))
    warnings.push(`content hash "${hash.slice(0, 80)}" is not a SHA-256 hex digest; ignored`);
  const path = first(record, ['file_path', 'path', 'original_path']);
  const description = first(record, ['description', 'caption']) ?? first(understanding, ['description']);
  const prompt = first(record, ['prompt', 'positive_prompt']) ?? first(understanding, ['positive_prompt']);
  const negativePrompt = first(record, ['negative_prompt']) ?? first(understanding, ['negative_prompt']);
  return {
    ...(hash !== undefined && HASH_RE.test(hash) ? { contentHash: hash } : {}),
    ...(path === undefined ? {} : { path }),
    tags: dedupe(collectTags(record, understanding), warnings),
    ...(description === undefined ? {} : { description }),
    ...(prompt === undefined ? {} : { prompt }),
    ...(negativePrompt === undefined ? {} : { negativePrompt }),
    warnings,
  };
}
