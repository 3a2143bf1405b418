/**
 * decodeFacts (src/domain/image-header.ts) reads format, displayed size and alpha from a PNG, JPEG
 * or WebP header so the analysis skips libvips' own header parse: where it answers, it must say
 * what sharp's metadata() says, and analyseImage must give the same result from bytes (facts from
 * the header) as from the path (facts from libvips).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { analyseImage } from '../../src/adapters/sharp.adapter.js';
import { decodeFacts } from '../../src/domain/image-header.js';
import { pattern, rawImage } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'alice-header-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rgb = pattern(200, 150, 1);
const grey = Buffer.from(Array.from({ length: 90 * 70 }, (_, i) => (i * 7) % 256));
const rgba = Buffer.from(
  Array.from({ length: 64 * 48 * 4 }, (_, i) => (i % 4 === 3 ? (i * 5) % 256 : (i * 13) % 256)),
);
const opaqueRgba = Buffer.from(
  Array.from({ length: 64 * 48 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 13) % 256)),
);

/** A PNG with a tRNS chunk (one transparent colour) inserted before its first IDAT. */
function withTrns(png: Buffer, data: Buffer): Buffer {
  const at = png.indexOf('IDAT') - 4;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from('tRNS'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([png.subarray(0, at), len, body, crc, png.subarray(at)]);
}

function crc32(b: Buffer): number {
  let c = ~0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** Each image: its bytes, and whether the header must answer (false: libvips must be asked). */
async function images(): Promise<[string, Buffer, boolean][]> {
  const base = (): sharp.Sharp => rawImage(rgb, 200, 150);
  const rgbPng = await base().png().toBuffer();
  const greyPng = await rawImage(grey, 90, 70, 1).toColourspace('b-w').png().toBuffer();
  const frames = await Promise.all(
    [0, 1, 2].map((k) =>
      rawImage(pattern(40, 30, k as 0 | 1 | 2), 40, 30)
        .png()
        .toBuffer(),
    ),
  );
  return [
    ['png rgb', rgbPng, true],
    ['png rgba', await rawImage(rgba, 64, 48, 4).png().toBuffer(), true],
    ['png rgba opaque', await rawImage(opaqueRgba, 64, 48, 4).png().toBuffer(), true],
    ['png grey', greyPng, true],
    ['png grey alpha', await rawImage(grey, 90, 70, 1).ensureAlpha(0.5).png().toBuffer(), true],
    ['png palette', await base().png({ palette: true, colours: 16 }).toBuffer(), true],
    [
      'png palette alpha',
      await rawImage(rgba, 64, 48, 4).png({ palette: true, colours: 8 }).toBuffer(),
      true,
    ],
    ['png rgb tRNS', withTrns(rgbPng, Buffer.from([0, 1, 0, 2, 0, 3])), true],
    ['png grey tRNS', withTrns(greyPng, Buffer.from([0, 7])), false],
    ['png rgb tRNS of the wrong length', withTrns(rgbPng, Buffer.from([0, 7])), false],
    ['png 16 bit', await base().toColourspace('rgb16').png().toBuffer(), true],
    ['png icc', await base().withIccProfile('p3').png().toBuffer(), true],
    [
      'png 1x1',
      await rawImage(Buffer.from([1, 2, 3]), 1, 1)
        .png()
        .toBuffer(),
      true,
    ],
    ['png interlaced', await base().png({ progressive: true }).toBuffer(), true],
    ['png oriented', await base().withMetadata({ orientation: 6 }).png().toBuffer(), false],
    ['jpeg', await base().jpeg({ quality: 80 }).toBuffer(), true],
    ['jpeg progressive', await base().jpeg({ progressive: true }).toBuffer(), true],
    ['jpeg grey', await rawImage(grey, 90, 70, 1).jpeg().toBuffer(), true],
    ['jpeg icc', await base().withIccProfile('p3').jpeg().toBuffer(), true],
    ['jpeg cmyk', await base().toColourspace('cmyk').jpeg().toBuffer(), true],
    ['jpeg oriented', await base().withMetadata({ orientation: 6 }).jpeg().toBuffer(), false],
    ['jpeg oriented 1', await base().withMetadata({ orientation: 1 }).jpeg().toBuffer(), false],
    ['webp lossy', await base().webp({ quality: 80 }).toBuffer(), true],
    ['webp lossless', await base().webp({ lossless: true }).toBuffer(), true],
    ['webp lossy alpha', await rawImage(rgba, 64, 48, 4).webp({ quality: 80 }).toBuffer(), true],
    ['webp lossless alpha', await rawImage(rgba, 64, 48, 4).webp({ lossless: true }).toBuffer(), true],
    [
      'webp lossless opaque rgba',
      await rawImage(opaqueRgba, 64, 48, 4).webp({ lossless: true }).toBuffer(),
      true,
    ],
    ['webp icc', await base().withIccProfile('p3').webp().toBuffer(), true],
    ['webp oriented', await base().withMetadata({ orientation: 6 }).webp().toBuffer(), false],
    [
      'webp animated',
      await sharp(frames, { join: { animated: true } })
        .webp()
        .toBuffer(),
      false,
    ],
    ['gif', await base().gif().toBuffer(), false],
    ['tiff', await base().tiff().toBuffer(), false],
  ];
}

describe('decodeFacts', () => {
  it('says what sharp metadata() says, or nothing where libvips must be asked', async () => {
    for (const [name, bytes, answers] of await images()) {
      const facts = decodeFacts(bytes);
      expect(facts !== undefined, name).toBe(answers);
      if (facts === undefined) continue;
      const meta = await sharp(bytes, { autoOrient: true }).metadata();
      expect(facts, name).toEqual({
        format: meta.format,
        width: meta.autoOrient.width,
        height: meta.autoOrient.height,
        hasAlpha: meta.hasAlpha,
      });
    }
  });

  it('truncated or garbled headers give nothing', async () => {
    const png = await rawImage(rgb, 200, 150).png().toBuffer();
    const jpeg = await rawImage(rgb, 200, 150).jpeg().toBuffer();
    expect(decodeFacts(png.subarray(0, 40))).toBeUndefined();
    expect(decodeFacts(jpeg.subarray(0, 3))).toBeUndefined();
    expect(decodeFacts(Buffer.from('RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\0\0\0\0\0\0\0'))).toBeUndefined();
    expect(decodeFacts(Buffer.alloc(0))).toBeUndefined();
    const bad = Buffer.from(png);
    bad[25] = 5; // no such colour type
    expect(decodeFacts(bad)).toBeUndefined();
  });

  it('analyseImage from bytes (header facts) equals analyseImage from the path (libvips facts)', async () => {
    for (const [name, bytes] of await images()) {
      const file = join(dir, name.replace(/ /g, '-'));
      writeFileSync(file, bytes);
      expect(await analyseImage(bytes), name).toEqual(await analyseImage(file));
    }
  });
});
