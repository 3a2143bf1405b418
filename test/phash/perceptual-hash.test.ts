import { describe, expect, it } from 'vitest';
import {
  averageHash,
  bigIntToHex,
  bitsToHex,
  computeHashes,
  dct2d,
  dct2dCorner,
  differenceHash,
  hamming64,
  hammingHalves,
  hammingHex,
  hexToBigInt,
  hexToSigned64,
  hexToUnsigned64,
  isPerceptualHex,
  perceptualHash,
  popcount32,
  resizeLanczos,
  toGreyscale,
  toHalves,
  type GreyImage,
} from '../../src/domain/perceptual-hash.js';
import { rng } from './fixtures.js';

function grey(width: number, height: number, f: (x: number, y: number) => number): GreyImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { data, width, height };
}

/** The DCT-II straight from its definition, O(n^4). */
function naiveDct2d(input: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let k1 = 0; k1 < n; k1++) {
    for (let k2 = 0; k2 < n; k2++) {
      let s = 0;
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          s +=
            input[y * n + x]! *
            Math.cos((Math.PI * k1 * (2 * y + 1)) / (2 * n)) *
            Math.cos((Math.PI * k2 * (2 * x + 1)) / (2 * n));
        }
      }
      out[k1 * n + k2] = 4 * s;
    }
  }
  return out;
}

describe('dct2d', () => {
  it.each([4, 8, 32])('matches the O(n^4) definition on random input (n=%i)', (n) => {
    const r = rng(n);
    const input = Array.from({ length: n * n }, () => Math.floor(r() * 256));
    const fast = dct2d(input, n);
    const naive = naiveDct2d(input, n);
    for (let i = 0; i < n * n; i++) expect(fast[i]).toBeCloseTo(naive[i]!, 6);
  });

  it('dct2dCorner: the low 8×8 corner bit for bit as dct2d computes it (pHash values unchanged)', () => {
    const r = rng(5);
    for (let t = 0; t < 50; t++) {
      const input = Array.from({ length: 32 * 32 }, (_, i) =>
        t % 5 === 0 ? 77 : Math.floor(r() * 256) + (i % 3),
      );
      const full = dct2d(input, 32);
      const corner = dct2dCorner(input, 32, 8);
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) expect(Object.is(corner[y * 32 + x], full[y * 32 + x])).toBe(true);
    }
  });

  it('follows scipy scaling: the DC term of a constant is 4·n²·value', () => {
    expect(dct2d(new Array(64).fill(3), 8)[0]).toBeCloseTo(4 * 64 * 3, 9);
  });
});

describe('toGreyscale (PIL convert("L"))', () => {
  it('uses ITU-R 601-2 luma with PIL rounding', () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 12, 200, 77, 255, 255, 255, 1, 2, 3]);
    // Values from Pillow 9.4 `Image.convert('L')` on the same pixels.
    expect([...toGreyscale(rgb, 6, 1, 3).data]).toEqual([76, 150, 29, 130, 255, 2]);
  });

  it('ignores alpha and reads grey channels directly', () => {
    expect([...toGreyscale(Uint8Array.from([255, 0, 0, 0]), 1, 1, 4).data]).toEqual([76]);
    expect([...toGreyscale(Uint8Array.from([9, 255, 200, 0]), 2, 1, 2).data]).toEqual([9, 200]);
  });
});

describe('resizeLanczos (PIL Image.resize LANCZOS on mode L)', () => {
  const src = grey(10, 7, (x, y) => (x * 37 + y * 91) % 256);
  // Expected pixels from Pillow 9.4 on the same 10×7 image.
  it.each([
    [4, 3, [88, 139, 122, 95, 120, 106, 131, 122, 122, 117, 115, 121]],
    [3, 7, [44, 160, 70, 155, 130, 104, 113, 90, 155, 61, 177, 87, 160, 75, 129, 130, 107, 172, 90, 144, 59]],
    [
      10,
      3,
      [
        73, 110, 91, 128, 182, 106, 139, 76, 113, 94, 107, 144, 91, 128, 90, 112, 164, 110, 147, 94, 113, 150,
        91, 128, 105, 146, 83, 116, 153, 94,
      ],
    ],
  ])('to %i×%i equals Pillow bit for bit', (w, h, expected) => {
    expect([...resizeLanczos(src, w, h).data]).toEqual(expected);
  });

  it('upscales like Pillow too (13×9)', () => {
    const out = resizeLanczos(src, 13, 9).data;
    expect([...out.slice(0, 13)]).toEqual([0, 17, 49, 71, 101, 128, 161, 227, 229, 34, 0, 59, 70]);
    expect([...out.slice(-6)]).toEqual([169, 0, 6, 46, 87, 124]);
  });

  it('keeps a constant image constant', () => {
    expect(
      new Set(
        resizeLanczos(
          grey(300, 200, () => 77),
          32,
          32,
        ).data,
      ),
    ).toEqual(new Set([77]));
  });
});

describe('hashes of images whose bits are known by construction', () => {
  // Expected hex also checked against imagehash 4.3 (Pillow 9.4, scipy) on the same pixels.
  const leftBright = grey(256, 64, (x) => 255 - x);
  const rightBright = grey(256, 64, (x) => x);
  const topBright = grey(64, 64, (_x, y) => (y < 32 ? 255 : 0));
  const constant = grey(70, 50, () => 128);

  it('dHash is 1 where the right pixel is brighter (imagehash: pixels[:, 1:] > pixels[:, :-1])', () => {
    expect(differenceHash(leftBright)).toBe('0000000000000000');
    expect(differenceHash(rightBright)).toBe('ffffffffffffffff');
    expect(differenceHash(topBright)).toBe('0000000000000000');
  });

  it('aHash is 1 for pixels above the mean, row-major, first bit most significant', () => {
    expect(averageHash(topBright)).toBe('ffffffff00000000');
    expect(averageHash(leftBright)).toBe('f0f0f0f0f0f0f0f0');
    expect(averageHash(rightBright)).toBe('0f0f0f0f0f0f0f0f');
    expect(averageHash(constant)).toBe('0000000000000000');
  });

  it('pHash keeps the DC term: a constant image has only its first bit set', () => {
    expect(perceptualHash(constant)).toBe('8000000000000000');
    // A vertical step has energy only in column 0, odd rows with alternating sign (+, -, +, -).
    expect(perceptualHash(topBright)).toBe('8080000000800000');
    expect(perceptualHash(leftBright)).toBe('ff00000000000000');
    expect(perceptualHash(rightBright)).toBe('aa00000000000000');
  });

  it('computeHashes returns all three, and the crop pHashes', () => {
    expect(computeHashes(constant)).toEqual({
      phash: '8000000000000000',
      dhash: '0000000000000000',
      ahash: '0000000000000000',
      phash_crops: ['8000000000000000', '8000000000000000'],
    });
  });
});

describe('bits, hex and integers', () => {
  it('bitsToHex is row-major with the first bit as most significant', () => {
    const bits = new Array<boolean>(64).fill(false);
    bits[0] = true;
    bits[63] = true;
    expect(bitsToHex(bits)).toBe('8000000000000001');
    expect(() => bitsToHex([true])).toThrow();
  });

  it('round-trips hex ↔ BigInt and gives DuckDB UBIGINT / BIGINT values', () => {
    expect(hexToBigInt('8000000000000001')).toBe(0x8000000000000001n);
    expect(bigIntToHex(0xabn)).toBe('00000000000000ab');
    expect(bigIntToHex(hexToBigInt('ffffffffffffffff'))).toBe('ffffffffffffffff');
    expect(hexToUnsigned64('ffffffffffffffff')).toBe(18446744073709551615n);
    expect(hexToSigned64('ffffffffffffffff')).toBe(-1n);
    expect(hexToSigned64('7fffffffffffffff')).toBe(9223372036854775807n);
    expect(hexToSigned64('8000000000000000')).toBe(-9223372036854775808n);
    expect(() => hexToBigInt('ABCDEF0123456789')).toThrow();
    expect(() => bigIntToHex(-1n)).toThrow();
    expect(isPerceptualHex('0123456789abcdef')).toBe(true);
    expect(isPerceptualHex('0123456789abcde')).toBe(false);
  });

  it('popcount32 equals a bit-by-bit count', () => {
    const r = rng(3);
    for (let i = 0; i < 2000; i++) {
      const x = Math.floor(r() * 2 ** 32);
      let slow = 0;
      for (let b = 0; b < 32; b++) slow += (x >>> b) & 1;
      expect(popcount32(x)).toBe(slow);
    }
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(-1)).toBe(32);
  });

  it('Hamming distances agree in hex, BigInt and halves', () => {
    const r = rng(4);
    for (let i = 0; i < 200; i++) {
      const a = (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
      const b = (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
      const slow = [...(a ^ b).toString(2)].filter((c) => c === '1').length;
      const ha = toHalves(a);
      const hb = toHalves(b);
      expect(hamming64(a, b)).toBe(slow);
      expect(hammingHex(bigIntToHex(a), bigIntToHex(b))).toBe(slow);
      expect(hammingHalves(ha.hi, ha.lo, hb.hi, hb.lo)).toBe(slow);
    }
    expect(hammingHex('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hamming64(-1n, 0n)).toBe(64);
  });
});
