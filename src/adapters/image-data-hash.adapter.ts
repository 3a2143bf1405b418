/**
 * SHA-256 of an image's coded image data, without decoding it (as exiftool's `ImageDataHash`):
 * the parts of the file that make its pixels, none of the metadata around them. Two files that
 * differ only in EXIF, XMP, IPTC, ICC, comments or text chunks (what exiftool, digiKam or alice's
 * own embed write) have the same image hash; any change to the coded pixels gives another.
 *
 * - PNG: the chunk type and data of IHDR, PLTE, tRNS, IDAT and the APNG chunks (acTL, fcTL, fdAT).
 * - JPEG: every marker segment except APP0–APP15 and COM, and the entropy-coded data after each SOS
 *   (RST markers and stuffed bytes included), up to EOI.
 * - WebP: the fourcc and data of VP8, VP8L, ALPH, ANIM and ANMF. Not VP8X: exiftool adds one to a
 *   simple WebP when it writes metadata, and its flags say which metadata chunks are present.
 *
 * Other formats (GIF, TIFF, HEIF/AVIF, BMP) give undefined: the caller falls back to hashing the
 * decoded pixels. The format is told by the bytes, not the name. A truncated file hashes what is
 * there; a structure that makes no sense gives undefined.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import { bytesPositional, readInto, type Positional } from './positional.js';
import { ascii, u16be, u32be, u32le } from '../domain/bytes.js';
import { hasPngSignature } from '../domain/png-chunks.js';

/** Bytes read from a file at a time while walking it. */
const WINDOW = 1024 * 1024;

/** The structure did not parse: the image has no data hash (not an I/O error). */
class Unparsable extends Error {}

/** A forward reader over a file (or bytes) with a buffered window. */
class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  /** File offset of buf[0]. */
  private base = 0;
  /** Offset in buf of the next byte. */
  private at = 0;
  private eof = false;

  constructor(
    private readonly src: Positional,
    private readonly size: number,
    whole?: Uint8Array,
  ) {
    if (whole !== undefined) {
      this.buf = whole;
      this.eof = true;
    }
  }

  get position(): number {
    return this.base + this.at;
  }

  get atEnd(): boolean {
    return this.position >= this.size;
  }

  /** Makes at least `n` bytes available from the cursor (fewer at the end of the file); returns how many. */
  private async fill(n: number): Promise<number> {
    const have = this.buf.length - this.at;
    if (have >= n || this.eof) return Math.min(have, n);
    const want = Math.max(n, WINDOW);
    const next = new Uint8Array(Math.min(want, Math.max(0, this.size - this.position)));
    next.set(this.buf.subarray(this.at), 0);
    const filled = await readInto(this.src, next, have, this.position + have);
    this.base += this.at;
    this.at = 0;
    this.buf = next.subarray(0, filled);
    // A short read means the file ended early (it shrank): what was read is all there is.
    this.eof = this.base + filled >= this.size || filled < next.length;
    return Math.min(filled, n);
  }

  /** The next `n` bytes (a view, valid until the next call), or undefined when the file ends first. */
  async peek(n: number): Promise<Uint8Array | undefined> {
    if ((await this.fill(n)) < n) return undefined;
    return this.buf.subarray(this.at, this.at + n);
  }

  async take(n: number): Promise<Uint8Array | undefined> {
    const v = await this.peek(n);
    if (v !== undefined) this.at += n;
    return v;
  }

  /** Passes `n` bytes (or what is left) to `hash`, or skips them when no hash is given. */
  async feed(n: number, hash?: Hash): Promise<void> {
    let left = n;
    while (left > 0) {
      const got = await this.fill(Math.min(left, WINDOW));
      if (got === 0) return;
      const part = Math.min(got, left);
      hash?.update(this.buf.subarray(this.at, this.at + part));
      this.at += part;
      left -= part;
    }
  }

  /**
   * JPEG entropy-coded data: feeds bytes to `hash` up to the next marker that is neither a stuffed
   * 0xFF00 nor a restart marker, and stops on that marker's 0xFF (or at the end of the file).
   */
  async entropy(hash: Hash): Promise<void> {
    for (;;) {
      if ((await this.fill(2)) === 0) return;
      const view = this.buf;
      let i = this.at;
      let marker = -1;
      // Bytes before this can be hashed now; a 0xFF at the window's end waits for its next byte.
      let safe = view.length;
      for (;;) {
        const ff = view.indexOf(0xff, i);
        if (ff < 0) break;
        if (ff + 1 >= view.length) {
          if (!this.eof) safe = ff;
          break;
        }
        const next = view[ff + 1] as number;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
          i = ff + 2;
          continue;
        }
        marker = ff;
        break;
      }
      if (marker >= 0) {
        hash.update(view.subarray(this.at, marker));
        this.at = marker;
        return;
      }
      hash.update(view.subarray(this.at, safe));
      this.at = safe;
      if (this.eof && this.at >= view.length) return;
    }
  }
}

const PNG_IMAGE_CHUNKS: ReadonlySet<string> = new Set([
  'IHDR',
  'PLTE',
  'tRNS',
  'IDAT',
  'acTL',
  'fcTL',
  'fdAT',
]);
const WEBP_IMAGE_CHUNKS: ReadonlySet<string> = new Set(['VP8 ', 'VP8L', 'ALPH', 'ANIM', 'ANMF']);

export type ImageDataFormat = 'png' | 'jpeg' | 'webp';

/** The format of a file's first bytes, among those with an image data hash. */
export function imageDataFormat(head: Uint8Array): ImageDataFormat | undefined {
  if (hasPngSignature(head)) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'WEBP') return 'webp';
  return undefined;
}

async function hashPng(c: Cursor, hash: Hash): Promise<void> {
  await c.feed(8);
  while (!c.atEnd) {
    const head = await c.take(8);
    if (head === undefined) return;
    const length = u32be(head);
    const type = ascii(head, 4, 4);
    if (length > 0x7fffffff || !/^[A-Za-z]{4}$/.test(type)) throw new Unparsable(`bad PNG chunk ${type}`);
    if (PNG_IMAGE_CHUNKS.has(type)) {
      hash.update(head.subarray(4, 8));
      await c.feed(length, hash);
    } else await c.feed(length);
    await c.feed(4); // CRC
    if (type === 'IEND') return;
  }
}

const JPEG_STANDALONE = (m: number): boolean => m === 0x01 || (m >= 0xd0 && m <= 0xd7);
const JPEG_METADATA = (m: number): boolean => (m >= 0xe0 && m <= 0xef) || m === 0xfe;

async function hashJpeg(c: Cursor, hash: Hash): Promise<void> {
  await c.feed(2); // SOI
  while (!c.atEnd) {
    const ff = await c.take(1);
    if (ff === undefined) return;
    if (ff[0] !== 0xff) throw new Unparsable('JPEG marker expected');
    let marker = 0xff;
    while (marker === 0xff) {
      const m = await c.take(1);
      if (m === undefined) return;
      marker = m[0] as number;
    }
    if (marker === 0xd9) {
      hash.update(Uint8Array.of(0xff, marker));
      return;
    }
    if (JPEG_STANDALONE(marker)) {
      hash.update(Uint8Array.of(0xff, marker));
      continue;
    }
    const len = await c.take(2);
    if (len === undefined) return;
    const length = u16be(len);
    if (length < 2) throw new Unparsable('JPEG segment too short');
    if (JPEG_METADATA(marker)) {
      await c.feed(length - 2);
      continue;
    }
    hash.update(Uint8Array.of(0xff, marker, len[0] as number, len[1] as number));
    await c.feed(length - 2, hash);
    if (marker === 0xda) await c.entropy(hash);
  }
}

async function hashWebp(c: Cursor, hash: Hash): Promise<void> {
  await c.feed(12);
  while (!c.atEnd) {
    const head = await c.take(8);
    if (head === undefined) return;
    const type = ascii(head, 0, 4);
    const size = u32le(head, 4);
    const padded = size + (size & 1);
    if (WEBP_IMAGE_CHUNKS.has(type)) {
      hash.update(head.subarray(0, 4));
      await c.feed(size, hash);
      await c.feed(padded - size);
    } else await c.feed(padded);
  }
}

/**
 * The image hash of a file's bytes in memory, or of the file at `file` (walked with positional
 * reads, so a large file is not held). Undefined for a format without one or a structure that
 * does not parse; I/O errors are thrown.
 */
export async function imageDataHash(file: string, data?: Uint8Array): Promise<string | undefined> {
  if (data !== undefined) return hashFrom(bytesPositional(data), data.length, data);
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    return await hashFrom(handle, size);
  } finally {
    await handle.close();
  }
}

async function hashFrom(src: Positional, size: number, whole?: Uint8Array): Promise<string | undefined> {
  const c = new Cursor(src, size, whole);
  const head = await c.peek(Math.min(12, size));
  const format = head === undefined ? undefined : imageDataFormat(head);
  if (format === undefined) return undefined;
  const hash = createHash('sha256').update(`${format}:`);
  try {
    if (format === 'png') await hashPng(c, hash);
    else if (format === 'jpeg') await hashJpeg(c, hash);
    else await hashWebp(c, hash);
  } catch (err) {
    if (err instanceof Unparsable) return undefined;
    throw err;
  }
  return hash.digest('hex');
}
