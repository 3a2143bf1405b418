/**
 * The watcher's "is it whole?" check on real files made here (sharp, ffmpeg): complete files pass,
 * the same files cut at any of several points do not, and say why.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileCompleteness } from '../../src/adapters/completeness.adapter.js';
import { hasFfmpeg, imageBytes, makeTempDir, noisePixels, removeDir, writeMp4 } from '../helpers/fixtures.js';

describe('fileCompleteness', () => {
  let dir: string;
  const files: Record<string, Buffer> = {};

  beforeAll(async () => {
    dir = makeTempDir();
    files['a.png'] = await imageBytes('png', 1, 256);
    files['a.jpg'] = await imageBytes('jpeg', 2, 256);
    files['a.webp'] = await imageBytes('webp', 3, 256);
    files['a.gif'] = await sharp(noisePixels(4, 64, 64), { raw: { width: 64, height: 64, channels: 3 } })
      .gif()
      .toBuffer();
    if (hasFfmpeg()) files['a.mp4'] = writeMp4(path.join(dir, 'made.mp4'), 5);
  });
  afterAll(() => removeDir(dir));

  const check = async (name: string, bytes: Buffer): Promise<string | null> => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    return fileCompleteness(f);
  };

  it('whole files are complete; cut ones are not, with the reason', async () => {
    const reasons: Record<string, RegExp> = {
      'a.png': /PNG/,
      'a.jpg': /end-of-image/,
      'a.webp': /WebP/,
      'a.gif': /trailer/,
      'a.mp4': /moov|box/,
    };
    for (const [name, bytes] of Object.entries(files)) {
      expect(await check(name, bytes), name).toBeNull();
      for (const share of [0.1, 0.5, 0.9]) {
        const cut = bytes.subarray(0, Math.floor(bytes.length * share));
        expect(await check(name, cut), `${name} cut at ${share}`).toMatch(reasons[name] as RegExp);
      }
    }
  });

  it('judges by content: a PNG named .jpg is judged as a PNG; unknown content passes', async () => {
    const png = files['a.png'] as Buffer;
    expect(await check('renamed.jpg', png)).toBeNull();
    expect(await check('renamed-cut.jpg', png.subarray(0, 1000))).toMatch(/PNG/);
    expect(await check('text.png', Buffer.from('not an image'))).toBeNull();
  });

  it("JPEG: data appended after EOI (a motion photo) is complete; a thumbnail's EOI does not make a cut image whole", async () => {
    const jpg = files['a.jpg'] as Buffer;
    const video = Buffer.alloc(200_000, 0x11);
    expect(await check('motion.jpg', Buffer.concat([jpg, video]))).toBeNull();
    expect(await check('motion-cut.jpg', Buffer.concat([jpg.subarray(0, jpg.length / 2), video]))).toMatch(
      /end-of-image/,
    );
    // An EXIF thumbnail (a whole JPEG, EOI included) inside APP1, then the main image cut short.
    const withThumb = path.join(dir, 'thumb.jpg');
    const thumb = path.join(dir, 'small.jpg');
    fs.writeFileSync(withThumb, jpg);
    fs.writeFileSync(thumb, await imageBytes('jpeg', 9, 32));
    execFileSync('exiftool', ['-q', '-overwrite_original', `-ThumbnailImage<=${thumb}`, withThumb]);
    const full = fs.readFileSync(withThumb);
    expect(full.length).toBeGreaterThan(jpg.length);
    expect(await check('thumb-whole.jpg', full)).toBeNull();
    expect(await check('thumb-cut.jpg', full.subarray(0, full.length - 2000))).toMatch(/end-of-image/);
  });
});
