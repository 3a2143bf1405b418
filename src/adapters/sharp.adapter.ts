/**
 * The only importer of sharp (libvips). One decode per image: the file is decoded once, shrunk to
 * a small working raster (at most `workingSize` per side, aspect ignored since every hash squashes
 * to a square anyway; JPEG/WebP use shrink-on-load), and aHash/dHash/pHash are all computed from
 * that raster in memory by src/domain/perceptual-hash.ts. A file that cannot be decoded
 * (truncated, corrupt, unsupported, too many pixels, too slow) is an expected outcome returned as
 * `{ ok: false, kind, reason }`, never a throw.
 */
import { createHash } from 'node:crypto';
import type { Sharp } from 'sharp';
import type { PerceptualHashes } from '../domain/sidecar.js';
import type { DecodeSlot } from '../ports.js';
import { computeHashes, toGreyscale } from '../domain/perceptual-hash.js';
import { decodeFacts, type DecodeFacts } from '../domain/image-header.js';
import { readSmallFile } from './fs.adapter.js';
import { errorMessage } from '../domain/errors.js';
import {
  STEALTH_HEADER_BITS,
  readStealth,
  stealthColumns,
  stealthTotalBits,
  type RawPixels,
  type StealthText,
} from '../domain/generation/stealth.js';

export interface ImageDecodeOptions {
  /** Images with more pixels (width × height, from the header) are refused. Default 268402689 (16383², sharp's default). */
  readonly limitInputPixels: number;
  /** libvips sensitivity to bad pixel data: `truncated` < `error` < `warning`. Default `error` (truncation and decode errors fail; warnings pass). */
  readonly failOn: 'truncated' | 'error' | 'warning';
  /** Seconds of processing before a decode is abandoned. Default 30. */
  readonly timeoutSeconds: number;
  /**
   * Longest side of the working raster hashes are computed from. Default 128: libvips does the
   * big reduction natively, the JavaScript resizes to 32 × 32 and smaller stay cheap (512 costs
   * about 2.5 × the CPU per image; images up to this size hash exactly as imagehash does).
   */
  readonly workingSize: number;
}

export const DEFAULT_IMAGE_DECODE_OPTIONS: Readonly<ImageDecodeOptions> = Object.freeze({
  limitInputPixels: 268_402_689,
  failOn: 'error',
  timeoutSeconds: 30,
  workingSize: 128,
});

export interface SharpRuntimeOptions {
  /** libvips threads per image. Default 1: the pipeline already runs images in parallel on few cores. */
  readonly concurrency: number;
  /** libvips operation cache. Default off: a daemon sees each file once, so a cache only holds memory. */
  readonly cache: boolean;
}

export const DEFAULT_SHARP_RUNTIME_OPTIONS: Readonly<SharpRuntimeOptions> = Object.freeze({
  concurrency: 1,
  cache: false,
});

/** Why an image could not be read. */
export const ImageFailureKind = {
  MISSING: 'missing',
  UNSUPPORTED: 'unsupported',
  CORRUPT: 'corrupt',
  TOO_LARGE: 'too_large',
  TIMEOUT: 'timeout',
} as const;
export type ImageFailureKind = (typeof ImageFailureKind)[keyof typeof ImageFailureKind];

export interface ImageFailure {
  readonly ok: false;
  readonly kind: ImageFailureKind;
  /** Human-readable, recorded as is (`cannot decode: VipsJpeg: premature end of JPEG image`). */
  readonly reason: string;
}

export interface ImageAnalysis {
  /** Displayed size: EXIF orientation applied. */
  readonly width: number;
  readonly height: number;
  /** sharp's format name: `jpeg`, `png`, `webp`, `gif`, `tiff`, `heif` (also AVIF), `svg`, … */
  readonly format: string;
  readonly hasAlpha: boolean;
  readonly hashes: PerceptualHashes;
}

export type ImageAnalysisResult = ({ readonly ok: true } & ImageAnalysis) | ImageFailure;
export type DecodeCheckResult = { readonly ok: true } | ImageFailure;

export interface Thumbnail {
  readonly ok: true;
  readonly data: Buffer;
  readonly mime: 'image/jpeg' | 'image/webp';
  readonly width: number;
  readonly height: number;
}
export type ThumbnailResult = Thumbnail | ImageFailure;

/** Thumbnails are clamped to this side so an MCP request cannot ask for a full-size re-encode. */
export const MAX_THUMBNAIL_SIZE = 1024;
const MIN_THUMBNAIL_SIZE = 16;

type SharpModule = typeof import('sharp');

let runtime: SharpRuntimeOptions = DEFAULT_SHARP_RUNTIME_OPTIONS;
let loaded: Promise<SharpModule> | undefined;

function applyRuntime(sharp: SharpModule): SharpModule {
  sharp.concurrency(runtime.concurrency);
  sharp.cache(runtime.cache);
  return sharp;
}

/** sharp (libvips) is loaded on the first decode, so commands that decode nothing start faster. */
function loadSharp(): Promise<SharpModule> {
  loaded ??= import('sharp').then((m) => applyRuntime(m.default));
  return loaded;
}

/**
 * Sets libvips threads and cache for the process (global in sharp); applied when sharp loads,
 * or at once if it already has. The defaults apply without a call.
 */
export function configureSharp(opts: Partial<SharpRuntimeOptions> = {}): void {
  runtime = { ...DEFAULT_SHARP_RUNTIME_OPTIONS, ...opts };
  if (loaded !== undefined) void loaded.then(applyRuntime);
}

async function open(input: string | Buffer, o: ImageDecodeOptions): Promise<Sharp> {
  const sharp = await loadSharp();
  return sharp(input, { failOn: o.failOn, limitInputPixels: o.limitInputPixels, autoOrient: true }).timeout({
    seconds: o.timeoutSeconds,
  });
}

function merge(opts: Partial<ImageDecodeOptions> | undefined): ImageDecodeOptions {
  return { ...DEFAULT_IMAGE_DECODE_OPTIONS, ...opts };
}

/** Maps a sharp/libvips error to an expected failure. */
function failure(err: unknown, o: ImageDecodeOptions): ImageFailure {
  const message = errorMessage(err).split('\n')[0] ?? '';
  if (/input file is missing|ENOENT/i.test(message))
    return { ok: false, kind: 'missing', reason: 'file not found' };
  if (/unsupported image format/i.test(message)) {
    return { ok: false, kind: 'unsupported', reason: 'unsupported image format' };
  }
  if (/pixel limit/i.test(message)) {
    return {
      ok: false,
      kind: 'too_large',
      reason: `image too large: more than ${o.limitInputPixels} pixels`,
    };
  }
  if (/timeout/i.test(message)) {
    return { ok: false, kind: 'timeout', reason: `decode took longer than ${o.timeoutSeconds}s` };
  }
  return { ok: false, kind: 'corrupt', reason: `cannot decode: ${message}` };
}

const UNBOUNDED: DecodeSlot = (decode) => decode();

/**
 * Size, format and perceptual hashes of one image (a path, or bytes such as a video frame) from a
 * single decode. Transparent pixels are hashed as composited on black.
 */
export async function analyseImage(
  input: string | Buffer,
  opts?: Partial<ImageDecodeOptions>,
  slot: DecodeSlot = UNBOUNDED,
): Promise<ImageAnalysisResult> {
  const o = merge(opts);
  let raster: WorkingRaster;
  try {
    // The header is read before the slot is taken: inside it the decode is one libvips call, so
    // it never waits for the main thread between two steps.
    const image = await open(input, o);
    // The facts the decode needs, from the header in memory when it tells them (most PNG, JPEG
    // and WebP files), else from libvips.
    const facts =
      (typeof input === 'string' ? undefined : decodeFacts(input)) ?? factsOf(await image.metadata());
    raster = await slot(() => workingRaster(image, facts, o));
  } catch (err) {
    return failure(err, o);
  }
  return { ok: true, ...hashRaster(raster) };
}

type Metadata = Awaited<ReturnType<Sharp['metadata']>>;

/** The decoded, shrunk raster the perceptual hashes are computed from, with the image's facts. */
interface WorkingRaster {
  readonly width: number;
  readonly height: number;
  readonly format: string;
  readonly hasAlpha: boolean;
  readonly data: Buffer;
  readonly info: { readonly width: number; readonly height: number; readonly channels: number };
}

/** What the decode needs to know of an image first (see src/domain/image-header.ts). */
type Facts = Pick<DecodeFacts, 'width' | 'height' | 'hasAlpha'> & { readonly format: string };

function factsOf(meta: Metadata): Facts {
  return {
    format: meta.format,
    width: meta.autoOrient.width,
    height: meta.autoOrient.height,
    hasAlpha: meta.hasAlpha,
  };
}

async function workingRaster(image: Sharp, meta: Facts, o: ImageDecodeOptions): Promise<WorkingRaster> {
  const { width, height } = meta;
  const { data, info } = await image
    .resize(Math.min(width, o.workingSize), Math.min(height, o.workingSize), {
      fit: 'fill',
      kernel: 'lanczos3',
    })
    .flatten({ background: '#000000' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { width, height, format: meta.format, hasAlpha: meta.hasAlpha, data, info };
}

function hashRaster(r: WorkingRaster): ImageAnalysis {
  const grey = toGreyscale(r.data, r.info.width, r.info.height, r.info.channels);
  return {
    width: r.width,
    height: r.height,
    format: r.format,
    hasAlpha: r.hasAlpha,
    hashes: computeHashes(grey),
  };
}

async function hashOpened(image: Sharp, meta: Metadata, o: ImageDecodeOptions): Promise<ImageAnalysis> {
  return hashRaster(await workingRaster(image, factsOf(meta), o));
}

/**
 * Files up to this size are read once and decoded from memory: given a path, libvips opens the
 * file once per loader it tries while sniffing the format and again per pipeline (about twenty
 * opens and stats per image), which dominates the cost of small images. Larger files are decoded
 * from their path so memory stays bounded by the decodes in flight.
 */
export const IN_MEMORY_MAX = 32 * 1024 * 1024;

async function inMemory(file: string): Promise<string | Buffer> {
  return (await readSmallFile(file, IN_MEMORY_MAX)) ?? file;
}

/**
 * `analyseImage` of a file: from `data` when the caller holds its bytes, else read into memory
 * when it is up to 32 MiB (see IN_MEMORY_MAX), else decoded from its path. One pipeline: JPEG and
 * WebP shrink on load, nothing is held at full size.
 */
export async function analyseImageFile(
  file: string,
  opts?: Partial<ImageDecodeOptions>,
  data?: Buffer,
  slot: DecodeSlot = UNBOUNDED,
): Promise<ImageAnalysisResult> {
  let input: string | Buffer;
  try {
    input = data ?? (await inMemory(file));
  } catch (err) {
    return failure(err, merge(opts));
  }
  return analyseImage(input, opts, slot);
}

/** An image and the SHA-256 of its decoded pixels (`pixelHash`), when it decoded. */
export type ImageAndPixelsResult =
  ({ readonly ok: true; readonly pixelHash?: string } & ImageAnalysis) | ImageFailure;

/**
 * PNGs whose full decode is exactly the hashing pipeline's input: 8 bits per sample, no ICC
 * profile (sharp would convert it to sRGB) and no orientation. Their pixels are decoded once, and
 * the working raster is reduced from those pixels in memory; the result is identical to hashing
 * the file (test/phash/sharp-adapter.test.ts compares both on every kind of PNG).
 */
function decodesOnce(meta: Metadata): boolean {
  return (
    meta.format === 'png' &&
    (meta.width ?? Infinity) * (meta.height ?? Infinity) <= DECODE_ONCE_MAX_PIXELS &&
    meta.depth === 'uchar' &&
    meta.icc === undefined &&
    (meta.orientation === undefined || meta.orientation === 1) &&
    meta.channels >= 1 &&
    meta.channels <= 4
  );
}

/**
 * Larger PNGs keep the two decodes (a shrink for the hashes, then the pixel hash in strips): one
 * full-size buffer of a 12000² image is 432 MB, and a second pipeline over it would add more.
 */
const DECODE_ONCE_MAX_PIXELS = 4096 * 4096;

/** The pixel hash reads images whose decoded pixels are larger than this in strips of rows. */
export const PIXEL_STRIP_BYTES = 64 * 1024 * 1024;

function sha256Pixels(data: Buffer, info: { width: number; height: number; channels: number }): string {
  return createHash('sha256')
    .update(`${info.width}x${info.height}x${info.channels}:`)
    .update(data)
    .digest('hex');
}

/**
 * `analyseImage` and `pixelHash` of one file together. PNGs (see `decodesOnce`) are decoded once
 * for both; other formats keep the shrink-on-load decode for the hashes (JPEG, WebP) and decode
 * again at full size for the pixel hash. Hashes and pixel hash are the same as the two calls'.
 */
export async function analyseImageAndPixels(
  file: string,
  opts?: Partial<ImageDecodeOptions>,
  /** The file's bytes when the caller already holds them. */
  data?: Buffer,
): Promise<ImageAndPixelsResult> {
  const o = merge(opts);
  let meta: Metadata;
  let path: string | Buffer = file;
  try {
    path = data ?? (await inMemory(file));
    const image = await open(path, o);
    meta = await image.metadata();
    if (!decodesOnce(meta)) {
      const r = await hashOpened(image, meta, o);
      const pixels = await pixelHash(path, opts);
      return { ok: true, ...r, ...(pixels === undefined ? {} : { pixelHash: pixels }) };
    }
  } catch (err) {
    return failure(err, o);
  }
  try {
    const sharp = await loadSharp();
    const full = await sharp(path, { failOn: o.failOn, limitInputPixels: o.limitInputPixels })
      .timeout({ seconds: o.timeoutSeconds })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { width, height, channels } = full.info;
    const pixelHash = sha256Pixels(full.data, full.info);
    // An opaque 8-bit RGB image no larger than the working raster already is that raster (the
    // pipeline's resize, flatten and colour conversion would each leave it as it is).
    if (channels === 3 && width <= o.workingSize && height <= o.workingSize)
      return {
        ok: true,
        width,
        height,
        format: meta.format,
        hasAlpha: meta.hasAlpha,
        hashes: computeHashes(toGreyscale(full.data, width, height, channels)),
        pixelHash,
      };
    const raw = sharp(full.data, { raw: { width, height, channels } });
    const r = await hashOpened(raw, { ...meta, autoOrient: { width, height } }, o);
    return {
      ok: true,
      ...r,
      format: meta.format,
      hasAlpha: meta.hasAlpha,
      pixelHash,
    };
  } catch (err) {
    return failure(err, o);
  }
}

/**
 * Does the file still decode completely? Used after writing metadata into a file. Every byte of
 * pixel data is read (a shrink still consumes the whole stream), but nothing full-size is kept.
 */
export async function decodeCheck(
  path: string,
  opts?: Partial<ImageDecodeOptions>,
): Promise<DecodeCheckResult> {
  const o = merge(opts);
  try {
    await (await open(path, o)).resize(64, 64, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer();
    return { ok: true };
  } catch (err) {
    return failure(err, o);
  }
}

/**
 * SHA-256 of an image's decoded pixels (as stored, before any orientation), with its size and
 * channel count: equal for two files that differ only in metadata, different for any pixel
 * change. Undefined when the image does not decode.
 */
export async function pixelHash(
  path: string | Buffer,
  opts?: Partial<ImageDecodeOptions>,
  /** Decoded images larger than this are read in strips of rows (the same hash, less memory). */
  stripBytes = PIXEL_STRIP_BYTES,
): Promise<string | undefined> {
  const o = merge(opts);
  try {
    const sharp = await loadSharp();
    const input = (): ReturnType<typeof sharp> =>
      sharp(path, { failOn: o.failOn, limitInputPixels: o.limitInputPixels }).timeout({
        seconds: o.timeoutSeconds,
      });
    const meta = await input().metadata();
    const { width, height } = meta;
    const rowBytes = (width ?? 0) * (meta.channels ?? 4);
    if (width === undefined || height === undefined || rowBytes * height <= stripBytes) {
      const { data, info } = await input().raw().toBuffer({ resolveWithObject: true });
      return sha256Pixels(data, info);
    }
    // Row strips hashed in order give the digest of the whole buffer; only one strip is held.
    const rows = Math.max(1, Math.floor(stripBytes / rowBytes));
    let hash: ReturnType<typeof createHash> | undefined;
    for (let top = 0; top < height; top += rows) {
      const part = await input()
        .extract({ left: 0, top, width, height: Math.min(rows, height - top) })
        .raw()
        .toBuffer({ resolveWithObject: true });
      hash ??= createHash('sha256').update(`${width}x${height}x${part.info.channels}:`);
      hash.update(part.data);
    }
    return hash?.digest('hex');
  } catch {
    return undefined;
  }
}

/** A small JPEG (longest side ≤ `maxSize`, clamped to 16…1024; alpha flattened on white) for previews. */
export async function thumbnail(
  path: string,
  maxSize: number,
  opts?: Partial<ImageDecodeOptions>,
): Promise<ThumbnailResult> {
  const o = merge(opts);
  const side = Math.round(
    Math.min(Math.max(Number.isFinite(maxSize) ? maxSize : 256, MIN_THUMBNAIL_SIZE), MAX_THUMBNAIL_SIZE),
  );
  try {
    const { data, info } = await (
      await open(path, o)
    )
      .resize(side, side, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 80 })
      .toBuffer({ resolveWithObject: true });
    return { ok: true, data, mime: 'image/jpeg', width: info.width, height: info.height };
  } catch (err) {
    return failure(err, o);
  }
}

/**
 * A WebP thumbnail (longest side ≤ `side`, clamped to 16…1024) of an image file or of bytes such
 * as a video frame, for the web page's grid and previews.
 */
export async function webpThumbnail(
  input: string | Buffer,
  side: number,
  opts?: Partial<ImageDecodeOptions>,
): Promise<ThumbnailResult> {
  const o = merge(opts);
  const px = Math.round(Math.min(Math.max(side, MIN_THUMBNAIL_SIZE), MAX_THUMBNAIL_SIZE));
  try {
    const { data, info } = await (
      await open(input, o)
    )
      .resize(px, px, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 78, effort: 2 })
      .toBuffer({ resolveWithObject: true });
    return { ok: true, data, mime: 'image/webp', width: info.width, height: info.height };
  } catch (err) {
    return failure(err, o);
  }
}

/**
 * Text hidden in a PNG's pixel low bits (A1111 stealth-pnginfo, NovelAI), or undefined. Decodes
 * only the leading columns the bit stream can occupy: first enough for the signature and length,
 * then, when a signature is there, enough for the payload. No orientation is applied: the bits
 * are read in the order they were written. Decode failures are undefined (the visual part reports them).
 */
export async function readStealthText(
  file: string,
  warnings: string[],
  opts?: Partial<ImageDecodeOptions>,
): Promise<StealthText | undefined> {
  const o = merge(opts);
  try {
    const sharp = await loadSharp();
    const base = (): Sharp =>
      sharp(file, { failOn: o.failOn, limitInputPixels: o.limitInputPixels }).timeout({
        seconds: o.timeoutSeconds,
      });
    const meta = await base().metadata();
    const width = meta.width;
    const height = meta.height;
    // The writers put their bits in RGBA images (alpha mode adds the alpha channel); an opaque RGB
    // PNG is not decoded a second time just to look.
    if (width === undefined || height === undefined || meta.hasAlpha !== true || (meta.channels ?? 0) < 4)
      return undefined;
    const columns = async (n: number): Promise<RawPixels> => {
      const { data, info } = await base()
        .extract({ left: 0, top: 0, width: Math.min(width, Math.max(1, n)), height })
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: info.channels };
    };
    const head = await columns(stealthColumns(height, STEALTH_HEADER_BITS, 'alpha'));
    const total = stealthTotalBits(head);
    if (total === undefined) return undefined;
    const all = await columns(stealthColumns(height, total, 'alpha'));
    return readStealth(all, warnings);
  } catch {
    return undefined;
  }
}

/** A JPEG for a vision model: longest side ≤ `maxSide`, alpha flattened on white, quality 85. */
export async function visionJpeg(
  input: string | Buffer,
  maxSide: number,
  opts?: Partial<ImageDecodeOptions>,
): Promise<{ ok: true; data: Buffer } | ImageFailure> {
  const o = merge(opts);
  try {
    const data = await (
      await open(input, o)
    )
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 85 })
      .toBuffer();
    return { ok: true, data };
  } catch (err) {
    return failure(err, o);
  }
}
