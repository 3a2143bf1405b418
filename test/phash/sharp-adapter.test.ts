import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyseImage,
  analyseImageAndPixels,
  decodeCheck,
  pixelHash,
  thumbnail,
  type ImageAnalysisResult,
} from '../../src/adapters/sharp.adapter.js';
import { nearDistance } from '../../src/domain/near-duplicates.js';
import { CROP_SCALES, hammingHex, hexToBigInt } from '../../src/domain/perceptual-hash.js';
import { pattern, rawImage, scene } from './fixtures.js';

let dir: string;
let scenePath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alice-phash-'));
  scenePath = join(dir, 'scene.png');
  await writeFile(scenePath, await scene(1));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function hashesOf(r: ImageAnalysisResult): { phash: string; dhash: string; ahash: string } {
  if (!r.ok) throw new Error(`expected ok, got ${r.kind}: ${r.reason}`);
  const { phash, dhash, ahash } = r.hashes;
  return { phash, dhash, ahash };
}

async function writePng(name: string, img: sharp.Sharp): Promise<string> {
  const path = join(dir, name);
  await img.png().toFile(path);
  return path;
}

describe('analyseImage: same hashes as imagehash 4.3 (Pillow 9.4 + scipy)', () => {
  // Images up to workingSize per side are not pre-resized, so they must match bit for bit.
  // (The default working size is 128; 512 keeps these test images whole.)
  it.each([
    [0, 200, 150, 'a6044b35413f4f6f', 'd27a2dad965e4ea1', '03171707478787f9'],
    [1, 37, 91, '95151d151515ebeb', 'bccbcbbccbcbbccb', '1ee1e11ee1f11ee1'],
    [2, 256, 256, '803237f93fc0d8c7', 'ffe783b3b383e7ff', '03237bffff7b2303'],
  ] as const)('pattern %i at %i×%i matches exactly', async (kind, w, h, phash, dhash, ahash) => {
    const path = await writePng(`p${kind}.png`, rawImage(pattern(w, h, kind), w, h));
    const r = await analyseImage(path, { workingSize: 512 });
    expect(hashesOf(r)).toEqual({ phash, dhash, ahash });
    const byDefault = hashesOf(await analyseImage(path));
    if (w <= 128 && h <= 128) expect(byDefault).toEqual({ phash, dhash, ahash });
    else {
      expect(hammingHex(byDefault.phash, phash)).toBeLessThanOrEqual(4);
      expect(hammingHex(byDefault.dhash, dhash)).toBeLessThanOrEqual(4);
      expect(hammingHex(byDefault.ahash, ahash)).toBeLessThanOrEqual(4);
    }
    expect(r).toMatchObject({ width: w, height: h, format: 'png', hasAlpha: false });
  });

  it('large images (pre-shrunk to the working size) stay within a few bits', async () => {
    const path = await writePng('p2-big.png', rawImage(pattern(1000, 700, 2), 1000, 700));
    const got = hashesOf(await analyseImage(path));
    expect(hammingHex(got.phash, '803f3fd838c7c0c7')).toBeLessThanOrEqual(4);
    expect(hammingHex(got.dhash, 'ffefc7c7c7c7efff')).toBeLessThanOrEqual(4);
    expect(hammingHex(got.ahash, '0727777f7f772707')).toBeLessThanOrEqual(4);
    const s = hashesOf(await analyseImage(scenePath));
    expect(hammingHex(s.phash, 'a6e64c6ab75a4958')).toBeLessThanOrEqual(4);
    expect(hammingHex(s.dhash, '0786e58c0f13183e')).toBeLessThanOrEqual(4);
  });

  it('known-by-construction files: gradient, half white, constant', async () => {
    const grad = Buffer.alloc(256 * 64);
    for (let i = 0; i < grad.length; i++) grad[i] = 255 - (i % 256);
    const half = Buffer.alloc(64 * 64);
    half.fill(255, 0, 32 * 64);
    const leftBright = await writePng('grad.png', rawImage(grad, 256, 64, 1));
    const topBright = await writePng('half.png', rawImage(half, 64, 64, 1));
    const constant = await writePng('flat.png', rawImage(Buffer.alloc(70 * 50 * 3, 128), 70, 50));
    // 256 px wide: above the default working size of 128, so exactness needs 512.
    expect(hashesOf(await analyseImage(leftBright, { workingSize: 512 }))).toEqual({
      phash: 'ff00000000000000',
      dhash: '0000000000000000',
      ahash: 'f0f0f0f0f0f0f0f0',
    });
    expect(hashesOf(await analyseImage(topBright))).toEqual({
      phash: '8080000000800000',
      dhash: '0000000000000000',
      ahash: 'ffffffff00000000',
    });
    expect(hashesOf(await analyseImage(constant))).toEqual({
      phash: '8000000000000000',
      dhash: '0000000000000000',
      ahash: '0000000000000000',
    });
  });
});

describe('analyseImage: invariance', () => {
  it('survives resize to 50%, JPEG q70 and +10% brightness; unrelated images are far', async () => {
    const base = hashesOf(await analyseImage(scenePath)).phash;
    const variants = {
      half: await sharp(scenePath).resize(512, 512).png().toBuffer(),
      jpeg70: await sharp(scenePath).jpeg({ quality: 70 }).toBuffer(),
      brighter: await sharp(scenePath).modulate({ brightness: 1.1 }).png().toBuffer(),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const path = join(dir, `variant-${name}`);
      await writeFile(path, bytes);
      const d = hammingHex(base, hashesOf(await analyseImage(path)).phash);
      expect(d, name).toBeLessThanOrEqual(6);
    }
    for (const seed of [2, 3]) {
      const other = hashesOf(await analyseImage(await scene(seed))).phash;
      expect(hammingHex(base, other), `scene ${seed}`).toBeGreaterThan(16);
    }
  });

  it('applies EXIF orientation: size and hashes are those of the displayed image', async () => {
    const upright = await sharp(scenePath).resize(400, 300).jpeg({ quality: 95 }).toBuffer();
    // Stored rotated 90° counter-clockwise, tagged "rotate 90 CW to display" (orientation 6).
    const stored = await sharp(upright)
      .rotate(-90)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    const a = await analyseImage(upright);
    const b = await analyseImage(stored);
    expect(b).toMatchObject({ ok: true, width: 400, height: 300, format: 'jpeg' });
    expect(hammingHex(hashesOf(a).phash, hashesOf(b).phash)).toBeLessThanOrEqual(4);
  });

  it('reports alpha and hashes transparent pixels as black', async () => {
    const rgba = Buffer.alloc(64 * 64 * 4);
    for (let i = 0; i < 64 * 64; i++) {
      const opaque = i % 64 < 32;
      rgba.set(opaque ? [255, 255, 255, 255] : [255, 255, 255, 0], i * 4);
    }
    const path = await writePng('alpha.png', rawImage(rgba, 64, 64, 4));
    const r = await analyseImage(path);
    expect(r).toMatchObject({ ok: true, hasAlpha: true });
    expect(hashesOf(r).ahash).toBe('f0f0f0f0f0f0f0f0');
  });
});

describe('analyseImageAndPixels: one decode for plain PNGs, the same results as two', () => {
  it('equals analyseImage + pixelHash for every kind of PNG, JPEG and WebP', async () => {
    const rgb = pattern(200, 150, 1);
    const grey = Buffer.from(Array.from({ length: 90 * 70 }, (_, i) => (i * 7) % 256));
    const rgba = Buffer.from(
      Array.from({ length: 64 * 48 * 4 }, (_, i) => (i % 4 === 3 ? (i * 5) % 256 : (i * 13) % 256)),
    );
    const files = [
      await writePng('k-rgb.png', rawImage(rgb, 200, 150)),
      await writePng('k-rgb-small.png', rawImage(pattern(100, 80, 2), 100, 80)),
      await writePng('k-rgb-8.png', rawImage(pattern(8, 8, 1), 8, 8)),
      await writePng('k-rgb-wide.png', rawImage(pattern(300, 60, 0), 300, 60)),
      await writePng('k-rgba.png', rawImage(rgba, 64, 48, 4)),
      await writePng('k-grey.png', rawImage(grey, 90, 70, 1)),
      await writePng('k-grey-alpha.png', rawImage(grey, 90, 70, 1).ensureAlpha(0.5)),
      await writePng('k-palette.png', rawImage(rgb, 200, 150).png({ palette: true, colours: 16 })),
      await writePng('k-16bit.png', rawImage(rgb, 200, 150).toColourspace('rgb16')),
      await writePng('k-icc.png', rawImage(rgb, 200, 150).withIccProfile('p3')),
      await writePng('k-oriented.png', rawImage(rgb, 200, 150).withMetadata({ orientation: 6 })),
      await writePng('k-big.png', sharp(await scene(3, 700))),
      scenePath,
    ];
    const jpeg = join(dir, 'k.jpg');
    await rawImage(rgb, 200, 150).jpeg({ quality: 80 }).toFile(jpeg);
    const webp = join(dir, 'k.webp');
    await rawImage(rgb, 200, 150).webp({ quality: 80 }).toFile(webp);
    for (const file of [...files, jpeg, webp]) {
      const one = await analyseImageAndPixels(file);
      const two = await analyseImage(file);
      const pixels = await pixelHash(file);
      expect(one.ok && two.ok).toBe(true);
      if (!one.ok || !two.ok) continue;
      const { pixelHash: p, ...rest } = one;
      expect({ file, ...rest }).toEqual({ file, ...two });
      expect(p).toBe(pixels);
    }
  });

  it('the pixel hash read in strips of rows equals the whole-buffer hash, and differs for one changed pixel', async () => {
    const rgb = pattern(200, 150, 1);
    const grey = Buffer.from(Array.from({ length: 90 * 70 }, (_, i) => (i * 7) % 256));
    const changed = Buffer.from(rgb);
    const last = 3 * (200 * 149 + 199); // the last row's last pixel: only the last strip sees it
    changed[last] = (changed[last] ?? 0) ^ 1;
    const files = [
      await writePng('s-rgb.png', rawImage(rgb, 200, 150)),
      await writePng('s-rgba.png', rawImage(rgb, 200, 150).ensureAlpha(0.5)),
      await writePng('s-grey.png', rawImage(grey, 90, 70, 1)),
      await writePng('s-palette.png', rawImage(rgb, 200, 150).png({ palette: true, colours: 16 })),
    ];
    const jpeg = join(dir, 's.jpg');
    await rawImage(rgb, 200, 150).jpeg({ quality: 80 }).toFile(jpeg);
    for (const file of [...files, jpeg]) {
      const whole = await pixelHash(file);
      expect(whole).toMatch(/^[0-9a-f]{64}$/);
      // 1,000 bytes: strips of a few rows, the last one shorter.
      expect(await pixelHash(file, undefined, 1000), file).toBe(whole);
    }
    const other = await writePng('s-rgb-changed.png', rawImage(changed, 200, 150));
    expect(await pixelHash(other, undefined, 1000)).not.toBe(
      await pixelHash(files[0] as string, undefined, 1000),
    );
  });

  it('a file that does not decode is a failure value', async () => {
    const bad = join(dir, 'k-bad.png');
    await writeFile(bad, (await readFile(scenePath)).subarray(0, 500));
    const r = await analyseImageAndPixels(bad);
    expect(r.ok).toBe(false);
  });
});

describe('analyseImage / decodeCheck: failures are values, never throws', () => {
  it('classifies truncated, garbage, missing and oversized inputs', async () => {
    const png = await readFile(scenePath);
    const jpeg = await sharp(scenePath).jpeg().toBuffer();
    const cases: [string, Buffer, string][] = [
      ['cut.png', png.subarray(0, Math.floor(png.length / 2)), 'corrupt'],
      ['cut.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'corrupt'],
      ['garbage.png', Buffer.from('definitely not an image'), 'unsupported'],
    ];
    for (const [name, bytes, kind] of cases) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      const r = await analyseImage(path);
      expect(r, name).toMatchObject({ ok: false, kind });
      expect(await decodeCheck(path), name).toMatchObject({ ok: false, kind });
    }
    expect(await analyseImage(join(dir, 'nope.png'))).toEqual({
      ok: false,
      kind: 'missing',
      reason: 'file not found',
    });
    const bomb = await analyseImage(scenePath, { limitInputPixels: 1000 * 1000 });
    expect(bomb).toMatchObject({ ok: false, kind: 'too_large' });
  });

  it('decodeCheck passes a good file', async () => {
    expect(await decodeCheck(scenePath)).toEqual({ ok: true });
  });
});

describe('thumbnail', () => {
  it('makes a bounded JPEG and clamps the requested size', async () => {
    const small = await thumbnail(scenePath, 128);
    expect(small).toMatchObject({ ok: true, mime: 'image/jpeg', width: 128, height: 128 });
    if (!small.ok) return;
    expect([...small.data.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const huge = await thumbnail(scenePath, 100_000);
    expect(huge).toMatchObject({ ok: true, width: 1024, height: 1024 });
    const tiny = await writePng('tiny.png', rawImage(Buffer.alloc(20 * 10 * 3, 50), 20, 10));
    expect(await thumbnail(tiny, 512)).toMatchObject({ ok: true, width: 20, height: 10 });
    const cut = join(dir, 'thumb-cut.png');
    const png = await readFile(scenePath);
    await writeFile(cut, png.subarray(0, png.length >> 1));
    expect(await thumbnail(cut, 128)).toMatchObject({ ok: false, kind: 'corrupt' });
  });
});

describe('analyseImage: crop hashes', () => {
  const item = (id: string, r: ImageAnalysisResult) => {
    if (!r.ok) throw new Error(r.reason);
    return {
      id,
      hash: hexToBigInt(r.hashes.phash),
      crops: (r.hashes.phash_crops ?? []).map(hexToBigInt),
    };
  };

  it('a 5 % and a 10 % centre crop are near their original; an unrelated scene is not', async () => {
    const original = await scene(3, 512);
    const cropBy = (f: number) =>
      sharp(original)
        .extract({
          left: Math.round(512 * f),
          top: Math.round(512 * f),
          width: 512 - 2 * Math.round(512 * f),
          height: 512 - 2 * Math.round(512 * f),
        })
        .png()
        .toBuffer();
    const o = await analyseImage(original);
    expect(o.ok && o.hashes.phash_crops).toHaveLength(CROP_SCALES.length);
    const base = item('o', o);
    const c5 = item('c5', await analyseImage(await cropBy(0.025)));
    const c10 = item('c10', await analyseImage(await cropBy(0.05)));
    const other = item('x', await analyseImage(await scene(4, 512)));
    expect(nearDistance(base, c5)).toBeLessThanOrEqual(6);
    expect(nearDistance(c5, base)).toBe(nearDistance(base, c5));
    expect(nearDistance(base, c10)).toBeLessThanOrEqual(6);
    // Without the crop hashes the crops are further away than the full hashes allow.
    expect(nearDistance({ id: 'o', hash: base.hash }, { id: 'c10', hash: c10.hash })).toBeGreaterThan(
      nearDistance(base, c10),
    );
    expect(nearDistance(base, other)).toBeGreaterThan(10);
  });
});
