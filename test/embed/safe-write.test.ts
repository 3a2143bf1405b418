/** The safe-write procedure, idempotency and outside changes, against the real exiftool. */
import { chmod, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExiftoolAdapter } from '../../src/adapters/exiftool.adapter.js';
import { tagsFromEmbedded } from '../../src/domain/embedded-metadata.js';
import {
  asStrings,
  copyFixture,
  fileState,
  leftovers,
  makeImage,
  makeTempDir,
  outsideRead,
  outsideWrite,
  removeDir,
  sha256,
  sharpDecodes,
} from './helpers.js';

const HASH = 'ab'.repeat(32);
const OLD = new Date('2021-03-04T05:06:07Z');
const intent = {
  tags: [
    { category: 'style', value: 'cyberpunk' },
    { category: 'keywords', value: 'neon' },
  ],
  description: 'night',
  contentHash: HASH,
};

let dir: string;
const adapter = new ExiftoolAdapter();

beforeAll(async () => {
  dir = await makeTempDir();
  await adapter.start();
});

afterAll(async () => {
  await adapter.close();
  await removeDir(dir);
});

async function oldJpeg(name: string): Promise<string> {
  const file = await makeImage(dir, 'jpeg', name);
  await chmod(file, 0o640);
  await utimes(file, OLD, OLD);
  return file;
}

describe('a write that fails leaves the file byte-identical', () => {
  it('when the decode check of the rewritten copy fails', async () => {
    const file = await oldJpeg('decode-fails.jpg');
    const before = await fileState(file);
    const result = await adapter.writeEmbedded(file, intent, {
      preserveMtime: false,
      decodeCheck: () => Promise.resolve('simulated: pixels do not decode'),
    });
    expect(result).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('simulated') as unknown,
    });
    expect(await fileState(file)).toEqual(before);
    expect(await leftovers(dir)).toEqual([]);
  });

  it('when exiftool refuses to write (truncated JPEG)', async () => {
    const whole = await makeImage(dir, 'jpeg', 'whole.jpg');
    const file = path.join(dir, 'truncated.jpg');
    await writeFile(file, (await readFile(whole)).subarray(0, 120));
    const before = await fileState(file);
    const result = await adapter.writeEmbedded(file, intent, { preserveMtime: true });
    expect(result.status).toBe('failed');
    expect(await fileState(file)).toEqual(before);
    expect(await leftovers(dir)).toEqual([]);
  });

  it('when the file changes while alice writes (checked before the rename)', async () => {
    const file = await oldJpeg('changes.jpg');
    const result = await adapter.writeEmbedded(file, intent, {
      preserveMtime: true,
      decodeCheck: async () => {
        await utimes(file, new Date(), new Date()); // another program touches the original
        return true;
      },
    });
    expect(result).toMatchObject({ status: 'failed', reason: expect.stringContaining('changed') as unknown });
    expect(asSubject((await outsideRead(file))['XMP-dc:Subject'])).toEqual([]);
    expect(await leftovers(dir)).toEqual([]);
  });
});

function asSubject(value: unknown): string[] {
  return value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);
}

describe('rewrites keep the file recognisable and are not repeated', () => {
  it('keeps permissions and the modification time when preserveMtime', async () => {
    const file = await oldJpeg('keep-mtime.jpg');
    const result = await adapter.writeEmbedded(file, intent, { preserveMtime: true });
    expect(result.status).toBe('written');
    const s = await stat(file);
    expect(s.mtime.getTime()).toBe(OLD.getTime());
    expect(s.mode & 0o7777).toBe(0o640);
  });

  it('takes a new modification time when not preserving it', async () => {
    const file = await oldJpeg('new-mtime.jpg');
    await adapter.writeEmbedded(file, intent, { preserveMtime: false });
    expect((await stat(file)).mtime.getTime()).toBeGreaterThan(OLD.getTime());
  });

  it('returns current the second time without touching the file', async () => {
    const file = await copyFixture(dir, 'tiny.mp4');
    const first = await adapter.writeEmbedded(file, intent, { preserveMtime: false });
    expect(first.status).toBe('written');
    const after = await fileState(file);
    expect(first.status === 'written' && first.newHash).toBe(after.hash);
    await new Promise((r) => setTimeout(r, 20));
    const second = await adapter.writeEmbedded(file, intent, { preserveMtime: false });
    expect(second).toEqual({ status: 'current' });
    expect(await fileState(file)).toEqual(after);
  });

  it('rewrites when the intended tags change, and removes tags no longer intended', async () => {
    const file = await makeImage(dir, 'webp', 'change.webp');
    await adapter.writeEmbedded(file, intent, { preserveMtime: true });
    const next = { ...intent, tags: [{ category: 'keywords', value: 'rain' }], description: null };
    const result = await adapter.writeEmbedded(file, next, { preserveMtime: true });
    expect(result.status).toBe('written');
    const out = await outsideRead(file);
    expect(asSubject(out['XMP-dc:Subject'])).toEqual(['rain']);
    expect(out['XMP-lr:HierarchicalSubject']).toBeUndefined();
    expect(out['XMP-dc:Description']).toBeUndefined();
    expect(out['IFD0:ImageDescription']).toBeUndefined();
  });
});

describe('metadata written by other programs', () => {
  it('reads keywords from an outside exiftool call as tags, with the hierarchy rule', async () => {
    const file = await makeImage(dir, 'jpeg', 'outside.jpg');
    await outsideWrite(
      file,
      '-XMP-dc:Subject=places',
      '-XMP-dc:Subject=europe',
      '-XMP-dc:Subject=paris',
      '-XMP-dc:Subject=sunset',
      '-XMP-lr:HierarchicalSubject=places|europe|paris',
      '-XMP-lr:HierarchicalSubject=Art Style|watercolor',
      '-IPTC:Keywords=film grain',
      '-XMP-dc:Description=From Lightroom',
      '-ExifIFD:UserComment=a cat\nSteps: 20, Sampler: Euler',
      '-IFD0:Software=NovelAI',
    );
    const read = await adapter.readEmbedded(file);
    const tags = tagsFromEmbedded(read).map((t) => `${t.category}:${t.value} <- ${t.source}`);
    expect(tags).toEqual([
      'places:paris <- file:XMP-lr:HierarchicalSubject',
      'art-style:watercolor <- file:XMP-lr:HierarchicalSubject',
      'keywords:sunset <- file:XMP-dc:Subject',
      'keywords:film grain <- file:IPTC:Keywords',
    ]);
    expect(read.description).toBe('From Lightroom');
    expect(read.contentHash).toBeUndefined();
    expect(read.software).toBe('NovelAI');
    expect(read.raw).toMatchObject({ UserComment: 'a cat\nSteps: 20, Sampler: Euler', Software: 'NovelAI' });
  });

  it('keeps deeper hierarchical paths another program wrote for the same tag', async () => {
    const file = await makeImage(dir, 'png', 'deep.png');
    await outsideWrite(file, '-XMP-lr:HierarchicalSubject=places|europe|paris');
    const tags = [{ category: 'places', value: 'paris' }];
    const result = await adapter.writeEmbedded(file, { tags, contentHash: HASH }, { preserveMtime: true });
    expect(result.status).toBe('written');
    expect(asSubject((await outsideRead(file))['XMP-lr:HierarchicalSubject'])).toEqual([
      'places|europe|paris',
    ]);
    const again = await adapter.writeEmbedded(file, { tags, contentHash: HASH }, { preserveMtime: true });
    expect(again.status).toBe('current');
  });
});

describe('formats alice does not write', () => {
  it('keeps GIF sidecar-only without touching it', async () => {
    const file = path.join(dir, 'anim.gif');
    // A 1×1 GIF89a.
    await writeFile(
      file,
      Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64'),
    );
    const before = await sha256(file);
    const result = await adapter.writeEmbedded(file, intent, { preserveMtime: true });
    expect(result).toMatchObject({
      status: 'sidecar_only',
      reason: expect.stringContaining('gif') as unknown,
    });
    expect(await sha256(file)).toBe(before);
  });

  it('honours embedding.enabled and per-format opt-out', async () => {
    const file = await makeImage(dir, 'png', 'optout.png');
    const before = await sha256(file);
    const off = await adapter.writeEmbedded(file, intent, {
      preserveMtime: true,
      settings: { enabled: false, disabled_formats: [] },
    });
    expect(off.status).toBe('sidecar_only');
    const png = await adapter.writeEmbedded(file, intent, {
      preserveMtime: true,
      settings: { enabled: true, disabled_formats: ['png'] },
    });
    expect(png).toMatchObject({ status: 'sidecar_only', reason: expect.stringContaining('png') as unknown });
    expect(await sha256(file)).toBe(before);
  });

  it('decides by content, not by name: a PNG named .jpg gets PNG fields', async () => {
    const file = await makeImage(dir, 'png', 'liar.jpg');
    const result = await adapter.writeEmbedded(file, intent, { preserveMtime: true });
    expect(result.status).toBe('written');
    const out = await outsideRead(file);
    expect(out['IPTC:Keywords']).toBeUndefined();
    expect(out['XMP-alice:ContentHash']).toBe(HASH);
  });
});

describe('names exiftool cannot be given as they are', () => {
  it('a file whose name holds a newline or a carriage return is read and written like any other', async () => {
    for (const name of ['new\nline.jpg', 'carriage\rreturn.png']) {
      const file = name.endsWith('.png')
        ? await makeImage(dir, 'png', name)
        : await makeImage(dir, 'jpeg', name);
      await outsideWrite(file, '-XMP-dc:Subject=owl', '-XMP-dc:Description=an owl at night');
      const read = await adapter.readEmbedded(file);
      expect(read.warnings).toEqual([]);
      expect(read.description).toBe('an owl at night');
      expect(read.keywords).toEqual(['owl']);

      const result = await adapter.writeEmbedded(file, intent, {
        preserveMtime: true,
        decodeCheck: sharpDecodes,
      });
      expect(result).toMatchObject({ status: 'written' });
      const back = await outsideRead(file, '-XMP-dc:Subject', '-XMP-alice:ContentHash');
      expect(asStrings(back['XMP-dc:Subject'])).toEqual(['cyberpunk', 'neon']);
      expect(back['XMP-alice:ContentHash']).toBe(HASH);
      expect(await adapter.writeEmbedded(file, intent, { preserveMtime: true })).toEqual({
        status: 'current',
      });
    }
    expect(await leftovers(dir)).toEqual([]);
  });

  it('a file in a folder whose name holds a newline is read', async () => {
    const sub = path.join(dir, 'folder\nwith newline');
    await mkdir(sub);
    const file = await makeImage(sub, 'jpeg', 'inside.jpg');
    await outsideWrite(file, '-XMP-dc:Subject=fox');
    const read = await adapter.readEmbedded(file);
    expect(read.keywords).toEqual(['fox']);
    await expect(adapter.readEmbedded(path.join(sub, 'gone.jpg'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe("digiKam's TagsList", () => {
  it('a file digiKam tagged gets its TagsList kept in step with the tags; other files get none', async () => {
    const file = await makeImage(dir, 'jpeg', 'digikam.jpg');
    await outsideWrite(
      file,
      '-XMP-digiKam:TagsList=Fantasy/Dragon',
      '-XMP-digiKam:TagsList=mountains',
      '-XMP-lr:HierarchicalSubject=Fantasy|Dragon',
      '-XMP-dc:Subject=Fantasy',
      '-XMP-dc:Subject=Dragon',
      '-XMP-dc:Subject=mountains',
    );
    const tags = (values: [string, string][]) => ({
      tags: values.map(([category, value]) => ({ category, value })),
      contentHash: HASH,
    });
    const added = await adapter.writeEmbedded(
      file,
      tags([
        ['fantasy', 'Dragon'],
        ['keywords', 'mountains'],
        ['style', 'cyberpunk'],
      ]),
      { preserveMtime: true },
    );
    expect(added.status).toBe('written');
    expect(
      asStrings((await outsideRead(file, '-XMP-digiKam:TagsList'))['XMP-digiKam:TagsList']).sort(),
    ).toEqual(['Fantasy/Dragon', 'mountains', 'style/cyberpunk']);
    // Removing the dragon removes it from digiKam's list too (digiKam reads that list first).
    const removed = await adapter.writeEmbedded(file, tags([['style', 'cyberpunk']]), {
      preserveMtime: true,
    });
    expect(removed.status).toBe('written');
    expect(asStrings((await outsideRead(file, '-XMP-digiKam:TagsList'))['XMP-digiKam:TagsList'])).toEqual([
      'style/cyberpunk',
    ]);
    expect(
      await adapter.writeEmbedded(file, tags([['style', 'cyberpunk']]), { preserveMtime: true }),
    ).toEqual({
      status: 'current',
    });

    const plain = await makeImage(dir, 'jpeg', 'no-digikam.jpg');
    expect(
      (await adapter.writeEmbedded(plain, tags([['style', 'cyberpunk']]), { preserveMtime: true })).status,
    ).toBe('written');
    expect((await outsideRead(plain, '-XMP-digiKam:TagsList'))['XMP-digiKam:TagsList']).toBeUndefined();
  });
});
