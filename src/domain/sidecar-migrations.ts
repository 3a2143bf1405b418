/**
 * Upgrades AliceMultiverse sidecars (1.0 flat `.metadata/<hash>.json`, 3.0, and "4.0" files that
 * are not valid alice 4.0 documents) to the alice 4.0 Sidecar. Nothing is dropped:
 * - every field stays under its original key (the 4.0 document is open to unknown fields);
 * - a field whose value had to change for 4.0 keeps its original value in
 *   `migrated_from.values["<dotted.path>"]` (for example `version`, `analysis.media_type` when it was
 *   "MediaType.IMAGE", `analysis.understanding.tags` when it was a flat list);
 * - `analysis.understanding.positive_prompt` / `negative_prompt` / `model` / `provider` and
 *   `analysis.source_type` stay where they were and are also copied into `generation`.
 * See docs/generation-metadata.md for the full mapping. Pure.
 */
import { AliceError, ErrorCode } from './errors.js';
import type { Generation } from './generation/model.js';
import { mediaInfoFor, type MediaType } from './media.js';
import { HASH_RE, SIDECAR_VERSION, checkSidecar, type Sidecar } from './sidecar.js';
import { parseTag, tagKey, type TagsByCategory } from './tags.js';

export { importRecord, type ImportedRecord } from './record-import.js';

export interface MigrationContext {
  /** SHA-256 of the file the sidecar describes (wins over the legacy `content_hash`). */
  readonly contentHash: string;
  /** ISO 8601 time of the migration. */
  readonly now: string;
}

export interface MigrationResult {
  sidecar: Sidecar;
  /** Human-readable list of what changed, empty when the input already was a valid 4.0 sidecar. */
  changes: string[];
}

/** Where original values of changed fields are kept. */
export const MIGRATION_KEY = 'migrated_from';

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects original values of changed fields and a change log. */
class Changes {
  readonly values: Obj = {};
  readonly log: string[] = [];

  moved(path: string, original: unknown, note: string): void {
    if (original !== undefined) this.values[path] = original;
    this.log.push(note);
  }
}

const MEDIA_TYPES: ReadonlySet<string> = new Set(['image', 'video', 'audio']);

/** `"MediaType.IMAGE"` / `"image"` / `"gif"` → 4.0 media type; unknown values go by file extension. */
export function normaliseMediaType(value: unknown, fileName: string): MediaType {
  const name =
    typeof value === 'string'
      ? value
          .replace(/^MediaType\./i, '')
          .trim()
          .toLowerCase()
      : '';
  if (MEDIA_TYPES.has(name)) return name as MediaType;
  if (name === 'gif') return 'image';
  return mediaInfoFor(fileName)?.type ?? 'image';
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Legacy tags (object of lists, or a flat list) → 4.0 tags; returns undefined when already 4.0-shaped. */
function convertTags(value: unknown): TagsByCategory | undefined {
  if (value === undefined) return {};
  if (isObject(value) && Object.values(value).every(isStringList)) return undefined;
  const out: TagsByCategory = {};
  const add = (category: string, v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number') (out[category] ??= []).push(String(v));
  };
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string') continue;
      const tag = parseTag(item);
      add(tag.category, tag.value);
    }
  } else if (isObject(value)) {
    for (const [category, list] of Object.entries(value))
      (Array.isArray(list) ? list : [list]).forEach((v) => add(category, v));
  }
  return out;
}

/** tag_sources for migrated tags: `migrate`, unless the legacy file already named a source. */
function tagSources(u: Obj, c: Changes): Obj {
  const valid = isObject(u['tag_sources']);
  if (u['tag_sources'] !== undefined && !valid) {
    c.moved(
      'analysis.understanding.tag_sources',
      u['tag_sources'],
      'invalid tag_sources kept in migrated_from',
    );
  }
  const sources: Obj = valid ? { ...(u['tag_sources'] as Obj) } : {};
  for (const [category, list] of Object.entries(u['tags'] as TagsByCategory)) {
    for (const v of list) sources[tagKey({ category, value: v })] ??= 'migrate';
  }
  for (const [key, value] of Object.entries(sources)) if (typeof value !== 'string') delete sources[key];
  return sources;
}

/** Removes `u[key]` when `valid` rejects it, keeping the original in migrated_from. */
function dropInvalid(u: Obj, key: string, valid: (v: unknown) => boolean, c: Changes): void {
  if (u[key] === undefined || valid(u[key])) return;
  c.moved(
    `analysis.understanding.${key}`,
    u[key],
    `invalid analysis.understanding.${key} kept in migrated_from`,
  );
  delete u[key];
}

function migrateUnderstanding(value: unknown, c: Changes): Obj {
  if (value !== undefined && !isObject(value)) {
    c.moved(
      'analysis.understanding',
      value,
      'analysis.understanding was not an object; kept in migrated_from',
    );
  }
  const u: Obj = isObject(value) ? { ...value } : {};
  const converted = convertTags(u['tags']);
  if (converted !== undefined) {
    c.moved(
      'analysis.understanding.tags',
      u['tags'],
      'analysis.understanding.tags converted to category → values',
    );
    u['tags'] = converted;
  }
  u['tag_sources'] = tagSources(u, c);
  dropInvalid(u, 'description', (v) => v === null || typeof v === 'string', c);
  dropInvalid(u, 'cost', (v) => typeof v === 'number' && Number.isFinite(v), c);
  return u;
}

function migrateAnalysis(value: unknown, fileName: string, c: Changes): Obj {
  if (value !== undefined && !isObject(value))
    c.moved('analysis', value, 'analysis was not an object; kept in migrated_from');
  const a: Obj = isObject(value) ? { ...value } : {};
  const mediaType = normaliseMediaType(a['media_type'], fileName);
  if (a['media_type'] !== mediaType) {
    c.moved(
      'analysis.media_type',
      a['media_type'],
      `analysis.media_type ${JSON.stringify(a['media_type'] ?? null)} → "${mediaType}"`,
    );
    a['media_type'] = mediaType;
  }
  a['understanding'] = migrateUnderstanding(a['understanding'], c);
  return a;
}

/** Vision-model names: AliceMultiverse recorded the model that described the image, not the generator. */
const UNDERSTANDING_MODEL = /claude|gpt-4|gpt-3|gemini|llava|deepseek|qwen|llama|mistral|pixtral/i;

function legacySource(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim().toLowerCase();
  if (s === '' || s === 'unknown' || s === 'none') return undefined;
  if (/^dall[\s·.\-_]*e/.test(s)) return 'dall-e';
  if (s === 'a1111' || s === 'automatic') return 'automatic1111';
  return s;
}

function legacyGeneration(analysis: Obj, c: Changes): Generation | null {
  const u = isObject(analysis['understanding']) ? analysis['understanding'] : {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
  const source = legacySource(analysis['source_type']) ?? legacySource(u['provider']);
  const prompt = str(u['positive_prompt']);
  if (source === undefined && prompt === undefined) return null;
  const gen: Generation = { source: source ?? 'unknown', detected_from: 'migrate:alicemultiverse' };
  if (prompt !== undefined) gen.prompt = prompt;
  const negative = str(u['negative_prompt']);
  if (negative !== undefined) gen.negative_prompt = negative;
  const model = str(u['model']);
  if (model !== undefined && !UNDERSTANDING_MODEL.test(model)) gen.model = model;
  else if (model !== undefined)
    c.log.push(
      `understanding model "${model}" describes the image analysis, not the generator; not copied to generation.model`,
    );
  c.log.push(`generation filled from legacy fields (source "${gen.source}")`);
  return gen;
}

function baseName(path: unknown): string {
  return typeof path === 'string'
    ? path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1)
    : '';
}

function migrateTop(src: Obj, ctx: MigrationContext, c: Changes): Obj {
  const out: Obj = { ...src, version: SIDECAR_VERSION, content_hash: ctx.contentHash };
  if (src['version'] !== SIDECAR_VERSION)
    c.moved(
      'version',
      src['version'],
      `version ${JSON.stringify(src['version'] ?? null)} → "${SIDECAR_VERSION}"`,
    );
  if (src['content_hash'] !== ctx.contentHash)
    c.moved('content_hash', src['content_hash'], 'content_hash set to the file hash');
  if (typeof src['file_name'] !== 'string') {
    out['file_name'] = baseName(src['original_path']);
    c.moved('file_name', src['file_name'], `file_name set to "${String(out['file_name'])}"`);
  }
  const size = src['file_size'];
  if (!(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
    out['file_size'] = 0;
    c.moved('file_size', size, 'file_size unknown; set to 0');
  }
  if (src['updated_at'] !== undefined) c.moved('updated_at', src['updated_at'], 'updated_at set to now');
  out['updated_at'] = ctx.now;
  if (out['first_seen'] === undefined)
    out['first_seen'] = typeof src['cached_at'] === 'string' ? src['cached_at'] : ctx.now;
  const original = src['original_path'];
  if (
    out['last_paths'] === undefined &&
    typeof original === 'string' &&
    original !== '' &&
    !/^([/\\]|[A-Za-z]:)/.test(original)
  ) {
    out['last_paths'] = [original];
  }
  return out;
}

function fixOptional(
  out: Obj,
  key: string,
  valid: (v: unknown) => boolean,
  fallback: unknown,
  c: Changes,
): void {
  if (out[key] === undefined) out[key] = fallback;
  else if (!valid(out[key])) {
    c.moved(key, out[key], `invalid ${key} kept in migrated_from`);
    out[key] = fallback;
  }
}

const isHash = (v: unknown): boolean => typeof v === 'string' && HASH_RE.test(v);

/** Optional 4.0 fields: validity check and the value used when absent or invalid. */
const OPTIONAL_FIELDS: ReadonlyArray<readonly [string, (v: unknown) => boolean, () => unknown]> = [
  ['aliases', (v) => Array.isArray(v) && v.every(isHash), () => []],
  ['derived_from', (v) => v === null || isHash(v), () => null],
  [
    'perceptual',
    (v) => v === null || (isObject(v) && ['phash', 'dhash', 'ahash'].every((k) => typeof v[k] === 'string')),
    () => null,
  ],
  ['last_paths', isStringList, () => []],
  ['warnings', isStringList, () => []],
  ['media', isObject, () => ({})],
  ['generation', (v) => v === null || (isObject(v) && typeof v['source'] === 'string'), () => null],
];

/**
 * Upgrades a legacy sidecar to 4.0 (see the module comment for what is kept where). A valid 4.0
 * sidecar for `ctx.contentHash` is returned unchanged. Throws AliceError(INVALID_INPUT) for input
 * that is not a JSON object or a context hash that is not SHA-256 hex.
 */
export function migrateSidecar(legacy: unknown, ctx: MigrationContext): MigrationResult {
  if (!HASH_RE.test(ctx.contentHash))
    throw new AliceError(
      ErrorCode.INVALID_INPUT,
      `not a SHA-256 hex digest: ${ctx.contentHash.slice(0, 80)}`,
    );
  if (!isObject(legacy)) throw new AliceError(ErrorCode.INVALID_INPUT, 'legacy sidecar is not a JSON object');
  const src = structuredClone(legacy);
  const current = checkSidecar(src, ctx.contentHash);
  if (current.ok) return { sidecar: current.sidecar, changes: [] };
  const c = new Changes();
  if (src[MIGRATION_KEY] !== undefined)
    c.moved(MIGRATION_KEY, src[MIGRATION_KEY], 'earlier migrated_from kept inside the new one');
  const out = migrateTop(src, ctx, c);
  const analysis = migrateAnalysis(src['analysis'], String(out['file_name']), c);
  out['analysis'] = analysis;
  for (const [key, valid, fallback] of OPTIONAL_FIELDS) fixOptional(out, key, valid, fallback(), c);
  fixOptional(out, 'first_seen', (v) => typeof v === 'string', ctx.now, c);
  if (out['generation'] === null) out['generation'] = legacyGeneration(analysis, c);
  out[MIGRATION_KEY] = { version: src['version'] ?? null, at: ctx.now, values: c.values };
  const checked = checkSidecar(out, ctx.contentHash);
  // Every field checkSidecar looks at was normalised above, so a failure here is a bug, not bad input.
  if (!checked.ok) throw new Error(`sidecar migration produced an invalid sidecar: ${checked.reason}`);
  return { sidecar: checked.sidecar, changes: c.log };
}
