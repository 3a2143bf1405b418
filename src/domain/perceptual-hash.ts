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
/** PIL's rounding term: a sum starts at 2^21, so the shift below rounds half up. */
const HALF = 1 << (PRECISION_BITS - 1);
/** 256 · 2^22: a sum at or above it is 255 once scaled down. */
const CLIP_HIGH = 256 * PRECISION_SCALE;

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
  /** The same weights as 32-bit integers, or null when a sum could leave the 32-bit range. */
  readonly weights32: Int32Array | null;
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
  return { start, count, weights, weights32: int32Weights(weights, ksize), ksize };
}

/**
 * The weights as Int32Array if every sum a pass makes with them is exact in 32-bit arithmetic,
 * else null. A pass adds HALF and `pixel × weight` (pixel 0…255) for each tap; in wrapping 32-bit
 * arithmetic (`Math.imul`, `| 0`) the result is the true sum modulo 2^32, which is the true sum
 * itself when that lies in [-2^31, 2^31): bounded here by HALF + 255 × (the positive weights' sum),
 * and HALF + 255 × (the negative weights' sum). Lanczos weights of one output sum to about 2^22, the
 * positive ones to at most 1.29 · 2^22 and the negative ones to at least -0.29 · 2^22 (every size up to
 * 600 → 300 checked), so the sums stay within about [-2^28.2, 2^30.4] and null is not expected.
 */
function int32Weights(weights: Float64Array, ksize: number): Int32Array | null {
  const out = new Int32Array(weights.length);
  for (let o = 0; o < weights.length; o += ksize) {
    let pos = 0;
    let neg = 0;
    for (let k = o; k < o + ksize; k++) {
      const w = weights[k] ?? 0;
      if (!Number.isInteger(w) || w >= 2 ** 31 || w < -(2 ** 31)) return null;
      if (w > 0) pos += w;
      else neg += w;
      out[k] = w;
    }
    if (HALF + 255 * pos >= 2 ** 31 || HALF + 255 * neg < -(2 ** 31)) return null;
  }
  return out;
}

/**
 * PIL's `clip8`: `floor(acc / 2^22)` clipped to 0…255. Below 0 that is 0, at or above 2^30 it is 255,
 * and in between `acc` is a non-negative number below 2^31, so `>>` (ToInt32 truncates, which is
 * floor for it) gives the same value without a division.
 */
function clip8(acc: number): number {
  return acc < 0 ? 0 : acc >= CLIP_HIGH ? 255 : acc >> PRECISION_BITS;
}

/*
 * A resample pass reads the raster through a view (`offset` of its first pixel, `stride` between
 * rows), so a crop is read in place. Each output pixel is PIL's sum: HALF plus `pixel × weight` over
 * its taps, then clip8. Pixels are 0…255 and weights integers, so every such sum is an integer: it is
 * exact in 32-bit arithmetic when it fits there (see int32Weights) and the order of the terms does
 * not matter. So the pass computes eight output pixels at a time, from eight rows (horizontal pass)
 * or eight columns (vertical pass) sharing each weight, in wrapping 32-bit arithmetic. Without
 * 32-bit weights it falls back to PIL's order in doubles, one pixel at a time. `?? 0` never fires
 * (every index is within the view) and costs nothing once the JIT has seen the loads in bounds.
 */

/**
 * One pass, for both directions. Output `o`, lane `l` (a row of a horizontal pass, a column of a
 * vertical one) is Σ_k src[offset + (start[o] + k) · tapStep + l · laneStep] · weight[o][k], written
 * to dst[o · outStep + l · dstLaneStep].
 */
function resamplePass(
  src: Uint8Array,
  offset: number,
  tapStep: number,
  laneStep: number,
  lanes: number,
  c: Coefficients,
  dst: Uint8Array,
  outStep: number,
  dstLaneStep: number,
): void {
  const { start, count, weights, weights32, ksize } = c;
  const outs = start.length;
  let l = 0;
  if (weights32 !== null) {
    const s1 = laneStep;
    const s2 = 2 * laneStep;
    const s3 = 3 * laneStep;
    const s4 = 4 * laneStep;
    const s5 = 5 * laneStep;
    const s6 = 6 * laneStep;
    const s7 = 7 * laneStep;
    const d = dstLaneStep;
    for (; l + 8 <= lanes; l += 8) {
      for (let o = 0, w0 = 0; o < outs; o++, w0 += ksize) {
        const taps = count[o] ?? 0;
        let p = offset + (start[o] ?? 0) * tapStep + l * laneStep;
        let a0 = HALF;
        let a1 = HALF;
        let a2 = HALF;
        let a3 = HALF;
        let a4 = HALF;
        let a5 = HALF;
        let a6 = HALF;
        let a7 = HALF;
        for (let k = w0, end = w0 + taps; k < end; k++, p += tapStep) {
          const w = weights32[k] ?? 0;
          a0 = (a0 + Math.imul(src[p] ?? 0, w)) | 0;
          a1 = (a1 + Math.imul(src[p + s1] ?? 0, w)) | 0;
          a2 = (a2 + Math.imul(src[p + s2] ?? 0, w)) | 0;
          a3 = (a3 + Math.imul(src[p + s3] ?? 0, w)) | 0;
          a4 = (a4 + Math.imul(src[p + s4] ?? 0, w)) | 0;
          a5 = (a5 + Math.imul(src[p + s5] ?? 0, w)) | 0;
          a6 = (a6 + Math.imul(src[p + s6] ?? 0, w)) | 0;
          a7 = (a7 + Math.imul(src[p + s7] ?? 0, w)) | 0;
        }
        const q = o * outStep + l * d;
        dst[q] = clip8(a0);
        dst[q + d] = clip8(a1);
        dst[q + 2 * d] = clip8(a2);
        dst[q + 3 * d] = clip8(a3);
        dst[q + 4 * d] = clip8(a4);
        dst[q + 5 * d] = clip8(a5);
        dst[q + 6 * d] = clip8(a6);
        dst[q + 7 * d] = clip8(a7);
      }
    }
    for (; l < lanes; l++) {
      for (let o = 0, w0 = 0; o < outs; o++, w0 += ksize) {
        const taps = count[o] ?? 0;
        let p = offset + (start[o] ?? 0) * tapStep + l * laneStep;
        let acc = HALF;
        for (let k = w0, end = w0 + taps; k < end; k++, p += tapStep)
          acc = (acc + Math.imul(src[p] ?? 0, weights32[k] ?? 0)) | 0;
        dst[o * outStep + l * d] = clip8(acc);
      }
    }
    return;
  }
  for (; l < lanes; l++) {
    for (let o = 0, w0 = 0; o < outs; o++, w0 += ksize) {
      const taps = count[o] ?? 0;
      let p = offset + (start[o] ?? 0) * tapStep + l * laneStep;
      let acc = HALF;
      for (let k = w0, end = w0 + taps; k < end; k++, p += tapStep) acc += (src[p] ?? 0) * (weights[k] ?? 0);
      dst[o * outStep + l * dstLaneStep] = clip8(acc);
    }
  }
}

/** The horizontal pass: `rows` rows of the view resampled to `c`'s out size, into `dst` (contiguous). */
function horizontalPass(
  src: Uint8Array,
  offset: number,
  stride: number,
  rows: number,
  c: Coefficients,
  dst: Uint8Array,
): void {
  resamplePass(src, offset, 1, stride, rows, c, dst, 1, c.start.length);
}

/** The vertical pass: the view's `width` columns resampled to `c`'s out size in rows, into `dst`. */
function verticalPass(
  src: Uint8Array,
  offset: number,
  stride: number,
  width: number,
  c: Coefficients,
  dst: Uint8Array,
): void {
  resamplePass(src, offset, stride, 1, width, c, dst, width, 1);
}

/**
 * Scratch rasters for the intermediate (horizontally resampled) images, reused from call to call:
 * hashing runs synchronously, one image at a time, and no result points into them. When hashing
 * they hold the raster's height × 32 bytes; a larger one (a big resizeLanczos) is not kept.
 */
let wideScratch: Uint8Array = new Uint8Array(0);
let phashWideScratch: Uint8Array = new Uint8Array(0);
const SCRATCH_KEPT_MAX = 1 << 20;

function scratchWide(size: number): Uint8Array {
  if (wideScratch.length >= size) return wideScratch;
  const fresh = new Uint8Array(size);
  if (size <= SCRATCH_KEPT_MAX) wideScratch = fresh;
  return fresh;
}

/**
 * {@link resizeLanczos} of the view (`inW` × `inH` pixels from `offset`, rows `stride` apart) into
 * `dst` (`outW` × `outH`, contiguous); the intermediate image goes to the scratch raster.
 */
function resizeInto(
  src: Uint8Array,
  offset: number,
  stride: number,
  inW: number,
  inH: number,
  outW: number,
  outH: number,
  dst: Uint8Array,
): void {
  if (inW === outW) {
    if (inH !== outH) verticalPass(src, offset, stride, inW, lanczosCoefficients(inH, outH), dst);
    else
      for (let y = 0; y < inH; y++)
        dst.set(src.subarray(offset + y * stride, offset + y * stride + inW), y * inW);
    return;
  }
  const cx = lanczosCoefficients(inW, outW);
  if (inH === outH) {
    horizontalPass(src, offset, stride, inH, cx, dst);
    return;
  }
  const wide = scratchWide(inH * outW);
  horizontalPass(src, offset, stride, inH, cx, wide);
  verticalPass(wide, 0, outW, outW, lanczosCoefficients(inH, outH), dst);
}

function checkSize(src: GreyImage): void {
  if (src.width < 1 || src.height < 1) throw new Error('resize: empty image');
}

/**
 * PIL `Image.resize(size, LANCZOS)` for an 8-bit greyscale image: horizontal pass first, then
 * vertical, each rounded to 8 bits, skipping a pass whose size does not change (as PIL does).
 * Returns fresh pixels (or `src` itself when the size does not change).
 */
export function resizeLanczos(src: GreyImage, outW: number, outH: number): GreyImage {
  if (outW < 1 || outH < 1) throw new Error('resize: empty image');
  checkSize(src);
  if (src.width === outW && src.height === outH) return src;
  const data = new Uint8Array(outW * outH);
  resizeInto(src.data, 0, src.width, src.width, src.height, outW, outH, data);
  return { data, width: outW, height: outH };
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

/** 64 bits given as two 32-bit halves (first bit = most significant of `hi`) as 16 hex digits. */
function halvesToHex(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

const AHASH_SMALL = new Uint8Array(64);
const DHASH_SMALL = new Uint8Array(72);

/** aHash bits of an 8×8 image: pixel > mean. */
function averageBits(small: Uint8Array): string {
  let sum = 0;
  for (let i = 0; i < 64; i++) sum += small[i] ?? 0;
  const mean = sum / 64;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 32; i++) hi = (hi << 1) | ((small[i] ?? 0) > mean ? 1 : 0);
  for (let i = 32; i < 64; i++) lo = (lo << 1) | ((small[i] ?? 0) > mean ? 1 : 0);
  return halvesToHex(hi, lo);
}

/** dHash bits of a 9×8 image: right pixel > left pixel, row by row. */
function differenceBits(small: Uint8Array): string {
  let hi = 0;
  let lo = 0;
  for (let y = 0; y < 4; y++)
    for (let x = 0, p = y * 9; x < 8; x++, p++)
      hi = (hi << 1) | ((small[p + 1] ?? 0) > (small[p] ?? 0) ? 1 : 0);
  for (let y = 4; y < 8; y++)
    for (let x = 0, p = y * 9; x < 8; x++, p++)
      lo = (lo << 1) | ((small[p + 1] ?? 0) > (small[p] ?? 0) ? 1 : 0);
  return halvesToHex(hi, lo);
}

/** imagehash `average_hash`: 8×8, bit = pixel > mean. */
export function averageHash(grey: GreyImage): string {
  checkSize(grey);
  resizeInto(grey.data, 0, grey.width, grey.width, grey.height, 8, 8, AHASH_SMALL);
  return averageBits(AHASH_SMALL);
}

/** imagehash `dhash`: 9 wide × 8 high, bit = `pixels[:, 1:] > pixels[:, :-1]` (right > left). */
export function differenceHash(grey: GreyImage): string {
  checkSize(grey);
  resizeInto(grey.data, 0, grey.width, grey.width, grey.height, 9, 8, DHASH_SMALL);
  return differenceBits(DHASH_SMALL);
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

/** Size of the pHash's low-frequency corner (8×8 = 64 bits). */
const PHASH_LOW = 8;
const PHASH_SMALL = new Uint8Array(PHASH_DCT_SIZE * PHASH_DCT_SIZE);
const PHASH_COLS = new Float64Array(PHASH_LOW * PHASH_DCT_SIZE);
const PHASH_COEFFS = new Float64Array(PHASH_LOW * PHASH_LOW);
const PHASH_SORTED = new Float64Array(PHASH_LOW * PHASH_LOW);

/** A DCT coefficient on the 1e-6 grid (see {@link perceptualHash}). */
function snap(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/**
 * pHash bits of a 32×32 view (rows `stride` apart from `offset`): `dct2dCorner(…, 32, 8)` with the
 * same sums in the same order, snapped as {@link perceptualHash} explains, bit = value > median.
 */
function phashBits(src: Uint8Array, offset: number, stride: number): string {
  const n = PHASH_DCT_SIZE;
  const m = PHASH_LOW;
  const cols = PHASH_COLS;
  const low = PHASH_COEFFS;
  // Eight sums at a time (eight columns, then the m = 8 frequencies; n = 32 is a multiple of 8)
  // sharing each load; each sum still starts at 0 and adds its terms in dct2dCorner's order, so
  // the floating-point values are equal.
  for (let k = 0; k < m; k++) {
    for (let x = 0; x < n; x += 8) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let s4 = 0;
      let s5 = 0;
      let s6 = 0;
      let s7 = 0;
      for (let y = 0, at = offset + x; y < n; y++, at += stride) {
        const c = COSINES[k * n + y] ?? 0;
        s0 += (src[at] ?? 0) * c;
        s1 += (src[at + 1] ?? 0) * c;
        s2 += (src[at + 2] ?? 0) * c;
        s3 += (src[at + 3] ?? 0) * c;
        s4 += (src[at + 4] ?? 0) * c;
        s5 += (src[at + 5] ?? 0) * c;
        s6 += (src[at + 6] ?? 0) * c;
        s7 += (src[at + 7] ?? 0) * c;
      }
      const q = k * n + x;
      cols[q] = 2 * s0;
      cols[q + 1] = 2 * s1;
      cols[q + 2] = 2 * s2;
      cols[q + 3] = 2 * s3;
      cols[q + 4] = 2 * s4;
      cols[q + 5] = 2 * s5;
      cols[q + 6] = 2 * s6;
      cols[q + 7] = 2 * s7;
    }
  }
  for (let y = 0; y < m; y++) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let s5 = 0;
    let s6 = 0;
    let s7 = 0;
    for (let x = 0; x < n; x++) {
      const v = cols[y * n + x] ?? 0;
      s0 += v * (COSINES[x] ?? 0);
      s1 += v * (COSINES[n + x] ?? 0);
      s2 += v * (COSINES[2 * n + x] ?? 0);
      s3 += v * (COSINES[3 * n + x] ?? 0);
      s4 += v * (COSINES[4 * n + x] ?? 0);
      s5 += v * (COSINES[5 * n + x] ?? 0);
      s6 += v * (COSINES[6 * n + x] ?? 0);
      s7 += v * (COSINES[7 * n + x] ?? 0);
    }
    const q = y * m;
    low[q] = snap(2 * s0);
    low[q + 1] = snap(2 * s1);
    low[q + 2] = snap(2 * s2);
    low[q + 3] = snap(2 * s3);
    low[q + 4] = snap(2 * s4);
    low[q + 5] = snap(2 * s5);
    low[q + 6] = snap(2 * s6);
    low[q + 7] = snap(2 * s7);
  }
  // Insertion sort of a copy (64 values): the median is the mean of the two middle ones. Ties and
  // the order of -0 and 0 change neither the median's value nor any comparison with it.
  const sorted = PHASH_SORTED;
  for (let i = 0; i < 64; i++) {
    const v = low[i] ?? 0;
    let j = i;
    for (; j > 0 && (sorted[j - 1] ?? 0) > v; j--) sorted[j] = sorted[j - 1] ?? 0;
    sorted[j] = v;
  }
  const median = ((sorted[31] ?? 0) + (sorted[32] ?? 0)) / 2;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 32; i++) hi = (hi << 1) | ((low[i] ?? 0) > median ? 1 : 0);
  for (let i = 32; i < 64; i++) lo = (lo << 1) | ((low[i] ?? 0) > median ? 1 : 0);
  return halvesToHex(hi, lo);
}

/**
 * pHash of `rows` rows, 32 wide, of a view: resampled vertically to 32 rows first unless there are
 * already 32 (then the DCT reads them in place).
 */
function phashOfWide(src: Uint8Array, offset: number, stride: number, rows: number): string {
  const n = PHASH_DCT_SIZE;
  if (rows === n) return phashBits(src, offset, stride);
  verticalPass(src, offset, stride, n, lanczosCoefficients(rows, n), PHASH_SMALL);
  return phashBits(PHASH_SMALL, 0, n);
}

/** imagehash `phash`: 32×32, DCT, top-left 8×8 (DC included), bit = coefficient > median of the 64. */
export function perceptualHash(grey: GreyImage): string {
  // The DCT coefficients are snapped to a 1e-6 grid (float noise is ~1e-10): coefficients that are
  // exactly 0 in scipy's FFT-based DCT (constant rows, symmetric images) must compare equal to a
  // median of 0 here too.
  checkSize(grey);
  return phashOfView(grey, 0, 0, grey.width, grey.height);
}

/** pHash of the `w` × `h` part of `grey` at (x0, y0), read in place. */
function phashOfView(grey: GreyImage, x0: number, y0: number, w: number, h: number): string {
  const n = PHASH_DCT_SIZE;
  const offset = y0 * grey.width + x0;
  if (w === n) return phashOfWide(grey.data, offset, grey.width, h);
  const wide = scratchWide(h * n);
  horizontalPass(grey.data, offset, grey.width, h, lanczosCoefficients(w, n), wide);
  return phashOfWide(wide, 0, n, h);
}

/**
 * Sides (fractions of width and height) of the centred crops whose pHashes are kept next to the
 * full image's: an image cropped by 2.5 % on each side shows the centre 95 % of the original, so
 * its pHash is close to the original's 95 % crop pHash (docs/perceptual-hashes.md).
 */
export const CROP_SCALES: readonly number[] = Object.freeze([0.95, 0.9]);

interface CropBox {
  readonly x0: number;
  readonly y0: number;
  readonly width: number;
  readonly height: number;
}

/** Where {@link centreCrop} cuts. */
function cropBox(width: number, height: number, scale: number): CropBox {
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  return { x0: Math.floor((width - w) / 2), y0: Math.floor((height - h) / 2), width: w, height: h };
}

/** The centred `scale` × `scale` part of an image (at least 1 × 1 pixel). */
export function centreCrop(grey: GreyImage, scale: number): GreyImage {
  const { x0, y0, width, height } = cropBox(grey.width, grey.height, scale);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y + y0) * grey.width + x0;
    data.set(grey.data.subarray(from, from + width), y * width);
  }
  return { data, width, height };
}

/** pHashes of the centred crops in {@link CROP_SCALES}, in that order (read in place, not copied). */
export function cropHashes(grey: GreyImage): string[] {
  checkSize(grey);
  return CROP_SCALES.map((s) => {
    const box = cropBox(grey.width, grey.height, s);
    return phashOfView(grey, box.x0, box.y0, box.width, box.height);
  });
}

/**
 * All three hashes of one greyscale image, and the pHashes of its centred crops. The same values as
 * the separate functions; the full image's horizontal pass to 32 columns is kept for the crops as
 * wide as the image (small images), whose rows it already holds.
 */
export function computeHashes(grey: GreyImage): PerceptualHashes {
  checkSize(grey);
  const { data, width, height } = grey;
  const n = PHASH_DCT_SIZE;
  // The full image as rows 32 wide: the image itself, or its horizontal pass.
  let wide: Uint8Array = data;
  if (width !== n) {
    if (phashWideScratch.length < height * n) {
      wide = new Uint8Array(height * n);
      if (wide.length <= SCRATCH_KEPT_MAX) phashWideScratch = wide;
    } else wide = phashWideScratch;
    horizontalPass(data, 0, width, height, lanczosCoefficients(width, n), wide);
  }
  const phash = phashOfWide(wide, 0, n, height);
  const phash_crops = CROP_SCALES.map((s) => {
    const box = cropBox(width, height, s);
    return box.width === width
      ? phashOfWide(wide, box.y0 * n, n, box.height)
      : phashOfView(grey, box.x0, box.y0, box.width, box.height);
  });
  resizeInto(data, 0, width, width, height, 9, 8, DHASH_SMALL);
  resizeInto(data, 0, width, width, height, 8, 8, AHASH_SMALL);
  return { phash, dhash: differenceBits(DHASH_SMALL), ahash: averageBits(AHASH_SMALL), phash_crops };
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
