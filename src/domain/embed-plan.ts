/**
 * What alice writes into a file for an asset's tags and description, per format, and whether a
 * file already holds it. Pure: no I/O. See docs/embedded-metadata.md.
 */
import { EmbedField, hierarchyLevels, tagFromHierarchy, type EmbeddedRead } from './embedded-metadata.js';
import { DEFAULT_TAG_CATEGORY, type Tag } from './tags.js';

/** What the sidecar says the file should carry. */
export interface EmbedIntent {
  readonly tags: readonly Tag[];
  /** `undefined` leaves descriptions in the file alone, `null` (or blank) removes them. */
  readonly description?: string | null;
  /** The asset's original content hash, written to XMP-alice:ContentHash. */
  readonly contentHash: string;
}

/** The outcome of one embed, a value the caller records in the sidecar, the index and the log. */
export type EmbedResult =
  | { status: 'written'; newHash: string; warnings: string[] }
  | { status: 'current' }
  | { status: 'sidecar_only'; reason: string }
  | { status: 'failed'; reason: string; warnings: string[] };

/** Embedding settings (`embedding.*` in settings.yaml). */
export interface EmbeddingSettings {
  /** Write tags and descriptions into files at all. Default true. */
  readonly enabled: boolean;
  /** Formats (`jpeg`, `png`, `webp`, `heic`, `heif`, `avif`, `mp4`, `mov`, `m4v`) kept sidecar-only. Default none. */
  readonly disabled_formats: readonly string[];
  /** Keep the file's modification time when alice rewrites it. Default true. */
  readonly preserve_mtime: boolean;
}

export const DEFAULT_EMBEDDING_SETTINGS: EmbeddingSettings = Object.freeze({
  enabled: true,
  disabled_formats: Object.freeze([]),
  preserve_mtime: true,
});

/** Which families of fields a writable format gets. */
interface FormatWriter {
  readonly exif: boolean;
  readonly iptc: boolean;
  readonly quicktime: boolean;
}

/** alice format name → what is written. Everything gets XMP. */
const WRITERS: Readonly<Record<string, FormatWriter>> = {
  jpeg: { exif: true, iptc: true, quicktime: false },
  png: { exif: true, iptc: false, quicktime: false },
  webp: { exif: true, iptc: false, quicktime: false },
  heic: { exif: true, iptc: false, quicktime: false },
  heif: { exif: true, iptc: false, quicktime: false },
  avif: { exif: true, iptc: false, quicktime: false },
  mp4: { exif: false, iptc: false, quicktime: true },
  mov: { exif: false, iptc: false, quicktime: true },
  m4v: { exif: false, iptc: false, quicktime: true },
};

/** exiftool `File:FileType` → alice format name (the file's content decides, not its name). */
const FILE_TYPES: Readonly<Record<string, string>> = {
  JPEG: 'jpeg',
  PNG: 'png',
  WEBP: 'webp',
  'EXTENDED WEBP': 'webp',
  HEIC: 'heic',
  HEIF: 'heif',
  AVIF: 'avif',
  MP4: 'mp4',
  MOV: 'mov',
  M4V: 'm4v',
  GIF: 'gif',
  BMP: 'bmp',
  TIFF: 'tiff',
  MKV: 'mkv',
  WEBM: 'webm',
  MP3: 'mp3',
  WAV: 'wav',
  FLAC: 'flac',
  M4A: 'm4a',
  OGG: 'ogg',
};

/** The alice format of a file read by exiftool, or undefined when exiftool did not recognise it. */
export function formatOfFileType(fileType: string | undefined): string | undefined {
  return fileType === undefined ? undefined : FILE_TYPES[fileType.toUpperCase()];
}

export type EmbedSupport = { writable: true; format: string } | { writable: false; reason: string };

/** Whether alice writes into files of this format under these settings, and if not, why. */
export function embedSupport(
  format: string | undefined,
  settings: Pick<EmbeddingSettings, 'enabled' | 'disabled_formats'> = DEFAULT_EMBEDDING_SETTINGS,
): EmbedSupport {
  if (!settings.enabled)
    return { writable: false, reason: 'embedding disabled in settings (embedding.enabled)' };
  if (format === undefined) return { writable: false, reason: 'file type not recognised by exiftool' };
  if (WRITERS[format] === undefined)
    return { writable: false, reason: `alice does not write metadata into ${format} files` };
  if (settings.disabled_formats.includes(format))
    return {
      writable: false,
      reason: `embedding disabled for ${format} in settings (embedding.disabled_formats)`,
    };
  return { writable: true, format };
}

/** A field value to write: a string, a list, or `null` to remove the field. */
export type PlannedValue = string | readonly string[] | null;

export interface EmbedPlan {
  /** Fields written and then checked on read-back (and by {@link isCurrent}). */
  readonly fields: Readonly<Record<string, PlannedValue>>;
  /** Written but not compared (encoding markers). */
  readonly extra: Readonly<Record<string, string>>;
  /** Why some values were left out of a field (kept in XMP). */
  readonly warnings: readonly string[];
}

/** IPTC IIM limits (bytes): longer values are left out of IPTC, never truncated. */
const IPTC_KEYWORD_MAX = 64;
const IPTC_CAPTION_MAX = 2000;

const encoder = new TextEncoder();

function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

function norm(value: string): string {
  return value.normalize('NFC').toLowerCase();
}

/**
 * Control characters other than tab, LF and CR cannot be stored in XMP (XML 1.0), and U+001F is
 * exiftool-vendored's list separator: values holding them stay in the sidecar only.
 */
export function isEmbeddable(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false;
  }
  return true;
}

function uniqueValues(tags: readonly Tag[], warnings: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const tag of tags) {
    const value = tag.value.trim();
    if (value === '' || seen.has(norm(value))) continue;
    seen.add(norm(value));
    if (isEmbeddable(value)) out.push(value);
    else warnings.push(`tag ${JSON.stringify(value)} holds control characters: kept in the sidecar only`);
  }
  return out;
}

/**
 * `category|value` for every tag outside the default category. A hierarchical keyword already in
 * the file that stands for the same tag (`places|europe|paris` for `places:paris`) is kept as is,
 * so deeper paths written by other programs survive alice's writes. A value containing `|` cannot
 * be a hierarchy level (there is no escape), so it is written to dc:subject only.
 */
function hierarchicalFor(tags: readonly Tag[], existing: readonly string[], warnings: string[]): string[] {
  const byTag = new Map<string, string>();
  for (const path of existing) {
    const tag = tagFromHierarchy(path);
    if (tag !== undefined && hierarchyLevels(path).length > 1)
      byTag.set(`${tag.category}:${norm(tag.value)}`, path);
  }
  const out: string[] = [];
  for (const tag of tags) {
    const value = tag.value.trim();
    if (tag.category === DEFAULT_TAG_CATEGORY || value === '' || !isEmbeddable(value)) continue;
    if (value.includes('|')) {
      warnings.push(`XMP-lr:HierarchicalSubject: "${value}" contains "|", written to dc:subject only`);
      continue;
    }
    const path = byTag.get(`${tag.category}:${norm(value)}`) ?? `${tag.category}|${value}`;
    if (!out.includes(path)) out.push(path);
  }
  return out;
}

/**
 * digiKam's `TagsList` for a file that has one: the hierarchical paths with `/` between levels,
 * then the values of the default category as top-level tags. digiKam reads this list before
 * lr:HierarchicalSubject and dc:subject, so a stale one would bring back tags alice removed. A
 * level holding `/` cannot be written there (it would become two levels).
 */
function digikamTagsFor(hierarchy: readonly string[], tags: readonly Tag[], warnings: string[]): string[] {
  const out: string[] = [];
  const add = (levels: readonly string[]): void => {
    if (levels.some((l) => l.includes('/'))) {
      warnings.push(`XMP-digiKam:TagsList: "${levels.join('|')}" contains "/", left out of digiKam's list`);
      return;
    }
    const path = levels.join('/');
    if (path !== '' && !out.includes(path)) out.push(path);
  };
  for (const path of hierarchy) add(hierarchyLevels(path));
  for (const tag of tags) {
    const value = tag.value.trim();
    if (tag.category === DEFAULT_TAG_CATEGORY && value !== '' && isEmbeddable(value)) add([value]);
  }
  return out;
}

function listOrNull(values: readonly string[]): PlannedValue {
  return values.length === 0 ? null : values;
}

function existingHierarchy(read: EmbeddedRead): readonly string[] {
  const v = read.fields[EmbedField.HIERARCHICAL];
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
}

type Description = string | null | undefined;

/** IPTC (JPEG): keywords and caption within the IIM length limits, marked as UTF-8. */
function iptcFields(
  values: readonly string[],
  description: Description,
  warnings: string[],
): Record<string, PlannedValue> {
  const iptc = values.filter((v) => utf8Length(v) <= IPTC_KEYWORD_MAX);
  if (iptc.length < values.length) {
    const n = values.length - iptc.length;
    warnings.push(`IPTC:Keywords: ${n} value(s) longer than ${IPTC_KEYWORD_MAX} bytes kept in XMP only`);
  }
  const fields: Record<string, PlannedValue> = { [EmbedField.IPTC_KEYWORDS]: listOrNull(iptc) };
  if (description === undefined) return fields;
  const fits = description === null || utf8Length(description) <= IPTC_CAPTION_MAX;
  if (!fits)
    warnings.push(
      `IPTC:Caption-Abstract: description longer than ${IPTC_CAPTION_MAX} bytes kept in XMP and EXIF only`,
    );
  fields[EmbedField.IPTC_CAPTION] = fits ? description : null;
  return fields;
}

/** QuickTime keywords are one string: a joined copy of dc:subject for players that read only QuickTime. */
function quickTimeFields(values: readonly string[], description: Description): Record<string, PlannedValue> {
  const fields: Record<string, PlannedValue> = {
    [EmbedField.KEYS_KEYWORDS]: values.length === 0 ? null : values.join(','),
  };
  if (description !== undefined) {
    fields[EmbedField.KEYS_DESCRIPTION] = description;
    fields[EmbedField.ITEMLIST_DESCRIPTION] = description;
  }
  return fields;
}

function plannedDescription(description: string | null | undefined, warnings: string[]): Description {
  if (description === undefined) return undefined;
  const text = description?.trim() ?? '';
  if (text === '') return null;
  if (isEmbeddable(text)) return text;
  warnings.push('description holds control characters: kept in the sidecar only');
  return undefined;
}

/** The fields to write into a file of `format` (see {@link embedSupport}) for `intent`. */
export function planEmbed(read: EmbeddedRead, intent: EmbedIntent, format: string): EmbedPlan {
  const writer = WRITERS[format];
  if (writer === undefined) throw new Error(`planEmbed: ${format} is not writable`);
  const warnings: string[] = [];
  const values = uniqueValues(intent.tags, warnings);
  const description = plannedDescription(intent.description, warnings);
  const hierarchy = hierarchicalFor(intent.tags, existingHierarchy(read), warnings);
  let fields: Record<string, PlannedValue> = {
    [EmbedField.SUBJECT]: listOrNull(values),
    [EmbedField.HIERARCHICAL]: listOrNull(hierarchy),
    [EmbedField.CONTENT_HASH]: intent.contentHash,
  };
  // Only a file digiKam already tagged gets its list kept in step; alice does not add one.
  if (read.fields[EmbedField.DIGIKAM_TAGS] !== undefined)
    fields[EmbedField.DIGIKAM_TAGS] = listOrNull(digikamTagsFor(hierarchy, intent.tags, warnings));
  if (description !== undefined) fields[EmbedField.XMP_DESCRIPTION] = description;
  if (writer.exif && description !== undefined) fields[EmbedField.EXIF_DESCRIPTION] = description;
  const extra: Record<string, string> = {};
  if (writer.iptc) {
    fields = { ...fields, ...iptcFields(values, description, warnings) };
    const iptcUsed =
      fields[EmbedField.IPTC_KEYWORDS] !== null || (fields[EmbedField.IPTC_CAPTION] ?? null) !== null;
    if (iptcUsed) extra['IPTC:CodedCharacterSet'] = 'UTF8';
  }
  if (writer.quicktime) fields = { ...fields, ...quickTimeFields(values, description) };
  return { fields, extra, warnings };
}

function sameValue(found: string | readonly string[] | undefined, want: PlannedValue): boolean {
  const have = found === undefined ? [] : typeof found === 'string' ? [found] : [...found];
  const expected = want === null ? [] : typeof want === 'string' ? [want] : [...want];
  if (typeof want === 'string') return have.length === 1 && have[0] === want;
  // Lists compare as multisets: another program reordering keywords is not a change.
  return (
    have.length === expected.length && [...have].sort().join('\u0000') === [...expected].sort().join('\u0000')
  );
}

/** The planned fields the file does not hold exactly (empty: the file is current). */
export function planMismatches(read: EmbeddedRead, plan: EmbedPlan): string[] {
  return Object.entries(plan.fields)
    .filter(([field, want]) => !sameValue(read.fields[field], want))
    .map(([field]) => field);
}

/** True when the file already holds exactly what alice would write, so nothing is rewritten. */
export function isCurrent(read: EmbeddedRead, intent: EmbedIntent, format: string): boolean {
  return planMismatches(read, planEmbed(read, intent, format)).length === 0;
}
