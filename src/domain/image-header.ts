/**
 * What an image decode needs to know before it starts (format, displayed size, alpha), read from
 * the header of a PNG, JPEG or WebP held in memory: the same facts libvips reports (sharp's
 * `metadata()`), without a second parse of the file by libvips per image. Anything that could
 * make libvips see it differently (EXIF orientation, animation, an unusual coding, a malformed
 * header) gives undefined, and the caller asks libvips. Pure.
 */
import { ascii, u16be, u24le, u32be } from './bytes.js';
import { isFrameMarker, jpegSegments } from './jpeg-segments.js';

export interface DecodeFacts {
  /** sharp's format name. */
  readonly format: 'png' | 'jpeg' | 'webp';
  /** Displayed size (the files taken here have no orientation to apply). */
  readonly width: number;
  readonly height: number;
  readonly hasAlpha: boolean;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function decodeFacts(bytes: Uint8Array): DecodeFacts | undefined {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return pngFacts(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegFacts(bytes);
  if (bytes.length >= 30 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP')
    return webpFacts(bytes);
  return undefined;
}

/**
 * PNG: IHDR's size and colour type; alpha from the colour type or a tRNS chunk (grey with tRNS is
 * left to libvips). Every chunk header
 * is walked (the bytes are in memory): an eXIf chunk anywhere (orientation) or an APNG acTL gives
 * undefined, as does a walk that does not reach IEND in order.
 */
function pngFacts(b: Uint8Array): DecodeFacts | undefined {
  if (u32be(b, 8) !== 13 || ascii(b, 12, 4) !== 'IHDR') return undefined;
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  const depth = b[24] ?? 0;
  const colour = b[25] ?? 255;
  if (width === 0 || height === 0 || ![1, 2, 4, 8, 16].includes(depth)) return undefined;
  if (![0, 2, 3, 4, 6].includes(colour)) return undefined;
  let alpha = colour === 4 || colour === 6;
  let at = 8;
  while (at + 12 <= b.length) {
    const length = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    if (type === 'eXIf' || type === 'acTL') return undefined;
    if (type === 'tRNS') {
      // A transparent colour (RGB) or palette alphas make alpha in libvips; a grey one, or a chunk
      // of the wrong length, is left to libvips.
      if (!((colour === 2 && length === 6) || (colour === 3 && length >= 1 && length <= 256)))
        return undefined;
      alpha = true;
    }
    if (type === 'IEND') return { format: 'png', width, height, hasAlpha: alpha };
    at += 12 + length;
  }
  return undefined;
}

/**
 * JPEG: the frame header's size, from segments before the first scan. Only baseline, extended and
 * progressive Huffman frames (what libjpeg decodes); any APP1 (EXIF, where orientation lives, or
 * XMP) gives undefined. JPEG has no alpha.
 */
function jpegFacts(b: Uint8Array): DecodeFacts | undefined {
  let size: { width: number; height: number } | undefined;
  const walk = jpegSegments(b);
  for (let step = walk.next(); ; step = walk.next()) {
    if (step.done === true)
      return step.value === 'sos' && size !== undefined
        ? { format: 'jpeg', ...size, hasAlpha: false }
        : undefined;
    const { marker, at, length } = step.value;
    if (length === 0 || marker === 0xd8 || marker === 0xe1) return undefined;
    if (isFrameMarker(marker)) {
      if (marker > 0xc2 || size !== undefined || at + 9 > b.length) return undefined;
      const height = u16be(b, at + 5);
      const width = u16be(b, at + 7);
      if (width === 0 || height === 0) return undefined;
      size = { width, height };
    }
  }
}

/**
 * WebP: the lossy (`VP8 `) or lossless (`VP8L`) bitstream header, or the extended header's canvas
 * and alpha flag. Animation or EXIF in the extended header gives undefined.
 */
function webpFacts(b: Uint8Array): DecodeFacts | undefined {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ') {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height (2 scale bits each).
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    const width = ((b[26] ?? 0) | ((b[27] ?? 0) << 8)) & 0x3fff;
    const height = ((b[28] ?? 0) | ((b[29] ?? 0) << 8)) & 0x3fff;
    return width === 0 || height === 0 ? undefined : { format: 'webp', width, height, hasAlpha: false };
  }
  if (chunk === 'VP8L') {
    // Signature 0x2f, then width - 1 and height - 1 (14 bits each), alpha_is_used, version (3 bits).
    if (b[20] !== 0x2f) return undefined;
    const bits = (b[21] ?? 0) | ((b[22] ?? 0) << 8) | ((b[23] ?? 0) << 16) | ((b[24] ?? 0) << 24);
    if (bits >>> 29 !== 0) return undefined;
    return {
      format: 'webp',
      width: (bits & 0x3fff) + 1,
      height: ((bits >>> 14) & 0x3fff) + 1,
      hasAlpha: ((bits >>> 28) & 1) === 1,
    };
  }
  if (chunk === 'VP8X') {
    const flags = b[20] ?? 0;
    if ((flags & 0x0a) !== 0) return undefined;
    return {
      format: 'webp',
      width: u24le(b, 24) + 1,
      height: u24le(b, 27) + 1,
      hasAlpha: (flags & 0x10) !== 0,
    };
  }
  return undefined;
}
