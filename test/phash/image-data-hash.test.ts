import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExifTool } from 'exiftool-vendored';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageDataFormat, imageDataHash } from '../../src/adapters/image-data-hash.adapter.js';
import { rng, scene } from './fixtures.js';

let dir: string;
let et: ExifTool;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alice-imagehash-'));
  et = new ExifTool({ maxProcs: 1 });
});

afterAll(async () => {
  await et.end();
  await rm(dir, { recursive: true, force: true });
});

/** Noise a coder cannot shrink much: a few MB of coded data, so a walk crosses many read windows. */
function noise(w: number, h: number, channels: 3 | 4, seed: number): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(w * h * channels);
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const ENCODINGS: Record<string, (img: sharp.Sharp) => sharp.Sharp> = {
  'png.png': (i) => i.png(),
  'png-palette.png': (i) => i.png({ palette: true }),
  'baseline.jpg': (i) => i.jpeg({ quality: 90 }),
  'progressive.jpg': (i) => i.jpeg({ quality: 85, progressive: true }),
  'lossy.webp': (i) => i.webp({ quality: 80 }),
  'lossless.webp': (i) => i.webp({ lossless: true }),
};

async function make(prefix: string, name: string, img: sharp.Sharp): Promise<string> {
  const file = join(dir, `${prefix}-${name}`);
  const encode = ENCODINGS[name];
  if (encode === undefined) throw new Error(`no encoding for ${name}`);
  await encode(img).toFile(file);
  return file;
}

async function hashOf(file: string): Promise<string | undefined> {
  const fromPath = await imageDataHash(file);
  const fromBytes = await imageDataHash(file, await readFile(file));
  expect(fromBytes).toBe(fromPath);
  return fromPath;
}

describe('image data hash', () => {
  for (const name of Object.keys(ENCODINGS)) {
    it(`${name}: unchanged by metadata that exiftool writes, changed by one pixel`, async () => {
      const pixels = await sharp(await scene(3))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const { width, height } = pixels.info;
      const raw = (data: Buffer): sharp.Sharp => sharp(data, { raw: { width, height, channels: 3 } });
      const original = await make('orig', name, raw(pixels.data));
      const before = await hashOf(original);
      expect(before).toMatch(/^[0-9a-f]{64}$/);

      const tagged = join(dir, `tagged-${name}`);
      await copyFile(original, tagged);
      await et.write(
        tagged,
        {
          Subject: ['style:cyberpunk', 'neon'],
          Description: 'a city at night',
          ImageDescription: 'a city at night',
          Artist: 'someone',
          ...(name.endsWith('.jpg') ? { Keywords: ['neon'], Comment: 'hello' } : {}),
          ...(name.endsWith('.png') ? { Comment: 'hello' } : {}),
        },
        { writeArgs: ['-overwrite_original'] },
      );
      const after = await readFile(tagged);
      expect(after.equals(await readFile(original))).toBe(false); // exiftool did change the file
      expect(await hashOf(tagged)).toBe(before);

      const edited = Buffer.from(pixels.data);
      const p = (Math.floor(height / 2) * width + Math.floor(width / 2)) * 3;
      edited[p] = (edited[p] as number) ^ 0x80;
      edited[p + 1] = (edited[p + 1] as number) ^ 0x80;
      const changed = await make('edit', name, raw(edited));
      expect(await hashOf(changed)).not.toBe(before);
    });
  }

  it('walks files larger than its read window the same as bytes in memory', async () => {
    const w = 1400;
    const h = 1200;
    for (const [name, channels] of [
      ['big.png', 4],
      ['big.jpg', 3],
      ['big.webp', 4],
    ] as const) {
      const file = join(dir, name);
      const img = sharp(noise(w, h, channels, 7), { raw: { width: w, height: h, channels } });
      if (name.endsWith('.png')) await img.png({ compressionLevel: 1 }).toFile(file);
      else if (name.endsWith('.jpg')) await img.jpeg({ quality: 100 }).toFile(file);
      else await img.webp({ quality: 100 }).toFile(file);
      expect((await readFile(file)).length).toBeGreaterThan(1024 * 1024 + 100);
      expect(await hashOf(file)).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('tells the format by the bytes, not the name', async () => {
    const png = await sharp(await scene(4))
      .png()
      .toBuffer();
    const a = join(dir, 'really-png.jpg');
    const b = join(dir, 'really-png.png');
    await writeFile(a, png);
    await writeFile(b, png);
    expect(await hashOf(a)).toBe(await hashOf(b));
    expect(imageDataFormat(png)).toBe('png');
  });

  it('same pixels in another format hash differently; formats without one give undefined', async () => {
    const img = (): sharp.Sharp =>
      sharp(noise(64, 64, 3, 9), { raw: { width: 64, height: 64, channels: 3 } });
    const gif = join(dir, 'x.gif');
    await img().gif().toFile(gif);
    expect(await imageDataHash(gif)).toBeUndefined();
    const tif = join(dir, 'x.tif');
    await img().tiff().toFile(tif);
    expect(await imageDataHash(tif)).toBeUndefined();
    const text = join(dir, 'text.png');
    await writeFile(text, 'not an image at all');
    expect(await imageDataHash(text)).toBeUndefined();
  });

  it('a truncated file hashes what is there, unlike the whole file', async () => {
    for (const name of ['t.png', 't.jpg', 't.webp']) {
      const img = sharp(noise(256, 256, 3, 11), { raw: { width: 256, height: 256, channels: 3 } });
      const file = join(dir, name);
      if (name.endsWith('.png')) await img.png().toFile(file);
      else if (name.endsWith('.jpg')) await img.jpeg().toFile(file);
      else await img.webp().toFile(file);
      const whole = await readFile(file);
      const cut = join(dir, `cut-${name}`);
      await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)));
      const h = await hashOf(cut);
      expect(h).toMatch(/^[0-9a-f]{64}$/);
      expect(h).not.toBe(await hashOf(file));
    }
  });
});
