/**
 * The marker segments of a JPEG from SOI up to its first scan (SOS), as the header readers walk
 * them (src/domain/metadata-probe.ts, src/domain/image-header.ts). Pure.
 */
import { u16be } from './bytes.js';

export interface JpegSegment {
  readonly marker: number;
  /** Offset of the segment's 0xFF. */
  readonly at: number;
  /** The segment's length field (2 or more); 0 for a marker without one (TEM, RST0–7). */
  readonly length: number;
}

/** SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC): a frame header (height, then width). */
export function isFrameMarker(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Yields each segment before the first SOS; returns `sos` when the walk reached it, `bad` when
 * the structure makes no sense, `short` when it runs past the bytes. Fill bytes are skipped.
 * `b` must start with SOI (not checked here).
 */
export function* jpegSegments(b: Uint8Array): Generator<JpegSegment, 'sos' | 'bad' | 'short'> {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return 'bad';
    const marker = b[at + 1] ?? 0;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xda) return 'sos';
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      yield { marker, at, length: 0 };
      at += 2;
      continue;
    }
    const length = u16be(b, at + 2);
    if (length < 2) return 'bad';
    yield { marker, at, length };
    at += 2 + length;
  }
  return 'short';
}
