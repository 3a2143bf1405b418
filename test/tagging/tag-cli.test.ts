/**
 * `alice tag add` end to end through the built CLI, on real JPEG, PNG, WebP
 * (made with sharp), HEIC and MP4 files (committed fixtures): a separate exiftool reads the tags
 * back, the sidecar and the index record the new byte hash as an alias, and the asset survives a
 * move and `alice index update`. The tests build on each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Sidecar } from '../../src/domain/sidecar.js';
import type { AssetRecord } from '../../src/services/search/assets.service.js';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import type { ChangeResult } from '../../src/services/tagging/tag.service.js';
import { makeWorkspace, sha256sum, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readSidecarJson } from '../helpers/library.js';
import { aliceJson, SLOW, asList, outsideReadMany, queryIndex } from './helpers.js';

vi.setConfig({ testTimeout: SLOW, hookTimeout: SLOW });

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'embed');
const NAMES = ['a.jpg', 'b.png', 'c.webp', 'd.heic', 'e.mp4'] as const;

let ws: Workspace;
let lib: string;
const file = (name: string): string => path.join(lib, name);
/** File name → the asset's content hash (SHA-256 of the file as first indexed). */
const original: Record<string, string> = {};

beforeAll(async () => {
  ws = makeWorkspace();
  lib = ws.roots[0] as string;
  await writeImage(file('a.jpg'), { seed: 11 });
  await writeImage(file('b.png'), { seed: 12 });
  await writeImage(file('c.webp'), { seed: 13 });
  fs.copyFileSync(path.join(FIXTURES, 'tiny.heic'), file('d.heic'));
  fs.copyFileSync(path.join(FIXTURES, 'tiny.mp4'), file('e.mp4'));
  for (const n of NAMES) original[n] = sha256sum(file(n));
  const s = await aliceJson<ScanSummary>(ws, ['index', 'update']);
  expect(s.new).toBe(NAMES.length);
});

afterAll(() => ws.cleanup());

describe('alice tag add', () => {
  let result: ChangeResult;

  beforeAll(async () => {
    const refs = NAMES.map(file);
    result = await aliceJson<ChangeResult>(ws, [
      'tag',
      'add',
      ...refs,
      '--tag',
      'style:cyberpunk',
      '-t',
      'cat',
    ]);
  });

  it('writes every file and reports its new hash', () => {
    expect(result.failed).toBe(0);
    expect(result.assets.map((a) => a.content_hash).sort()).toEqual(NAMES.map((n) => original[n]).sort());
    for (const a of result.assets) {
      expect(a.added).toEqual(['style:cyberpunk', 'keywords:cat']);
      expect(a.files).toHaveLength(1);
      expect(a.files[0]?.status).toBe('written');
      expect(a.files[0]?.new_hash).toBe(sha256sum(a.files[0]?.path ?? ''));
    }
  });

  it('a separate exiftool reads the tags and the alice hash back', async () => {
    const read = await outsideReadMany(NAMES.map(file));
    for (const n of NAMES) {
      const t = read.get(file(n)) ?? {};
      expect(asList(t['XMP-dc:Subject']).sort(), n).toEqual(['cat', 'cyberpunk']);
      expect(asList(t['XMP-lr:HierarchicalSubject']), n).toEqual(['style|cyberpunk']);
      expect(t['XMP-alice:ContentHash'], n).toBe(original[n]);
    }
    expect(asList(read.get(file('a.jpg'))?.['IPTC:Keywords']).sort()).toEqual(['cat', 'cyberpunk']);
  });

  it('the sidecar holds the user’s tags, the new byte hash as alias and the embedding state', () => {
    for (const n of NAMES) {
      const s: Sidecar = readSidecarJson(lib, original[n] as string);
      const now = sha256sum(file(n));
      expect(s.analysis.understanding.tags, n).toEqual({ style: ['cyberpunk'], keywords: ['cat'] });
      expect(s.analysis.understanding.tag_sources).toMatchObject({
        'style:cyberpunk': 'user',
        'keywords:cat': 'user',
      });
      expect(s.aliases).toEqual([now]);
      expect(s.embedding).toMatchObject({ state: 'written', hash: now });
    }
  });

  it('the index has the tags, the alias, the embed state and the file’s new bytes', async () => {
    const hash = original['a.jpg'] as string;
    const now = sha256sum(file('a.jpg'));
    const [asset] = await queryIndex(ws, `SELECT embed_state, tags FROM assets WHERE content_hash = ?`, [
      hash,
    ]);
    expect(asset?.['embed_state']).toBe('written');
    expect([...(asset?.['tags'] as string[])].sort()).toEqual(['keywords:cat', 'style:cyberpunk']);
    expect(await queryIndex(ws, `SELECT content_hash FROM aliases WHERE alias_hash = ?`, [now])).toEqual([
      { content_hash: hash },
    ]);
    const [loc] = await queryIndex(ws, `SELECT byte_hash, size FROM locations WHERE path = ?`, [
      file('a.jpg'),
    ]);
    expect(loc?.['byte_hash']).toBe(now);
    expect(Number(loc?.['size'])).toBe(fs.statSync(file('a.jpg')).size);
  });
});

describe('identity after embedding', () => {
  it('index update does not rehash rewritten files; a tagged file moved keeps its asset and alias', async () => {
    const moved = path.join(lib, 'sub', 'moved.jpg');
    fs.mkdirSync(path.dirname(moved));
    fs.copyFileSync(file('a.jpg'), moved);
    fs.rmSync(file('a.jpg'));
    fs.renameSync(file('c.webp'), path.join(lib, 'sub', 'renamed.webp'));
    const s = await aliceJson<ScanSummary>(ws, ['index', 'update']);
    // Only the copy (a new inode) is hashed: the rewritten files' new bytes were recorded by alice.
    expect(s).toMatchObject({ new: 0, modified: 0, moved: 2, missing: 0, hashed: 1, unchanged: 3 });
    const r = await aliceJson<AssetRecord>(ws, ['show', moved]);
    expect(r.content_hash).toBe(original['a.jpg']);
    expect(r.aliases).toContain(sha256sum(moved));
    expect(r.locations.map((l) => [l.path, l.present])).toEqual([[moved, true]]);
    expect(r.tags.map((t) => `${t.category}:${t.value}`).sort()).toEqual(['keywords:cat', 'style:cyberpunk']);
  });
});

describe('alice tag remove and set', () => {
  it('remove takes a tag out of the file; set replaces every tag', async () => {
    const moved = path.join(lib, 'sub', 'moved.jpg');
    const removed = await aliceJson<ChangeResult>(ws, [
      'tag',
      'remove',
      file('b.png'),
      '-t',
      'style:cyberpunk',
    ]);
    expect(removed.assets[0]).toMatchObject({ removed: ['style:cyberpunk'], tags: ['keywords:cat'] });
    const set = await aliceJson<ChangeResult>(ws, ['tag', 'set', moved, '-t', 'mood:calm']);
    expect(set.assets[0]).toMatchObject({ added: ['mood:calm'], tags: ['mood:calm'] });
    const read = await outsideReadMany([file('b.png'), moved]);
    expect(asList(read.get(file('b.png'))?.['XMP-dc:Subject'])).toEqual(['cat']);
    expect(read.get(file('b.png'))?.['XMP-lr:HierarchicalSubject']).toBeUndefined();
    expect(asList(read.get(moved)?.['XMP-dc:Subject'])).toEqual(['calm']);
    expect(asList(read.get(moved)?.['IPTC:Keywords'])).toEqual(['calm']);
    expect(asList(read.get(moved)?.['XMP-lr:HierarchicalSubject'])).toEqual(['mood|calm']);
    const s = readSidecarJson(lib, original['a.jpg'] as string);
    expect(s.analysis.understanding.tag_sources).toEqual({ 'mood:calm': 'user' });
    expect(s.aliases).toContain(sha256sum(moved));
  });
});
