/**
 * exiftool's JSON output (`-j -G1 -n -api StructFormat=JSONQ`) mapped to {@link EmbeddedRead}.
 * Pure: no I/O. See docs/embedded-metadata.md.
 */
import { EmbedField, flatKeywordSources, type EmbeddedRead } from './embedded-metadata.js';

const LIST_FIELDS: ReadonlySet<string> = new Set([
  EmbedField.SUBJECT,
  EmbedField.HIERARCHICAL,
  EmbedField.DIGIKAM_TAGS,
  EmbedField.IPTC_KEYWORDS,
]);

/** Longest string kept in `raw` (generation workflows can be large; blobs are never read). */
export const RAW_STRING_CAP = 1024 * 1024;

type Entries = ReadonlyMap<string, readonly (readonly [key: string, value: unknown])[]>;

/** Indexes exiftool's `Group:Tag` keys by tag name, keeping exiftool's order. */
function byTagName(json: Readonly<Record<string, unknown>>): Entries {
  const out = new Map<string, (readonly [string, unknown])[]>();
  for (const [key, value] of Object.entries(json)) {
    const name = key.slice(key.indexOf(':') + 1);
    const list = out.get(name) ?? [];
    list.push([key, value]);
    out.set(name, list);
  }
  return out;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function list(value: unknown): string[] {
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  return items.map(text).filter((v): v is string => v !== undefined);
}

function num(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  return Number.isFinite(n) && value !== '' ? n : undefined;
}

/** The first value among `keys` (exact `Group:Tag`) or, for bare names, any group. */
function firstOf<T>(
  json: Readonly<Record<string, unknown>>,
  idx: Entries,
  keys: readonly string[],
  conv: (v: unknown) => T | undefined,
): T | undefined {
  for (const key of keys) {
    const candidates = key.includes(':') ? [[key, json[key]] as const] : (idx.get(key) ?? []);
    for (const [, value] of candidates) {
      const out = conv(value);
      if (out !== undefined) return out;
    }
  }
  return undefined;
}

/**
 * Converts an exiftool date (`2024:01:02 03:04:05[.123][+01:00]`) to ISO 8601. `assumeUtc` is for
 * QuickTime, whose dates are UTC by specification. Zero dates (`0000:00:00`) mean unset.
 */
export function exifDateToIso(value: unknown, assumeUtc = false): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?/.exec(
    value.trim(),
  );
  if (m === null || m[1] === '0000' || m[2] === '00') return undefined;
  const base = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}`;
  const zone = m[8] ?? (assumeUtc ? 'Z' : '');
  return base + (zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone);
}

/** Date tags in order of preference, each with the EXIF 2.31 offset tag that completes it. */
const DATE_SOURCES: readonly (readonly [date: string, offset?: string])[] = [
  ['ExifIFD:DateTimeOriginal', 'ExifIFD:OffsetTimeOriginal'],
  ['XMP-exif:DateTimeOriginal'],
  ['ExifIFD:CreateDate', 'ExifIFD:OffsetTimeDigitized'],
  ['XMP-xmp:CreateDate'],
  ['XMP-photoshop:DateCreated'],
  ['Keys:CreationDate'],
];

function createdFrom(json: Readonly<Record<string, unknown>>, idx: Entries): string | undefined {
  for (const [key, offsetKey] of DATE_SOURCES) {
    const offset = offsetKey === undefined ? undefined : text(json[offsetKey])?.trim();
    const value = text(json[key]);
    const withOffset =
      value !== undefined && offset !== undefined && /^[+-]\d{2}:\d{2}$/.test(offset)
        ? value + offset
        : value;
    const iso = exifDateToIso(withOffset);
    if (iso !== undefined) return iso;
  }
  return firstOf(
    json,
    idx,
    ['QuickTime:CreateDate', 'QuickTime:MediaCreateDate', 'Track1:MediaCreateDate'],
    (v) => exifDateToIso(v, true),
  );
}

function dimensionsFrom(
  json: Readonly<Record<string, unknown>>,
  idx: Entries,
): { width?: number; height?: number } {
  const size = text(json['Composite:ImageSize'])?.split(/[ x]/).map(Number);
  if (size !== undefined && size.length === 2 && size.every((n) => Number.isFinite(n) && n > 0)) {
    return { width: size[0] as number, height: size[1] as number };
  }
  const width = firstOf(json, idx, ['ImageWidth'], num);
  const height = firstOf(json, idx, ['ImageHeight'], num);
  return { ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }) };
}

/** Tag names generation parsers read; all `PNG:` text chunks are kept too. */
const RAW_NAMES: ReadonlySet<string> = new Set([
  'Invokeai_metadata',
  'InvokeaiMetadata',
  'Sd-metadata',
  'SdMetadata',
  'Dream',
  'UserComment',
  'Software',
  'Description',
  'Comment',
  'Source',
  'ImageDescription',
  'Parameters',
  'Title',
  'Author',
  'Caption-Abstract',
  'CreatorTool',
  'Prompt',
  'Workflow',
  'Make',
  'Model',
  'Artist',
  'Encoder',
  'DigitalSourceType',
  'JUMDLabel',
]);
const RAW_PREFIXES: readonly string[] = [
  'ClaimGenerator',
  'ActionsSoftwareAgent',
  'ActionsDigitalSourceType',
  'ActionsAction',
];
const PNG_STRUCTURAL: ReadonlySet<string> = new Set([
  'ImageWidth',
  'ImageHeight',
  'BitDepth',
  'ColorType',
  'Compression',
  'Filter',
  'Interlace',
]);

function wantedRaw(key: string): boolean {
  const colon = key.indexOf(':');
  const group = key.slice(0, colon);
  const name = key.slice(colon + 1);
  if (group === 'PNG') return !PNG_STRUCTURAL.has(name);
  return RAW_NAMES.has(name) || RAW_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * Keyed by bare tag name, as the generation parsers (src/domain/generation) look them up; when
 * several groups hold the same name, the first in exiftool's output wins.
 */
function rawFrom(json: Readonly<Record<string, unknown>>, warnings: string[]): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const name = key.slice(key.indexOf(':') + 1);
    if (!key.includes(':') || !wantedRaw(key) || name in raw) continue;
    if (typeof value === 'string' && value.startsWith('(Binary data ')) continue;
    if (typeof value === 'string' && value.length > RAW_STRING_CAP) {
      raw[name] = value.slice(0, RAW_STRING_CAP);
      warnings.push(`${key} truncated to ${RAW_STRING_CAP} characters`);
    } else {
      raw[name] = value;
    }
  }
  return raw;
}

function fieldsFrom(json: Readonly<Record<string, unknown>>): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const field of Object.values(EmbedField)) {
    const value = json[field];
    if (value === undefined || value === null) continue;
    if (LIST_FIELDS.has(field)) fields[field] = list(value);
    else if (typeof value === 'string' || typeof value === 'number') fields[field] = String(value);
  }
  return fields;
}

function dedupe(values: Iterable<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    const key = v.normalize('NFC').toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

/** Where each scalar fact is looked up, most trusted first (bare names: any group). */
const TEXT_SOURCES = {
  description: [
    EmbedField.XMP_DESCRIPTION,
    EmbedField.EXIF_DESCRIPTION,
    EmbedField.IPTC_CAPTION,
    EmbedField.ITEMLIST_DESCRIPTION,
    EmbedField.KEYS_DESCRIPTION,
    'XMP-tiff:ImageDescription',
    'PNG:Description',
  ],
  title: ['XMP-dc:Title', 'IPTC:ObjectName', 'ItemList:Title', 'Keys:Title', 'PNG:Title'],
  software: ['IFD0:Software', 'XMP-xmp:CreatorTool', 'PNG:Software', 'Software', 'ItemList:Encoder'],
} as const;
const NUMBER_SOURCES = {
  rating: ['XMP-xmp:Rating', 'IFD0:Rating', 'Rating'],
  duration: ['QuickTime:Duration', 'Composite:Duration', 'Duration'],
} as const;

type Facts = Pick<
  EmbeddedRead,
  'description' | 'title' | 'software' | 'rating' | 'duration' | 'created' | 'width' | 'height'
>;

function scalarFacts(json: Readonly<Record<string, unknown>>, idx: Entries): Facts {
  const facts: Record<string, string | number> = {};
  for (const [name, keys] of Object.entries(TEXT_SOURCES)) {
    const value = firstOf(json, idx, keys, text);
    if (value !== undefined) facts[name] = name === 'description' ? value.trim() : value;
  }
  for (const [name, keys] of Object.entries(NUMBER_SOURCES)) {
    const value = firstOf(json, idx, keys, num);
    if (value !== undefined) facts[name] = value;
  }
  const created = createdFrom(json, idx);
  if (created !== undefined) facts['created'] = created;
  return { ...(facts as Facts), ...dimensionsFrom(json, idx) };
}

/** Maps one exiftool JSON object (from `-j -G1 -n -api StructFormat=JSONQ`) to what alice reads. */
export function embeddedFromExiftool(json: Readonly<Record<string, unknown>>): EmbeddedRead {
  const idx = byTagName(json);
  const rawWarnings: string[] = [];
  const raw = rawFrom(json, rawWarnings);
  const warnings = [...list(json['warnings']), ...list(json['ExifTool:Warning']), ...rawWarnings];
  const fields = fieldsFrom(json);
  const hash = text(json[EmbedField.CONTENT_HASH])?.trim().toLowerCase();
  const fileType = text(json['File:FileType']);
  return {
    ...(fileType === undefined ? {} : { fileType }),
    fields,
    keywords: dedupe(flatKeywordSources(fields).flatMap(([, values]) => values)),
    hierarchicalKeywords: list(json[EmbedField.HIERARCHICAL]),
    ...scalarFacts(json, idx),
    ...(hash !== undefined && /^[0-9a-f]{64}$/.test(hash) ? { contentHash: hash } : {}),
    warnings: dedupe(warnings),
    raw,
  };
}
