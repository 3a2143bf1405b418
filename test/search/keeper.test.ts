/**
 * The keeper of a near-duplicate group is the copy a photographer would keep: real images made
 * with sharp (an original JPEG, its quality-70 re-encode and its 50% resize), indexed with the
 * real sharp analysis in a real DuckDB index, grouped by `dupes --near`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseKeeper, type KeeperCandidate } from '../../src/domain/duplicate-keeper.js';
import { Search } from '../../src/index.js';
import { buildIndex, makeImage, type BuiltIndex } from './fixtures.js';

let dir: string;
let index: BuiltIndex;
let search: Search;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-keeper-'));
  const lib = path.join(dir, 'lib');
  const original = await makeImage({ seed: 7, width: 640, height: 480, format: 'jpeg', quality: 92 });
  const q70 = await sharp(original).jpeg({ quality: 70 }).toBuffer();
  const half = await sharp(original).resize(320, 240).jpeg({ quality: 92 }).toBuffer();
  // 5 % cut from every side: the full pHashes are too far apart, the crop hashes bring it in.
  const crop = await sharp(original)
    .extract({ left: 32, top: 24, width: 576, height: 432 })
    .jpeg({ quality: 92 })
    .toBuffer();
  const unrelated = await makeImage({ seed: 8, width: 640, height: 480, format: 'jpeg' });
  // The re-encode and the resize were seen first, and the resize carries more metadata: neither
  // may outweigh resolution and compression.
  index = await buildIndex(path.join(dir, 'data', 'search.duckdb'), { lib, projects: path.join(dir, 'p') }, [
    { key: 'q70', file: 'a/q70.jpg', bytes: q70, analyse: true, firstSeen: '2020-01-01T00:00:00.000Z' },
    {
      key: 'half',
      file: 'a/half.jpg',
      bytes: half,
      analyse: true,
      tags: ['style:photo', 'subject:street'],
      prompt: 'a street',
      firstSeen: '2021-01-01T00:00:00.000Z',
    },
    { key: 'original', file: 'b/original.jpg', bytes: original, analyse: true },
    { key: 'crop', file: 'c/crop.jpg', bytes: crop, analyse: true },
    { key: 'unrelated', file: 'c/other.jpg', bytes: unrelated, analyse: true },
  ]);
  index.db.close();
  const settings = path.join(dir, 'settings.yaml');
  fs.writeFileSync(settings, `storage:\n  search_db: data/search.duckdb\n  asset_paths: [lib]\n`);
  search = await Search.open({ config: settings });
}, 60_000);

afterAll(async () => {
  await search.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('near-duplicate keeper', () => {
  it('of {original JPEG, its q70 re-encode, its 50% resize, a 10% crop} is the original, and says why', async () => {
    const res = await search.dupes({ near: true });
    expect(res.near).toHaveLength(1);
    const [g] = res.near;
    expect(g?.members.map((m) => index.keyOf(m.content_hash)).sort()).toEqual([
      'crop',
      'half',
      'original',
      'q70',
    ]);
    expect(g?.members.every((m) => m.distance <= 6)).toBe(true);
    expect(g?.keeper).toBe(index.hashOf('original'));
    expect(g?.reason).toMatch(
      /^same resolution and format \(jpeg\); larger file, less compressed: \d+ bytes \(next \d+\)$/,
    );
    const [big, small] = (g?.reason.match(/\d+(?= bytes)|(?<=next )\d+/g) ?? []).map(Number);
    expect(big).toBeGreaterThan(small ?? Infinity);
  });
});

describe('chooseKeeper rules, in order', () => {
  const base: KeeperCandidate = {
    id: 'x',
    width: 100,
    height: 100,
    format: 'jpeg',
    fileSize: 1000,
    tagCount: 0,
    hasPrompt: false,
    hasDescription: false,
    firstSeen: '2024-01-01T00:00:00Z',
  };
  const c = (id: string, o: Partial<KeeperCandidate>): KeeperCandidate => ({ ...base, id, ...o });

  it('resolution beats format, size, metadata and age', () => {
    const r = chooseKeeper([
      c('a', { format: 'png', fileSize: 9e6, tagCount: 9, firstSeen: '2000-01-01T00:00:00Z' }),
      c('b', { width: 200, height: 200 }),
    ]);
    expect(r).toEqual({ keeper: 'b', reason: 'largest resolution: 200×200 (next 100×100)' });
  });

  it('lossless beats a larger lossy file, richer metadata and age', () => {
    const r = chooseKeeper([
      c('a', { fileSize: 9e6, tagCount: 9, firstSeen: '2000-01-01T00:00:00Z' }),
      c('b', { format: 'png', fileSize: 10 }),
    ]);
    expect(r).toEqual({ keeper: 'b', reason: 'same resolution; lossless over lossy: png (next jpeg)' });
  });

  it('file size decides only within one format', () => {
    expect(chooseKeeper([c('a', { fileSize: 10 }), c('b', { fileSize: 20, tagCount: 0 })]).keeper).toBe('b');
    // A bigger WebP says nothing against a JPEG: metadata decides.
    const r = chooseKeeper([c('a', { format: 'webp', fileSize: 99 }), c('b', { tagCount: 1 })]);
    expect(r.keeper).toBe('b');
    expect(r.reason).toMatch(/richest metadata: 1 tag/);
  });

  it('then richer metadata, then seen first, then the smallest id', () => {
    expect(chooseKeeper([c('a', {}), c('b', { hasPrompt: true })]).reason).toMatch(/prompt/);
    const old = chooseKeeper([c('a', {}), c('b', { firstSeen: '2020-01-01T00:00:00Z' })]);
    expect(old).toMatchObject({ keeper: 'b' });
    expect(old.reason).toMatch(/seen first/);
    expect(chooseKeeper([c('b', {}), c('a', {})]).reason).toMatch(/first by content hash/);
  });
});
