/**
 * ThumbnailService with the real sharp and ffmpeg adapters: video poster frames (when ffmpeg is
 * installed), one thumbnail per content hash and size however many ask at once, and the bounded
 * queue answering "busy" instead of piling up work.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractFrame } from '../../src/adapters/ffmpeg.adapter.js';
import { webpThumbnail } from '../../src/adapters/sharp.adapter.js';
import { ThumbnailService, type MadeImage } from '../../src/services/thumbs/thumbnail.service.js';
import { hasFfmpeg, makeTempDir, removeDir, writeImage, writeMp4 } from '../helpers/fixtures.js';

let dir: string;
beforeEach(() => {
  dir = makeTempDir('alice-thumbs-');
});
afterEach(() => removeDir(dir));

const makeWebp = async (input: string | Buffer, px: number): Promise<MadeImage> => {
  const t = await webpThumbnail(input, px);
  return t.ok ? { ok: true, data: t.data } : { ok: false, reason: t.reason };
};
const posterFrame = async (file: string): Promise<MadeImage> => {
  const f = await extractFrame(file);
  return f.ok ? { ok: true, data: f.png } : { ok: false, reason: f.reason };
};

describe('thumbnails', () => {
  it.skipIf(!hasFfmpeg())(
    'a video gets a WebP poster frame',
    async () => {
      const video = path.join(dir, 'clip.mp4');
      writeMp4(video, 3);
      const svc = new ThumbnailService({
        dir: path.join(dir, 'thumbs'),
        makeWebp,
        posterFrame,
        concurrency: 1,
      });
      const r = await svc.get({ hash: 'ab'.repeat(32), mediaType: 'video', file: video, size: 'small' });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.file).toBe(path.join(dir, 'thumbs', 'ab', `${'ab'.repeat(32)}-320.webp`));
      const meta = await sharp(fs.readFileSync(r.file)).metadata();
      expect(meta.format).toBe('webp');
      expect(meta.width).toBe(64);
    },
    60_000,
  );

  it('makes one thumbnail per hash and size however many ask at once', async () => {
    const img = path.join(dir, 'a.png');
    await writeImage(img, { seed: 3, size: 200 });
    let made = 0;
    const svc = new ThumbnailService({
      dir: path.join(dir, 'thumbs'),
      makeWebp: async (input, px) => {
        made++;
        return makeWebp(input, px);
      },
      posterFrame,
      concurrency: 2,
    });
    const req = { hash: 'cd'.repeat(32), mediaType: 'image', file: img, size: 'small' as const };
    const all = await Promise.all(Array.from({ length: 8 }, () => svc.get(req)));
    expect(all.every((r) => r.ok)).toBe(true);
    expect(made).toBe(1);
    await svc.get(req);
    expect(made).toBe(1);
  }, 30_000);

  it('a full queue answers busy, and the work already queued still completes', async () => {
    const img = path.join(dir, 'b.png');
    await writeImage(img, { seed: 4 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const svc = new ThumbnailService({
      dir: path.join(dir, 'thumbs'),
      makeWebp: async (input, px) => {
        await gate;
        return makeWebp(input, px);
      },
      posterFrame,
      concurrency: 1,
      maxWaiting: 1,
    });
    const ask = (i: number) =>
      svc.get({ hash: String(i).padStart(64, '0'), mediaType: 'image', file: img, size: 'small' });
    const until = async (cond: () => boolean): Promise<void> => {
      while (!cond()) await new Promise((r) => setImmediate(r));
    };
    const first = ask(1);
    await until(() => svc.load.running === 1);
    const second = ask(2);
    await until(() => svc.load.waiting === 1);
    expect(await ask(3)).toEqual({ ok: false, reason: 'thumbnail queue full: try again', busy: true });
    release();
    expect((await first).ok).toBe(true);
    expect((await second).ok).toBe(true);
  }, 30_000);
});
