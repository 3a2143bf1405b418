/**
 * The optimised hashing code (src/domain/perceptual-hash.ts) against a straightforward reference
 * kept here: the implementation as it was before it was optimised (commit b87ed70), one resample
 * pass per call, fresh arrays everywhere, crops copied. Every output must be equal bit for bit, on
 * random rasters of many sizes and kinds (noise, gradients, steps, constants, symmetric images).
 */
import { describe, expect, it } from 'vitest';
import {
  averageHash,
  centreCrop,
  computeHashes,
  dct2dCorner,
  differenceHash,
  perceptualHash,
  resizeLanczos,
  type GreyImage,
} from '../../src/domain/perceptual-hash.js';
import type { PerceptualHashes } from '../../src/domain/sidecar.js';
import { rng } from './fixtures.js';

// ---- Reference implementation (unoptimised, as of commit b87ed70) ----

const PRECISION_BITS = 22;
const PRECISION_SCALE = 2 ** PRECISION_BITS;
const LANCZOS_SUPPORT = 3;
const N = 32;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return x >= -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / LANCZOS_SUPPORT) : 0;
}

interface Coefficients {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float64Array;
  readonly ksize: number;
}

function refCoefficients(inSize: number, outSize: number): Coefficients {
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
      const k = sum === 0 ? raw[x]! : raw[x]! / sum;
      weights[xx * ksize + x] =
        k < 0 ? Math.trunc(-0.5 + k * PRECISION_SCALE) : Math.trunc(0.5 + k * PRECISION_SCALE);
    }
    start[xx] = xmin;
    count[xx] = Math.max(xmax, 0);
  }
  return { start, count, weights, ksize };
}

function refClip8(acc: number): number {
  const v = Math.floor(acc / PRECISION_SCALE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function refPass(src: GreyImage, outW: number, outH: number, horizontal: boolean): GreyImage {
  const c = horizontal ? refCoefficients(src.width, outW) : refCoefficients(src.height, outH);
  const out = new Uint8Array(outW * outH);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const first = c.start[o]!;
      const taps = c.count[o]!;
      let acc = half;
      for (let k = 0; k < taps; k++) {
        const idx = horizontal ? y * src.width + first + k : (first + k) * src.width + x;
        acc += src.data[idx]! * c.weights[o * c.ksize + k]!;
      }
      out[y * outW + x] = refClip8(acc);
    }
  }
  return { data: out, width: outW, height: outH };
}

function refResize(src: GreyImage, outW: number, outH: number): GreyImage {
  const wide = src.width === outW ? src : refPass(src, outW, src.height, true);
  return wide.height === outH ? wide : refPass(wide, outW, outH, false);
}

function refBitsToHex(bits: ArrayLike<boolean>): string {
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let v = 0;
    for (let b = 0; b < 4; b++) v = (v << 1) | (bits[nibble * 4 + b] === true ? 1 : 0);
    hex += v.toString(16);
  }
  return hex;
}

function refAverageHash(grey: GreyImage): string {
  const small = refResize(grey, 8, 8).data;
  let sum = 0;
  for (const v of small) sum += v;
  const mean = sum / 64;
  return refBitsToHex(Array.from(small, (v) => v > mean));
}

function refDifferenceHash(grey: GreyImage): string {
  const small = refResize(grey, 9, 8).data;
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) bits.push(small[y * 9 + x + 1]! > small[y * 9 + x]!);
  return refBitsToHex(bits);
}

const REF_COS = (() => {
  const t = new Float64Array(N * N);
  for (let k = 0; k < N; k++) {
    for (let i = 0; i < N; i++) t[k * N + i] = Math.cos((Math.PI * k * (2 * i + 1)) / (2 * N));
  }
  return t;
})();

function refDctCorner(input: ArrayLike<number>, n: number, m: number): Float64Array {
  const cos = REF_COS;
  const cols = new Float64Array(n * n);
  for (let k = 0; k < m; k++) {
    for (let x = 0; x < n; x++) {
      let s = 0;
      for (let y = 0; y < n; y++) s += input[y * n + x]! * cos[k * n + y]!;
      cols[k * n + x] = 2 * s;
    }
  }
  const out = new Float64Array(n * n);
  for (let y = 0; y < m; y++) {
    for (let k = 0; k < m; k++) {
      let s = 0;
      for (let x = 0; x < n; x++) s += cols[y * n + x]! * cos[k * n + x]!;
      out[y * n + k] = 2 * s;
    }
  }
  return out;
}

function refPerceptualHash(grey: GreyImage): string {
  const small = refResize(grey, N, N).data;
  const dct = refDctCorner(small, N, 8);
  const low: number[] = [];
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) low.push(Math.round(dct[y * N + x]! * 1e6) / 1e6);
  const sorted = [...low].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  return refBitsToHex(low.map((v) => v > median));
}

function refCentreCrop(grey: GreyImage, scale: number): GreyImage {
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

function refComputeHashes(grey: GreyImage): PerceptualHashes {
  return {
    phash: refPerceptualHash(grey),
    dhash: refDifferenceHash(grey),
    ahash: refAverageHash(grey),
    phash_crops: [0.95, 0.9].map((s) => refPerceptualHash(refCentreCrop(grey, s))),
  };
}

// ---- Random rasters ----

type Kind = 'noise' | 'smooth' | 'step' | 'constant' | 'symmetric' | 'extremes';
const KINDS: readonly Kind[] = ['noise', 'smooth', 'step', 'constant', 'symmetric', 'extremes'];

function raster(width: number, height: number, kind: Kind, r: () => number): GreyImage {
  const data = new Uint8Array(width * height);
  const a = r() * 0.5;
  const b = r() * 0.5;
  const level = Math.floor(r() * 256);
  const cut = Math.floor(r() * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v: number;
      if (kind === 'noise') v = r() * 256;
      else if (kind === 'smooth') v = 128 + 110 * Math.sin(a * x + b * y) + r() * 16;
      else if (kind === 'step') v = x < cut ? level : 255 - level;
      else if (kind === 'constant') v = level;
      else if (kind === 'symmetric') v = Math.abs(2 * x - width + 1) * 5 + Math.abs(2 * y - height + 1) * 3;
      // Black/white pixels make the Lanczos overshoot: exercises the clamping to 0 and 255.
      else v = r() < 0.5 ? 0 : 255;
      data[y * width + x] = Math.max(0, Math.min(255, Math.floor(v)));
    }
  }
  return { data, width, height };
}

const SIZES: readonly (readonly [number, number])[] = [
  [1, 1],
  [1, 9],
  [9, 1],
  [2, 2],
  [7, 3],
  [8, 8],
  [9, 8],
  [10, 10],
  [11, 5],
  [20, 19],
  [31, 33],
  [32, 32],
  [32, 40],
  [40, 32],
  [33, 31],
  [64, 200],
  [200, 64],
  [128, 128],
  [128, 97],
  [97, 128],
  [122, 122],
  [115, 115],
  [256, 256],
  [300, 17],
];

describe('computeHashes equals the unoptimised reference bit for bit', () => {
  it.each(SIZES)('on random %i×%i rasters of every kind', (w, h) => {
    const r = rng(w * 1000 + h);
    for (const kind of KINDS) {
      for (let rep = 0; rep < (w * h > 20000 ? 2 : 6); rep++) {
        const img = raster(w, h, kind, r);
        const copy = Uint8Array.from(img.data);
        const expected = refComputeHashes(img);
        expect(computeHashes(img), `${kind} #${rep}`).toEqual(expected);
        expect(perceptualHash(img)).toBe(expected.phash);
        expect(differenceHash(img)).toBe(expected.dhash);
        expect(averageHash(img)).toBe(expected.ahash);
        // The input is not modified (the optimised code reads crops in place).
        expect(img.data.every((v, j) => v === copy[j])).toBe(true);
      }
    }
  });

  it('on rasters of random sizes, interleaved (no state leaks between calls of different sizes)', () => {
    const r = rng(4242);
    for (let i = 0; i < 150; i++) {
      const w = 1 + Math.floor(r() * 160);
      const h = 1 + Math.floor(r() * 160);
      const img = raster(w, h, KINDS[i % KINDS.length]!, r);
      expect(computeHashes(img), `${w}×${h}`).toEqual(refComputeHashes(img));
    }
  });
});

describe('the exported building blocks equal the reference', () => {
  it('resizeLanczos, to and from random sizes (down, up, one axis only)', () => {
    const r = rng(77);
    for (let i = 0; i < 300; i++) {
      const w = 1 + Math.floor(r() * 90);
      const h = 1 + Math.floor(r() * 90);
      const ow = r() < 0.2 ? w : 1 + Math.floor(r() * 70);
      const oh = r() < 0.2 ? h : 1 + Math.floor(r() * 70);
      const img = raster(w, h, KINDS[i % KINDS.length]!, r);
      const got = resizeLanczos(img, ow, oh);
      const want = refResize(img, ow, oh);
      expect([got.width, got.height], `${w}×${h} → ${ow}×${oh}`).toEqual([want.width, want.height]);
      expect(got.data, `${w}×${h} → ${ow}×${oh}`).toEqual(want.data);
    }
  });

  it('resizeLanczos returns fresh pixels: a later call does not overwrite an earlier result', () => {
    const r = rng(5);
    const a = raster(50, 40, 'noise', r);
    const first = resizeLanczos(a, 32, 32);
    const kept = Uint8Array.from(first.data);
    resizeLanczos(raster(50, 40, 'noise', r), 32, 32);
    computeHashes(raster(64, 64, 'noise', r));
    expect(first.data).toEqual(kept);
  });

  it('dct2dCorner and centreCrop', () => {
    const r = rng(9);
    for (let i = 0; i < 20; i++) {
      const input = Array.from({ length: N * N }, () => Math.floor(r() * 256));
      expect(dct2dCorner(input, N, 8)).toEqual(refDctCorner(input, N, 8));
      const img = raster(1 + Math.floor(r() * 50), 1 + Math.floor(r() * 50), 'noise', r);
      for (const s of [0.95, 0.9]) expect(centreCrop(img, s)).toEqual(refCentreCrop(img, s));
    }
  });
});
