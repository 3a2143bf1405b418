/**
 * Integers and ASCII text read from bytes, as the file-format walkers need them (PNG and JPEG are
 * big-endian, RIFF/WebP little-endian). A byte past the end reads as 0. Pure.
 */

export function u16be(b: Uint8Array, at = 0): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

export function u24le(b: Uint8Array, at = 0): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16);
}

export function u32be(b: Uint8Array, at = 0): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}

export function u32le(b: Uint8Array, at = 0): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
}

/** `n` bytes from `at` as Latin-1 text (a PNG chunk type, a RIFF fourcc). */
export function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}
