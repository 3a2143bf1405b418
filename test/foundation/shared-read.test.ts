/**
 * The analyser reads a file once for all its parts, within a budget of bytes held by the analyses
 * in flight: real files, real reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFileIfAdmitted } from '../../src/adapters/fs.adapter.js';
import { mediaInfoFor } from '../../src/domain/media.js';
import { ContentAnalyser, type FileBytes } from '../../src/services/scan/analyse.service.js';
import { makeWorkspace, type Workspace } from '../helpers/fixtures.js';

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
});
