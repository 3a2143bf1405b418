/**
 * Pure merge rules of `alice migrate`: a legacy sidecar meeting an existing 4.0 one, a migrated
 * sidecar meeting what a fresh analysis of its file found, and a database record meeting a sidecar.
 * Each rule only adds: a value already in the sidecar is never replaced, except a `generation`
 * that was guessed from legacy fields, which the file's own embedded metadata replaces.
 */
import type { ImportedRecord } from '../../domain/record-import.js';
import type { Sidecar } from '../../domain/sidecar.js';
import { MIGRATION_KEY } from '../../domain/sidecar-migrations.js';
import { hasTag, tagKey, type Tag, type TagsByCategory } from '../../domain/tags.js';
import type { Analysis, TaggedValue } from '../../ports.js';

/** Tag source recorded for tags that came from a database export. */
export const IMPORT_TAG_SOURCE = 'import';

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Copies keys of `from` that `into` lacks (or holds as null), recursing into plain objects. */
function fillMissing(into: Obj, from: Obj): Obj {
  const out: Obj = { ...into };
  for (const [key, value] of Object.entries(from)) {
    const have = out[key];
    if (have === undefined || have === null) out[key] = value;
    else if (isObject(have) && isObject(value)) out[key] = fillMissing(have, value);
  }
  return out;
}

/** Adds tags the sidecar lacks; returns the new tags, sources and how many were added. */
function addTagsWithSource(
  tags: TagsByCategory,
  sources: Record<string, string>,
  add: readonly TaggedValue[],
): { tags: TagsByCategory; sources: Record<string, string>; added: number } {
  const nextTags: TagsByCategory = Object.fromEntries(Object.entries(tags).map(([c, v]) => [c, [...v]]));
  const nextSources = { ...sources };
  let added = 0;
  for (const tag of add) {
    if (tag.value.trim() === '' || hasTag(nextTags, tag)) continue;
    (nextTags[tag.category] ??= []).push(tag.value);
    nextSources[tagKey(tag)] ??= tag.source;
    added++;
  }
  return { tags: nextTags, sources: nextSources, added };
}

function withTags(sidecar: Sidecar, add: readonly TaggedValue[]): { sidecar: Sidecar; added: number } {
  const u = sidecar.analysis.understanding;
  const r = addTagsWithSource(u.tags, u.tag_sources ?? {}, add);
  if (r.added === 0) return { sidecar, added: 0 };
  return {
    sidecar: {
      ...sidecar,
      analysis: { ...sidecar.analysis, understanding: { ...u, tags: r.tags, tag_sources: r.sources } },
    },
    added: r.added,
  };
}

function tagged(tags: TagsByCategory, sources: Record<string, string>, fallback: string): TaggedValue[] {
  return Object.entries(tags).flatMap(([category, values]) =>
    values.map((value) => ({ category, value, source: sources[tagKey({ category, value })] ?? fallback })),
  );
}

/** Leaves of `legacy` (raw JSON) where `current` holds a different, non-null value: dotted path → legacy value. */
function conflicts(legacy: Obj, current: Obj, prefix = ''): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(legacy)) {
    const at = `${prefix}${key}`;
    const have = current[key];
    if (have === undefined || have === null) continue;
    if (isObject(value) && isObject(have)) Object.assign(out, conflicts(value, have, `${at}.`));
    else if (JSON.stringify(value) !== JSON.stringify(have)) out[at] = value;
  }
  return out;
}

/**
 * A legacy flat sidecar whose sharded path already holds a valid 4.0 sidecar: the 4.0 document
 * wins field by field; the legacy one adds only what the 4.0 one lacks (keys absent or null, at
 * any depth) and tags it does not have. Legacy values that lost to a 4.0 value are recorded in
 * `migrated_from.values` like any other changed field (an earlier `migrated_from` of the 4.0
 * sidecar is kept there too), so the merged document still holds every legacy value.
 * `legacyRaw` is the legacy JSON as read, `legacy` its migrated form.
 */
export function mergeLegacyInto(current: Sidecar, legacy: Sidecar, legacyRaw: Obj): Sidecar {
  const filled = fillMissing(current, legacy) as Sidecar;
  const legacyFrom = isObject(legacy[MIGRATION_KEY]) ? legacy[MIGRATION_KEY] : {};
  const values: Obj = {
    ...(isObject(legacyFrom['values']) ? legacyFrom['values'] : {}),
    ...conflicts(legacyRaw, current),
  };
  if (current[MIGRATION_KEY] !== undefined) values[MIGRATION_KEY] = current[MIGRATION_KEY];
  filled[MIGRATION_KEY] = { ...legacyFrom, values, merged_into_existing: true };
  if (legacy.updated_at !== undefined) filled.updated_at = legacy.updated_at;
  const u = legacy.analysis.understanding;
  return withTags(filled, tagged(u.tags, u.tag_sources ?? {}, 'migrate')).sidecar;
}

/** True when `generation` was only guessed from legacy sidecar fields (not read from the file). */
export function isGuessedGeneration(sidecar: Sidecar): boolean {
  const g = sidecar.generation;
  return g === null || g === undefined || g.detected_from.startsWith('migrate:');
}

/**
 * Adds what a fresh analysis of the asset's file found to a migrated sidecar, so it holds what a
 * scan would have written (dimensions, perceptual hashes, embedded facts, generation metadata):
 * existing values win, except a guessed `generation`, which the file's embedded metadata replaces
 * (the legacy prompt stays in `analysis.understanding.positive_prompt`).
 */
export function enrichFromAnalysis(
  sidecar: Sidecar,
  analysis: Analysis,
  file: { mime: string; format: string },
): Sidecar {
  let out: Sidecar = {
    ...sidecar,
    media: { mime: file.mime, format: file.format, ...analysis.media, ...(sidecar.media ?? {}) },
    perceptual: sidecar.perceptual ?? analysis.perceptual,
  };
  if (out.embedded_metadata === undefined && Object.keys(analysis.embeddedMetadata).length > 0)
    out.embedded_metadata = analysis.embeddedMetadata;
  // A file-name guess (`00012-1234.png` → automatic1111) is weaker than what the legacy file recorded.
  const fromFile = analysis.generation;
  const weak = fromFile?.detected_from === 'filename' && (out.generation ?? null) !== null;
  if (fromFile !== null && !weak && isGuessedGeneration(out)) out.generation = fromFile;
  const u = out.analysis.understanding;
  if ((u.description ?? null) === null && analysis.description !== null)
    out = {
      ...out,
      analysis: { ...out.analysis, understanding: { ...u, description: analysis.description } },
    };
  out = withTags(out, analysis.tags).sidecar;
  const warnings = [...(out.warnings ?? [])];
  for (const w of analysis.warnings) if (!warnings.includes(w)) warnings.push(w);
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

/**
 * Applies one database record to a sidecar: tags the sidecar lacks are added (source `import`),
 * description and prompts fill only empty places. Returns the sidecar and what changed; an empty
 * list means the record added nothing (so a second import is a no-op).
 */
export function applyRecord(
  sidecar: Sidecar,
  record: ImportedRecord,
  now: string,
): { sidecar: Sidecar; changes: string[] } {
  const changes: string[] = [];
  const tags = withTags(
    sidecar,
    record.tags.map((t: Tag) => ({ ...t, source: IMPORT_TAG_SOURCE })),
  );
  let out = tags.sidecar;
  if (tags.added > 0) changes.push(`tags +${tags.added}`);
  const u = out.analysis.understanding;
  if (record.description !== undefined && (u.description ?? null) === null) {
    out = { ...out, analysis: { ...out.analysis, understanding: { ...u, description: record.description } } };
    changes.push('description');
  }
  const gen = out.generation ?? null;
  const prompt = record.prompt;
  const negative = record.negativePrompt;
  if (gen === null && (prompt !== undefined || negative !== undefined)) {
    out = {
      ...out,
      generation: {
        source: 'unknown',
        detected_from: 'import',
        ...(prompt === undefined ? {} : { prompt }),
        ...(negative === undefined ? {} : { negative_prompt: negative }),
      },
    };
    changes.push('generation');
  } else if (gen !== null) {
    const next = { ...gen };
    if (prompt !== undefined && gen.prompt === undefined) next.prompt = prompt;
    if (negative !== undefined && gen.negative_prompt === undefined) next.negative_prompt = negative;
    if (next.prompt !== gen.prompt || next.negative_prompt !== gen.negative_prompt) {
      out = { ...out, generation: next };
      changes.push('generation.prompt');
    }
  }
  if (changes.length > 0) out = { ...out, updated_at: now };
  return { sidecar: out, changes };
}
