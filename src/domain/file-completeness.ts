/**
 * Is a file whole, or still being written? Structural rules per format, cheap enough to ask of
 * every settled file before it is indexed (no decode): the adapter
 * (src/adapters/completeness.adapter.ts) reads the bytes these rules look at. Pure.
 */

/** `null` when complete (or the format has no rule), else why the file looks unfinished. */
export type Completeness = string | null;

const JPEG_EOI_0 = 0xff;
const JPEG_EOI_1 = 0xd9;

/** JPEG: bytes of its entropy-coded data hold the end-of-image marker (FF D9), which nothing else there can be. */
export function jpegComplete(tail: Uint8Array): Completeness {
  for (let i = tail.length - 2; i >= 0; i--)
    if (tail[i] === JPEG_EOI_0 && tail[i + 1] === JPEG_EOI_1) return null;
  return 'JPEG without its end-of-image marker';
}

/** WebP: the RIFF header's size covers the whole file. */
export function webpComplete(head: Uint8Array, size: number): Completeness {
  if (head.length < 12) return 'WebP shorter than its header';
  const riff = String.fromCharCode(...head.subarray(0, 4));
  if (riff !== 'RIFF') return null;
  const declared =
    ((head[4] ?? 0) | ((head[5] ?? 0) << 8) | ((head[6] ?? 0) << 16) | ((head[7] ?? 0) << 24)) >>> 0;
  return declared + 8 > size ? `WebP of ${size} bytes, its header says ${declared + 8}` : null;
}

/** GIF: ends with the trailer byte (0x3B). */
export function gifComplete(tail: Uint8Array): Completeness {
  return tail.length > 0 && tail[tail.length - 1] === 0x3b ? null : 'GIF without its trailer';
}

/** One step of a chunk or box walk. */
export interface WalkStep {
  readonly type: string;
  /** Offset just past this chunk/box; Infinity for an MP4 box that runs to the end of the file. */
  readonly end: number;
}

/** PNG: the chunk walk reaches IEND without a chunk running past the end of the file. */
export function pngWalkVerdict(steps: readonly WalkStep[], size: number): Completeness {
  for (const s of steps) {
    if (s.end > size) return `PNG cut inside its ${s.type} chunk`;
    if (s.type === 'IEND') return null;
  }
  return 'PNG without IEND';
}

/** MP4/MOV: the top-level boxes end exactly at the end of the file, and `moov` is among them. */
export function mp4WalkVerdict(steps: readonly WalkStep[], size: number): Completeness {
  let moov = false;
  for (const s of steps) {
    if (s.type === 'moov') moov = true;
    if (s.end === Infinity) return moov ? null : 'video without its moov box (still being written)';
    if (s.end > size) return `video cut inside its ${s.type} box`;
  }
  return moov ? null : 'video without its moov box (still being written)';
}
