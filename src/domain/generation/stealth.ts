/**
 * "Stealth" metadata hidden in the least significant bits of a PNG's pixels, as written by the
 * AUTOMATIC1111 stealth-pnginfo extension (and its ComfyUI port) and by NovelAI:
 *
 * - the bit stream runs column by column (x outer, y inner: pixel (0,0), (0,1), … (0,h-1), (1,0) …);
 * - alpha mode takes the LSB of the alpha channel (one bit per pixel), RGB mode the LSBs of red,
 *   green and blue in that order (three bits per pixel);
 * - first 15 bytes of signature: `stealth_pnginfo` / `stealth_pngcomp` (alpha, plain / gzip) or
 *   `stealth_rgbinfo` / `stealth_rgbcomp` (RGB), then a 32-bit big-endian length in BITS, then the
 *   payload, most significant bit first; `…comp` payloads are gzip.
 *
 * A1111 hides its `parameters` text; NovelAI hides gzip JSON of its text chunks (`Description`,
 * `Software`, `Source`, `Comment`, …). Pure: pixels in, text out; never throws.
 */
import { gunzipSync } from 'node:zlib';

/** Raw pixels, row-major, `channels` bytes per pixel (sharp's `raw()` output). */
export interface RawPixels {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

export interface StealthText {
  readonly signature: string;
  readonly mode: 'alpha' | 'rgb';
  readonly text: string;
}

const SIGNATURES = {
  stealth_pnginfo: { mode: 'alpha', compressed: false },
  stealth_pngcomp: { mode: 'alpha', compressed: true },
  stealth_rgbinfo: { mode: 'rgb', compressed: false },
  stealth_rgbcomp: { mode: 'rgb', compressed: true },
} as const;
type Signature = keyof typeof SIGNATURES;

const SIGNATURE_BITS = 15 * 8;
const HEADER_BITS = SIGNATURE_BITS + 32;
/** Payloads larger than this (decoded) are not read: 8 MiB is far beyond any real prompt. */
export const MAX_STEALTH_BYTES = 8 * 1024 * 1024;

/** Reads bits in stealth order: column-major, per pixel either alpha or R, G, B. */
class BitStream {
  private pos = 0;
  readonly total: number;
  private readonly perPixel: number;

  constructor(
    private readonly px: RawPixels,
    private readonly mode: 'alpha' | 'rgb',
  ) {
    this.perPixel = mode === 'alpha' ? 1 : 3;
    this.total = px.width * px.height * this.perPixel;
  }

  private bit(index: number): number {
    const pixel = Math.floor(index / this.perPixel);
    const x = Math.floor(pixel / this.px.height);
    const y = pixel % this.px.height;
    const base = (y * this.px.width + x) * this.px.channels;
    const channel = this.mode === 'alpha' ? this.px.channels - 1 : index % this.perPixel;
    return (this.px.data[base + channel] ?? 0) & 1;
  }

  /** `n` bits as bytes, or undefined when the image runs out first. */
  bytes(n: number): Uint8Array | undefined {
    if (this.pos + n * 8 > this.total) return undefined;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let byte = 0;
      for (let b = 0; b < 8; b++) byte = (byte << 1) | this.bit(this.pos++);
      out[i] = byte;
    }
    return out;
  }

  u32(): number | undefined {
    const b = this.bytes(4);
    return b === undefined
      ? undefined
      : (b[0] ?? 0) * 2 ** 24 + ((b[1] ?? 0) << 16) + ((b[2] ?? 0) << 8) + (b[3] ?? 0);
  }
}

function readMode(px: RawPixels, mode: 'alpha' | 'rgb', warnings: string[]): StealthText | undefined {
  const stream = new BitStream(px, mode);
  if (stream.total < HEADER_BITS) return undefined;
  const sig = new TextDecoder().decode(stream.bytes(15));
  if (!Object.hasOwn(SIGNATURES, sig)) return undefined;
  const { mode: sigMode, compressed } = SIGNATURES[sig as Signature];
  if (sigMode !== mode) return undefined;
  const bits = stream.u32() ?? 0;
  const where = `stealth:${mode}`;
  if (bits === 0 || bits % 8 !== 0 || bits / 8 > MAX_STEALTH_BYTES) {
    warnings.push(`${where}: ${sig} with an unusable length of ${bits} bits; ignored`);
    return undefined;
  }
  const payload = stream.bytes(bits / 8);
  if (payload === undefined) {
    warnings.push(`${where}: ${sig} payload runs past the last pixel; ignored`);
    return undefined;
  }
  let bytes: Uint8Array = payload;
  if (compressed) {
    try {
      bytes = gunzipSync(payload, { maxOutputLength: MAX_STEALTH_BYTES });
    } catch {
      warnings.push(`${where}: ${sig} payload is not valid gzip; ignored`);
      return undefined;
    }
  }
  return { signature: sig, mode, text: new TextDecoder().decode(bytes) };
}

/**
 * The stealth text hidden in `px`, or undefined. Alpha mode is read only when the image has an
 * alpha channel (4 channels, as the writers require RGBA); RGB mode from 3 or 4 channels (the
 * sharp adapter only decodes RGBA PNGs, so in practice both come from RGBA images).
 */
export function readStealth(px: RawPixels, warnings: string[]): StealthText | undefined {
  if (px.width <= 0 || px.height <= 0 || px.data.length < px.width * px.height * px.channels)
    return undefined;
  if (px.channels === 4) {
    const alpha = readMode(px, 'alpha', warnings);
    if (alpha !== undefined) return alpha;
  }
  return px.channels >= 3 ? readMode(px, 'rgb', warnings) : undefined;
}

/** How many leading columns hold the first `bits` bits of a stream (for reading only what is needed). */
export function stealthColumns(height: number, bits: number, mode: 'alpha' | 'rgb'): number {
  const pixels = Math.ceil(bits / (mode === 'alpha' ? 1 : 3));
  return Math.ceil(pixels / Math.max(1, height));
}

/** Bits needed for the signature and length of either mode. */
export const STEALTH_HEADER_BITS = HEADER_BITS;

/** Bits a stream needs in total, given its header: undefined when `px` holds no stealth header. */
export function stealthTotalBits(px: RawPixels): number | undefined {
  for (const mode of ['alpha', 'rgb'] as const) {
    if (mode === 'alpha' && px.channels !== 4) continue;
    if (mode === 'rgb' && px.channels < 3) continue;
    const stream = new BitStream(px, mode);
    if (stream.total < HEADER_BITS) continue;
    const sig = new TextDecoder().decode(stream.bytes(15));
    if (!Object.hasOwn(SIGNATURES, sig) || SIGNATURES[sig as Signature].mode !== mode) continue;
    return HEADER_BITS + (stream.u32() ?? 0);
  }
  return undefined;
}
