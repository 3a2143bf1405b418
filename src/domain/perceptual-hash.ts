/**
 * Perceptual hashes (aHash, dHash, pHash) following the definitions of the Python `imagehash`
 * library (4.x), so that alice's hashes can be compared with other tools. Pure: no I/O.
 *
 * The pipeline is: 8-bit greyscale (PIL `convert('L')` luma) → PIL-style Lanczos resize
 * (8×8, 9×8 or 32×32, aspect ratio ignored, 8-bit rounding as PIL) → bits → 16 hex digits.
 * Bits are row-major; the first bit is the most significant bit (as imagehash's `str(hash)`).
 * See docs/perceptual-hashes.md.
 */
import type { PerceptualHashes } from './sidecar.js';

/** Side of the square the DCT runs on (imagehash `hash_size * highfreq_factor`). */
export const PHASH_DCT_SIZE = 32;
/** Hex form of a 64-bit hash: 16 lowercase hex digits. */
export const PERCEPTUAL_HEX_RE = /^[0-9a-f]{16}$/;

/** An 8-bit greyscale raster, row-major, `width * height` bytes. */
export interface GreyImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * PIL `convert('L')` luma (ITU-R 601-2) with PIL's fixed-point rounding, so a small RGB image hashes
 * bit-for-bit as imagehash would. `channels`: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (alpha is ignored,
 * as PIL does).
 */
export function toGreyscale(data: Uint8Array, width: number, height: number, channels: number): GreyImage {
  const n = width * height;
  if (data.length < n * channels) throw new Error(`raster too short: ${data.length} < ${n * channels}`);
  const out = new Uint8Array(n);
  if (channels < 3) {
    for (let i = 0; i < n; i++) out[i] = data[i * channels] ?? 0;
    return { data: out, width, height };
  }
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    const r = data[p] ?? 0;
    const g = data[p + 1] ?? 0;
    const b = data[p + 2] ?? 0;
    out[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
  }
  return { data: out, width, height };
}

// PIL's Resample.c uses 22 fractional bits for 8-bit coefficients; copying it keeps rounding equal.
const PRECISION_BITS = 22;
const PRECISION_SCALE = 2 ** PRECISION_BITS;
const LANCZOS_SUPPORT = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return x >= -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / LANCZOS_SUPPORT) : 0;
}

interface Coefficients {
  /** First input index for each output index. */
  readonly start: Int32Array;
  /** Number of taps for each output index. */
  readonly count: Int32Array;
  /** Fixed-point weights, `ksize` per output index. */
  readonly weights: Float64Array;
  readonly ksize: number;
}

/**
 * Coefficient tables by (in, out) size: a scan hashes thousands of images whose working rasters
 * share a few sizes (128 → 32, 8, 9 and the crops' sides), so each table is computed once.
 * Bounded: the sizes are at most the working raster's side, and the map is cleared if it grows.
 */
const COEFFICIENTS = new Map<number, Coefficients>();
const COEFFICIENTS_MAX = 4096;

function lanczosCoefficients(inSize: number, outSize: number): Coefficients {
  const key = inSize * 65536 + outSize;
  const hit = COEFFICIENTS.get(key);
  if (hit !== undefined) return hit;
  if (COEFFICIENTS.size >= COEFFICIENTS_MAX) COEFFICIENTS.clear();
  const c = computeLanczosCoefficients(inSize, outSize);
  COEFFICIENTS.set(key, c);
  return c;
}

/** PIL `precompute_coeffs` + `normalize_coeffs_8bpc` for a Lanczos filter. */
function computeLanczosCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = LANCZOS_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const raw = new Float64Array(Math.max(xmax, 0));
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) / filterScale);
      raw[x] = w;
      sum += w;
    }
    for (let x = 0; x < xmax; x++) {
      const k = sum === 0 ? (raw[x] ?? 0) : (raw[x] ?? 0) / sum;
      weights[xx * ksize + x] =
        k < 0 ? Math.trunc(-0.5 + k * PRECISION_SCALE) : Math.trunc(0.5 + k * PRECISION_SCALE);
    }
    start[xx] = xmin;
    count[xx] = Math.max(xmax, 0);
  }
  return { start, count, weights, ksize };
}

function clip8(acc: number): number {
  const v = Math.floor(acc / PRECISION_SCALE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** One PIL resample pass along rows (`horizontal`) or columns, with 8-bit rounding. */
function resamplePass(src: GreyImage, outW: number, outH: number, horizontal: boolean): GreyImage {
  const c = horizontal ? lanczosCoefficients(src.width, outW) : lanczosCoefficients(src.height, outH);
  const out = new Uint8Array(outW * outH);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const first = c.start[o] ?? 0;
      const taps = c.count[o] ?? 0;
      let acc = half;
      for (let k = 0; k < taps; k++) {
        const idx = horizontal ? y * src.width + first + k : (first + k) * src.width + x;
        acc += (src.data[idx] ?? 0) * (c.weights[o * c.ksize + k] ?? 0);
      }
      out[y * outW + x] = clip8(acc);
    }
  }
  return { data: out, width: outW, height: outH };
}

/**
 * PIL `Image.resize(size, LANCZOS)` for an 8-bit greyscale image: horizontal pass first, then
 * vertical, each rounded to 8 bits, skipping a pass whose size does not change (as PIL does).
 */
export function resizeLanczos(src: GreyImage, outW: number, outH: number): GreyImage {
  if (outW < 1 || outH < 1 || src.width < 1 || src.height < 1) throw new Error('resize: empty image');
  const wide = src.width === outW ? src : resamplePass(src, outW, src.height, true);
  return wide.height === outH ? wide : resamplePass(wide, outW, outH, false);
}

/** Packs 64 booleans (row-major, first = most significant) into 16 lowercase hex digits. */
export function bitsToHex(bits: ArrayLike<boolean>): string {
  if (bits.length !== 64) throw new Error(`expected 64 bits, got ${bits.length}`);
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let v = 0;
    for (let b = 0; b < 4; b++) v = (v << 1) | (bits[nibble * 4 + b] === true ? 1 : 0);
    hex += v.toString(16);
  }
  return hex;
}

/** imagehash `average_hash`: 8×8, bit = pixel > mean. */
export function averageHash(grey: GreyImage): string {
  const small = resizeLanczos(grey, 8, 8).data;
  let sum = 0;
  for (const v of small) sum += v;
  const mean = sum / 64;
  return bitsToHex(Array.from(small, (v) => v > mean));
}

/** imagehash `dhash`: 9 wide × 8 high, bit = `pixels[:, 1:] > pixels[:, :-1]` (right > left). */
export function differenceHash(grey: GreyImage): string {
  const small = resizeLanczos(grey, 9, 8).data;
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) bits.push((small[y * 9 + x + 1] ?? 0) > (small[y * 9 + x] ?? 0));
  }
  return bitsToHex(bits);
}

const COSINES = cosineTable(PHASH_DCT_SIZE);

function cosineTable(n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) t[k * n + i] = Math.cos((Math.PI * k * (2 * i + 1)) / (2 * n));
  }
  return t;
}

/**
 * Unnormalised 2-D DCT-II of an `n`×`n` row-major matrix, as scipy
 * `dct(dct(x, axis=0), axis=1)`: `y[k] = 2 Σ x[i] cos(π k (2i+1) / 2n)` along each axis.
 */
export function dct2d(input: ArrayLike<number>, n: number): Float64Array {
  return dct2dCorner(input, n, n);
}

/**
 * The top-left `m`×`m` corner of `dct2d(input, n)`, row-major with stride `n`, computed alone:
 * every value is the same sum in the same order as dct2d's (so bit-for-bit equal), but only the
 * `m` lowest frequencies of each pass are summed (about a sixth of the work for 8 of 32).
 */
export function dct2dCorner(input: ArrayLike<number>, n: number, m: number): Float64Array {
  if (input.length !== n * n) throw new Error(`dct2d: expected ${n * n} values`);
  const cos = n === PHASH_DCT_SIZE ? COSINES : cosineTable(n);
  const cols = new Float64Array(n * n);
  for (let k = 0; k < m; k++) {
    for (let x = 0; x < n; x++) {
      let s = 0;
      for (let y = 0; y < n; y++) s += (input[y * n + x] ?? 0) * (cos[k * n + y] ?? 0);
      cols[k * n + x] = 2 * s;
    }
  }
  const out = new Float64Array(n * n);
  for (let y = 0; y < m; y++) {
    for (let k = 0; k < m; k++) {
      let s = 0;
      for (let x = 0; x < n; x++) s += (cols[y * n + x] ?? 0) * (cos[k * n + x] ?? 0);
      out[y * n + k] = 2 * s;
    }
  }
  return out;
}

/** imagehash `phash`: 32×32, DCT, top-left 8×8 (DC included), bit = coefficient > median of the 64. */
export function perceptualHash(grey: GreyImage): string {
  const n = PHASH_DCT_SIZE;
  const small = resizeLanczos(grey, n, n).data;
  const dct = dct2dCorner(small, n, 8);
  const low: number[] = [];
  // Snap float noise (~1e-10) to a 1e-6 grid: coefficients that are exactly 0 in scipy's FFT-based
  // DCT (constant rows, symmetric images) must compare equal to a median of 0 here too.
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) low.push(Math.round((dct[y * n + x] ?? 0) * 1e6) / 1e6);
  const sorted = [...low].sort((a, b) => a - b);
  const median = ((sorted[31] ?? 0) + (sorted[32] ?? 0)) / 2;
  return bitsToHex(low.map((v) => v > median));
}

/**
 * Sides (fractions of width and height) of the centred crops whose pHashes are kept next to the
 * full image's: an image cropped by 2.5 % on each side shows the centre 95 % of the original, so
 * its pHash is close to the original's 95 % crop pHash (docs/perceptual-hashes.md).
 */
export const CROP_SCALES: readonly number[] = Object.freeze([0.95, 0.9]);

/** The centred `scale` × `scale` part of an image (at least 1 × 1 pixel). */
export function centreCrop(grey: GreyImage, scale: number): GreyImage {
  const width = Math.max(1, Math.round(grey.width * scale));
  const height = Math.max(1, Math.round(grey.height * scale));
  const x0 = Math.floor((grey.width - width) / 2);
  const y0 = Math.floor((grey.height - height) / 2);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y + y0) * grey.width + x0;
    data.set(grey.data.subarray(from, from + width), y * width);
  }
  return { data, width, height };
}

/** pHashes of the centred crops in {@link CROP_SCALES}, in that order. */
export function cropHashes(grey: GreyImage): string[] {
  return CROP_SCALES.map((s) => perceptualHash(centreCrop(grey, s)));
}

/** All three hashes of one greyscale image, and the pHashes of its centred crops. */
export function computeHashes(grey: GreyImage): PerceptualHashes {
  return {
    phash: perceptualHash(grey),
    dhash: differenceHash(grey),
    ahash: averageHash(grey),
    phash_crops: cropHashes(grey),
  };
}

/** Is `s` a 64-bit perceptual hash in hex form (16 lowercase hex digits)? */
export function isPerceptualHex(s: string): boolean {
  return PERCEPTUAL_HEX_RE.test(s);
}

function checkHex(hex: string): void {
  if (!PERCEPTUAL_HEX_RE.test(hex)) throw new Error(`not a 64-bit perceptual hash: ${JSON.stringify(hex)}`);
}

/** 16 hex digits → unsigned 64-bit BigInt (first hex digit = most significant). */
export function hexToBigInt(hex: string): bigint {
  checkHex(hex);
  return BigInt(`0x${hex}`);
}

/** Unsigned 64-bit BigInt → 16 lowercase hex digits (zero-padded). */
export function bigIntToHex(value: bigint): string {
  if (value < 0n || value > 0xffffffffffffffffn) throw new Error(`out of 64-bit range: ${value}`);
  return value.toString(16).padStart(16, '0');
}

/** The value for a DuckDB `UBIGINT` column (0 … 2^64-1). */
export function hexToUnsigned64(hex: string): bigint {
  return hexToBigInt(hex);
}

/** The same bits as a signed 64-bit value, for stores without unsigned 64-bit integers (`BIGINT`). */
export function hexToSigned64(hex: string): bigint {
  return BigInt.asIntN(64, hexToBigInt(hex));
}

/** Bits set in a 32-bit integer (SWAR popcount: no loop, no BigInt). */
export function popcount32(x: number): number {
  let v = x >>> 0;
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

/** Hamming distance of two 64-bit hashes given as (high, low) 32-bit halves: the fast path. */
export function hammingHalves(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return popcount32(aHi ^ bHi) + popcount32(aLo ^ bLo);
}

/** Splits an unsigned 64-bit BigInt into its high and low 32-bit halves. */
export function toHalves(value: bigint): { hi: number; lo: number } {
  return { hi: Number((value >> 32n) & 0xffffffffn), lo: Number(value & 0xffffffffn) };
}

/** Hamming distance of two 64-bit hashes as BigInt. */
export function hamming64(a: bigint, b: bigint): number {
  const x = toHalves(BigInt.asUintN(64, a));
  const y = toHalves(BigInt.asUintN(64, b));
  return hammingHalves(x.hi, x.lo, y.hi, y.lo);
}

/** Hamming distance of two hashes in hex form (throws on malformed input: that is a bug). */
export function hammingHex(a: string, b: string): number {
  checkHex(a);
  checkHex(b);
  return hammingHalves(
    Number.parseInt(a.slice(0, 8), 16),
    Number.parseInt(a.slice(8), 16),
    Number.parseInt(b.slice(0, 8), 16),
    Number.parseInt(b.slice(8), 16),
  );
}
