/**
 * A cheap look at a file's header to decide whether exiftool has anything to read: JPEG segments
 * before the image data, the WebP extended header, PNG chunk types and text keywords. Pure: the
 * adapter (src/adapters/metadata-probe.adapter.ts) reads the bytes.
 *
 * `none` means the container holds no EXIF, XMP, IPTC, comment or other metadata exiftool would
 * report beyond the file type and size; `some` that it might; `unknown` that the header could not
 * be parsed (read it with exiftool, which also reports what is wrong).
 */
import type { EmbeddedRead } from './embedded-metadata.js';
import { embeddedFromExiftool } from './exiftool-json.js';
import { ascii, u16be, u24le, u32be } from './bytes.js';
import { isFrameMarker, jpegSegments } from './jpeg-segments.js';

export type MetadataVerdict =
  | { readonly kind: 'none'; readonly fileType: string; readonly width?: number; readonly height?: number }
  | { readonly kind: 'some' | 'unknown' };

const SOME = Object.freeze({ kind: 'some' as const });
const UNKNOWN = Object.freeze({ kind: 'unknown' as const });

/** JPEG segments that carry no metadata exiftool reports: JFIF (APP0), ICC (APP2), Adobe (APP14). */
const PLAIN_JPEG_APPS = new Set([0xe0, 0xe2, 0xee]);

/**
 * JPEG: walks the segments from SOI to the first SOS (metadata segments always come before the
 * image data). APP1 (EXIF, XMP), APP13 (IPTC), COM and any other APPn mean `some`. `head` must
 * hold the start of the file; a walk that runs past it is `unknown`.
 */
export function jpegVerdict(head: Uint8Array): MetadataVerdict {
  if (head[0] !== 0xff || head[1] !== 0xd8) return UNKNOWN;
  let width: number | undefined;
  let height: number | undefined;
  const walk = jpegSegments(head);
  for (let step = walk.next(); ; step = walk.next()) {
    if (step.done === true) {
      if (step.value !== 'sos') return UNKNOWN;
      return width === undefined || height === undefined
        ? { kind: 'none', fileType: 'JPEG' }
        : { kind: 'none', fileType: 'JPEG', width, height };
    }
    const { marker, at } = step.value;
    if (marker === 0xfe || (marker >= 0xe0 && marker <= 0xef && !PLAIN_JPEG_APPS.has(marker))) return SOME;
    if (isFrameMarker(marker)) {
      if (at + 9 > head.length) return UNKNOWN;
      height = u16be(head, at + 5);
      width = u16be(head, at + 7);
    }
  }
}

/**
 * WebP: the simple formats (`VP8 `, `VP8L`) cannot carry EXIF or XMP; the extended one (`VP8X`)
 * says in its flags whether it does. Needs the first 30 bytes.
 */
export function webpVerdict(head: Uint8Array): MetadataVerdict {
  if (head.length < 30 || ascii(head, 0, 4) !== 'RIFF' || ascii(head, 8, 4) !== 'WEBP') return UNKNOWN;
  const chunk = ascii(head, 12, 4);
  // exiftool's file type names: lossless WebP is "WEBP (lossless)".
  if (chunk === 'VP8 ') return { kind: 'none', fileType: 'WEBP' };
  if (chunk === 'VP8L') return { kind: 'none', fileType: 'WEBP (lossless)' };
  if (chunk !== 'VP8X') return UNKNOWN;
  const flags = head[20] ?? 0;
  // 0x08 EXIF, 0x04 XMP, 0x02 animation (exiftool reports frames and durations), 0x20 ICC profile.
  if ((flags & 0x0e) !== 0) return SOME;
  if ((flags & 0x20) !== 0) return UNKNOWN;
  return { kind: 'none', fileType: 'Extended WEBP', width: u24le(head, 24) + 1, height: u24le(head, 27) + 1 };
}

/**
 * PNG text keywords exiftool turns into facts alice keeps (PNG `Title`, `Description`,
 * `Software`, and the bare `Rating`/`Duration` names), compared case-insensitively, and the text
 * chunks that wrap other metadata (`XML:com.adobe.xmp`, ImageMagick's `Raw profile type …`).
 * Every other text chunk (generation parameters, ComfyUI graphs, comments) alice reads itself
 * with its own PNG reader (src/adapters/png-text.adapter.ts), so exiftool adds nothing for them.
 */
const EXIFTOOL_TEXT_KEYWORDS: ReadonlySet<string> = new Set([
  'title',
  'description',
  'software',
  'rating',
  'duration',
  'xml:com.adobe.xmp',
]);

/** Does exiftool make anything alice keeps out of a PNG text chunk with this keyword? */
export function isExiftoolTextKeyword(keyword: string): boolean {
  const k = keyword.toLowerCase();
  return EXIFTOOL_TEXT_KEYWORDS.has(k) || k.startsWith('raw profile type');
}

/** PNG chunks that carry pixels, colour or layout, never metadata alice reads. */
const PLAIN_PNG_CHUNKS = new Set([
  'IHDR',
  'PLTE',
  'IDAT',
  'IEND',
  'tRNS',
  'gAMA',
  'cHRM',
  'sRGB',
  'iCCP',
  'sBIT',
  'bKGD',
  'hIST',
  'pHYs',
  'sPLT',
  'tIME',
  'acTL',
  'fcTL',
  'fdAT',
]);

/** One PNG chunk as the adapter saw it: its type and, for text chunks, the keyword. */
export interface PngChunkSeen {
  readonly type: string;
  readonly keyword?: string;
}

/**
 * PNG: `none` when every chunk is a plain one or a text chunk alice reads itself; eXIf, text
 * that exiftool turns into facts or metadata ({@link isExiftoolTextKeyword}), C2PA `caBX` and
 * unknown ancillary chunks are `some`. `complete`:
 * the walk reached IEND without a malformed chunk.
 */
export function pngVerdict(
  chunks: readonly PngChunkSeen[],
  complete: boolean,
  ihdr?: Uint8Array,
): MetadataVerdict {
  if (!complete || chunks[0]?.type !== 'IHDR') return UNKNOWN;
  for (const c of chunks) {
    if (PLAIN_PNG_CHUNKS.has(c.type)) continue;
    const text = c.type === 'tEXt' || c.type === 'zTXt' || c.type === 'iTXt';
    if (!text || c.keyword === undefined || isExiftoolTextKeyword(c.keyword)) return SOME;
  }
  return ihdr !== undefined && ihdr.length >= 8
    ? { kind: 'none', fileType: 'PNG', width: u32be(ihdr, 0), height: u32be(ihdr, 4) }
    : { kind: 'none', fileType: 'PNG' };
}

/**
 * What exiftool would have returned for a file the header says holds no metadata: its type and,
 * when the header gives them, its dimensions; no fields, keywords, dates or raw tags.
 */
export function embeddedFromHeader(v: Extract<MetadataVerdict, { kind: 'none' }>): EmbeddedRead {
  return {
    ...embeddedFromExiftool({ 'File:FileType': v.fileType }),
    ...(v.width === undefined ? {} : { width: v.width }),
    ...(v.height === undefined ? {} : { height: v.height }),
  };
}
