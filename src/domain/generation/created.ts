/**
 * When the generator made an image, from what it recorded in the file besides EXIF/XMP dates (those
 * are the embedded creation date, read first): the PNG `Creation Time` text (a keyword of the PNG
 * specification, RFC 1123 there, ISO 8601 or EXIF style in practice) and the `tIME` chunk, which
 * the encoder stamps when it writes the image. A1111 and ComfyUI (PIL) write neither; encoders
 * such as ImageMagick, GIMP and Photoshop write `tIME`. Pure.
 */
import { exifDateToIso } from '../exiftool-json.js';

const RFC1123 = /^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}(:\d{2})? ?(GMT|UTC|Z|[+-]\d{4})$/;
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A `Creation Time` text as ISO 8601, or undefined when it is not a date alice can read. */
export function parseCreationTime(value: string): string | undefined {
  const v = value.trim();
  const exif = exifDateToIso(v);
  if (exif !== undefined) return exif;
  if (RFC1123.test(v) || ISO.test(v)) {
    const ms = Date.parse(v.replace(' ', ISO.test(v) ? 'T' : ' '));
    if (Number.isNaN(ms)) return undefined;
    // Without a zone an ISO time is local, as EXIF's is: kept as written.
    return ISO.test(v) && !/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v.replace(' ', 'T') : new Date(ms).toISOString();
  }
  return undefined;
}

/** The generator's timestamp: `Creation Time` first (it says what it is), then `tIME`. */
export function generatorTime(
  pngText: Readonly<Record<string, string>> | undefined,
  pngTime: string | undefined,
): string | undefined {
  const text = pngText?.['Creation Time'] ?? pngText?.['creation time'];
  const parsed = text === undefined ? undefined : parseCreationTime(text);
  return parsed ?? pngTime;
}
