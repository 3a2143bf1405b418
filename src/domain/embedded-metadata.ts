/**
 * Embedded metadata as alice reads it: exiftool's JSON (`-G1 -n`, every value quoted) mapped to
 * plain facts and tags. Pure: no I/O. See docs/embedded-metadata.md.
 */
import type { TagSource } from './sidecar.js';
import { DEFAULT_TAG_CATEGORY, type Tag } from './tags.js';

/** alice's own XMP namespace: where the asset's content hash is written into a file. */
export const ALICE_XMP = {
  uri: 'https://alice.dev/ns/1.0/',
  prefix: 'alice',
  /** exiftool group (family 1) of the namespace. */
  group: 'XMP-alice',
  /** The one tag: the asset's original content hash (SHA-256, 64 lowercase hex). */
  hashTag: 'ContentHash',
} as const;

/** Group-qualified exiftool names of the fields alice reads as keywords or writes. */
export const EmbedField = {
  SUBJECT: 'XMP-dc:Subject',
  HIERARCHICAL: 'XMP-lr:HierarchicalSubject',
  /** digiKam's own tag paths (`Places/Europe/Paris`), which digiKam reads before the others. */
  DIGIKAM_TAGS: 'XMP-digiKam:TagsList',
  IPTC_KEYWORDS: 'IPTC:Keywords',
  KEYS_KEYWORDS: 'Keys:Keywords',
  XMP_DESCRIPTION: 'XMP-dc:Description',
  EXIF_DESCRIPTION: 'IFD0:ImageDescription',
  IPTC_CAPTION: 'IPTC:Caption-Abstract',
  KEYS_DESCRIPTION: 'Keys:Description',
  ITEMLIST_DESCRIPTION: 'ItemList:Description',
  CONTENT_HASH: `${ALICE_XMP.group}:${ALICE_XMP.hashTag}`,
} as const;
export type EmbedField = (typeof EmbedField)[keyof typeof EmbedField];

/** What alice reads from one file. */
export interface EmbeddedRead {
  /** exiftool's `File:FileType` (`JPEG`, `PNG`, `Extended WEBP`, `HEIC`, `MP4`, …). */
  fileType?: string;
  /** The fields alice writes, as found (lists as arrays), keyed by {@link EmbedField}. */
  fields: Readonly<Record<string, string | readonly string[]>>;
  keywords: readonly string[];
  hierarchicalKeywords: readonly string[];
  description?: string;
  title?: string;
  rating?: number;
  /** Creation time, ISO 8601 (offset kept when the file has one; `Z` for QuickTime dates). */
  created?: string;
  width?: number;
  height?: number;
  /** Seconds. */
  duration?: number;
  software?: string;
  /** The alice content hash found in the file's XMP, when it holds a valid one. */
  contentHash?: string;
  warnings: readonly string[];
  /**
   * Text fields for the generation parsers (`GenerationInput.exif`), keyed by bare exiftool tag
   * name (`Parameters`, `UserComment`, `ClaimGeneratorInfoName`…); strings capped at 1 MiB.
   */
  raw: Readonly<Record<string, unknown>>;
}

/** A tag read from a file with where it was found (`file:XMP-dc:Subject`). */
export interface SourcedTag extends Tag {
  readonly source: TagSource;
}

/**
 * The flat keywords by field, trimmed. `Keys:Keywords` (QuickTime, one comma-separated string)
 * counts only when the file has neither XMP-dc:Subject nor IPTC:Keywords: alice writes it as a
 * joined copy of dc:subject, so splitting it could not give values containing commas back.
 */
export function flatKeywordSources(fields: EmbeddedRead['fields']): [EmbedField, string[]][] {
  const clean = (values: readonly string[]): string[] => values.map((v) => v.trim()).filter((v) => v !== '');
  const asList = (v: string | readonly string[] | undefined): readonly string[] =>
    v === undefined ? [] : typeof v === 'string' ? [v] : v;
  const out: [EmbedField, string[]][] = [
    [EmbedField.SUBJECT, clean(asList(fields[EmbedField.SUBJECT]))],
    [EmbedField.IPTC_KEYWORDS, clean(asList(fields[EmbedField.IPTC_KEYWORDS]))],
  ];
  if (out.every(([, values]) => values.length === 0)) {
    const joined = fields[EmbedField.KEYS_KEYWORDS];
    out.push([EmbedField.KEYS_KEYWORDS, clean(typeof joined === 'string' ? joined.split(',') : [])]);
  }
  return out;
}

/**
 * Normalises one hierarchy level to a category name: trimmed, lowercased, whitespace runs to `-`,
 * other characters a category cannot hold dropped. Falls back to the default category.
 */
export function categoryFromLevel(level: string): string {
  const c = level
    .normalize('NFC')
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '-')
    .replace(/[^\p{L}\p{N}_-]/gu, '');
  return c.length > 0 && c.length <= 64 ? c : DEFAULT_TAG_CATEGORY;
}

/** Splits `a|b|c` into non-empty trimmed levels. */
export function hierarchyLevels(path: string): string[] {
  return path
    .split('|')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** The tag a hierarchical keyword stands for: first level = category, last level = value. */
export function tagFromHierarchy(path: string): Tag | undefined {
  const levels = hierarchyLevels(path);
  const value = levels[levels.length - 1];
  if (value === undefined) return undefined;
  if (levels.length === 1) return { category: DEFAULT_TAG_CATEGORY, value };
  return { category: categoryFromLevel(levels[0] as string), value };
}

function norm(value: string): string {
  return value.normalize('NFC').toLowerCase();
}

/**
 * The tags a file carries. A hierarchical keyword `style|cyberpunk` becomes `style:cyberpunk`
 * (deeper paths: first level = category, last level = value). A flat keyword becomes a tag in
 * {@link DEFAULT_TAG_CATEGORY}, unless the same value appears at any level of a hierarchical
 * keyword (Lightroom and digiKam also list the levels of a path in dc:subject).
 */
export function tagsFromEmbedded(read: EmbeddedRead): SourcedTag[] {
  const out: SourcedTag[] = [];
  const seen = new Set<string>();
  const add = (tag: Tag, field: EmbedField): void => {
    const key = `${tag.category}:${norm(tag.value)}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ ...tag, source: `file:${field}` });
  };
  const inHierarchy = new Set<string>();
  for (const path of read.hierarchicalKeywords) {
    for (const level of hierarchyLevels(path)) inHierarchy.add(norm(level));
    const tag = tagFromHierarchy(path);
    if (tag !== undefined) add(tag, EmbedField.HIERARCHICAL);
  }
  for (const [field, values] of flatKeywordSources(read.fields)) {
    for (const value of values) {
      if (!inHierarchy.has(norm(value))) add({ category: DEFAULT_TAG_CATEGORY, value }, field);
    }
  }
  return out;
}
