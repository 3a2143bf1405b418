/**
 * The analyser reads a file once for all its parts, within a budget of bytes held by the analyses
 * in flight: real files, real reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExiftoolAdapter } from '../../src/adapters/exiftool.adapter.js';
import { readFileIfAdmitted } from '../../src/adapters/fs.adapter.js';
import { analyserParts } from '../../src/app/compose.js';
import { mediaInfoFor } from '../../src/domain/media.js';
import { ContentAnalyser, type FileBytes } from '../../src/services/scan/analyse.service.js';
import { makeWorkspace, writeImage, writeMp4, type Workspace } from '../helpers/fixtures.js';

let ws: Workspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

describe('shared reads', () => {
  it('every part gets the same bytes, read once; analyses in flight hold no more than the budget', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const files = ['a.png', 'b.png', 'c.png'].map((n, i) => {
      const f = path.join(root, n);
      fs.writeFileSync(f, Buffer.alloc(80, i + 1));
      return f;
    });
    const seen = new Map<string, (Buffer | undefined)[]>();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let reads = 0;
    const note = async (file: string, bytes?: FileBytes): Promise<Buffer | undefined> => {
      const b = await bytes?.();
      (seen.get(file) ?? seen.set(file, []).get(file))?.push(b);
      return b;
    };
    const analyser = new ContentAnalyser(
      {
        readSmall: (file, admit) => {
          reads++;
          return readFileIfAdmitted(file, admit);
        },
        image: async (file, bytes) => {
          await note(file, bytes);
          await gate; // all three analyses are in flight together
          return { ok: false, reason: 'not decoded in this test' };
        },
        pngText: async (file, bytes) => {
          await note(file, bytes);
          return { chunks: {}, warnings: [] };
        },
        generation: () => ({ generation: null, warnings: [] }),
      },
      { decodeConcurrency: 3, sharedReadBudget: 200 },
    );
    const media = mediaInfoFor('x.png');
    if (media === undefined) throw new Error('png is media');
    const running = files.map((f) => analyser.analyse(f, media));
    await new Promise((r) => setTimeout(r, 100));
    release();
    await Promise.all(running);

    // Two files of 80 bytes fit in 200; the third is read by each part from its path.
    const shared = files.filter((f) => seen.get(f)?.[0] !== undefined);
    expect(shared).toHaveLength(2);
    for (const f of shared) {
      const [image, text] = seen.get(f) ?? [];
      expect(image?.equals(fs.readFileSync(f))).toBe(true);
      expect(text).toBe(image); // the same buffer, not a second read
    }
    expect(reads).toBe(3);

    // Released when the analyses end: the next one is shared again.
    seen.clear();
    await analyser.analyse(files[2] as string, media);
    expect(seen.get(files[2] as string)?.[0]).toBeDefined();
  });

  it('a video is never read whole for its analysis; an image is, once', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const video = path.join(root, 'clip.mp4');
    writeMp4(video);
    const image = path.join(root, 'still.jpg');
    await writeImage(image, { seed: 7 });
    const exif = new ExiftoolAdapter();
    await exif.start();
    try {
      const parts = analyserParts(exif);
      const read = parts.readSmall;
      if (read === undefined) throw new Error('the analyser shares reads');
      const whole: string[] = [];
      const analyser = new ContentAnalyser({
        ...parts,
        readSmall: async (file, admit) => {
          const data = await read(file, admit);
          if (data !== undefined) whole.push(path.basename(file));
          return data;
        },
      });
      for (const f of [video, image]) {
        const media = mediaInfoFor(f);
        if (media === undefined) throw new Error(`${f} is media`);
        const a = await analyser.analyse(f, media);
        expect(a.media.width).toBeGreaterThan(0);
      }
      expect(whole).toEqual(['still.jpg']);
    } finally {
      await exif.close();
    }
  });
});
