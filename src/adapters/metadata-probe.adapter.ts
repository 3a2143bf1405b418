/**
 * Reads just enough of a file's header to decide whether exiftool has anything to read
 * (src/domain/metadata-probe.ts decides). JPEG: the first 256 KiB (metadata segments precede the
 * image data); WebP: 30 bytes; PNG: a walk over the chunk headers that seeks over the image data.
 * I/O errors reject: the caller then reads the file with exiftool, which reports them.
 */
import { open } from 'node:fs/promises';
import { bytesPositional, readAt, windowedReader, type Positional } from './positional.js';

/** What the probe needs of a file: positional reads and its size (a FileHandle, or bytes in memory). */

import {
  jpegVerdict,
  pngVerdict,
  webpVerdict,
  type MetadataVerdict,
  type PngChunkSeen,
} from '../domain/metadata-probe.js';

const JPEG_HEAD_BYTES = 256 * 1024;
/** A PNG with more chunks than this is read with exiftool rather than walked further. */
const MAX_PNG_CHUNKS = 100_000;

/**
 * Reads through a 64 KiB window: a PNG's chunk headers sit close together (a small file, or
 * 8 KiB IDAT chunks), so one read serves many of them instead of one read per chunk.
 */
const PNG_WINDOW_BYTES = 64 * 1024;

async function pngProbe(handle: Positional): Promise<MetadataVerdict> {
  const { size } = await handle.stat();
  const read = windowedReader(handle, PNG_WINDOW_BYTES);
  const sig = await read(0, 8);
  if (sig.length < 8 || sig[1] !== 0x50 || sig[2] !== 0x4e || sig[3] !== 0x47) return { kind: 'unknown' };
  const chunks: PngChunkSeen[] = [];
  let ihdr: Uint8Array | undefined;
  let pos = 8;
  for (let n = 0; n < MAX_PNG_CHUNKS && pos + 12 <= size; n++) {
    // The header, and the first 80 bytes of the body: a text chunk's keyword (1–79 bytes + NUL).
    const head = await read(pos, 8 + 80);
    if (head.length < 8) break;
    const length =
      ((head[0] ?? 0) * 2 ** 24 + ((head[1] ?? 0) << 16) + ((head[2] ?? 0) << 8) + (head[3] ?? 0)) >>> 0;
    const type = String.fromCharCode(...head.subarray(4, 8));
    if (!/^[A-Za-z]{4}$/.test(type) || pos + 12 + length > size) return { kind: 'unknown' };
    const body = head.subarray(8, 8 + Math.min(length, 80));
    if (type === 'IHDR') ihdr = body;
    const nul = body.indexOf(0);
    const keyword =
      (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') && nul > 0
        ? String.fromCharCode(...body.subarray(0, nul))
        : undefined;
    chunks.push(keyword === undefined ? { type } : { type, keyword });
    if (type === 'IEND') return pngVerdict(chunks, true, ihdr);
    pos += 12 + length;
  }
  return pngVerdict(chunks, false, ihdr);
}

/** Formats whose header the probe reads (any other is sent to exiftool without a look). */
export function probesFormat(format: string | null): boolean {
  const f = format?.toLowerCase();
  return f === 'png' || f === 'jpeg' || f === 'jpg' || f === 'webp';
}

/**
 * What the header of `file` (of sharp/alice format `format`) says about embedded metadata.
 * `data`: the file's bytes when the caller already holds them (nothing is read then).
 */
export async function probeMetadata(
  file: string,
  format: string | null,
  data?: Uint8Array,
): Promise<MetadataVerdict> {
  const f = format?.toLowerCase();
  if (f !== 'png' && f !== 'jpeg' && f !== 'jpg' && f !== 'webp') return { kind: 'some' };
  if (data !== undefined) return probe(bytesPositional(data), f);
  const handle = await open(file, 'r');
  try {
    return await probe(handle, f);
  } finally {
    await handle.close();
  }
}

async function probe(handle: Positional, f: 'png' | 'jpeg' | 'jpg' | 'webp'): Promise<MetadataVerdict> {
  if (f === 'png') return pngProbe(handle);
  if (f === 'webp') return webpVerdict(await readAt(handle, 0, 30));
  return jpegVerdict(await readAt(handle, 0, JPEG_HEAD_BYTES));
}
