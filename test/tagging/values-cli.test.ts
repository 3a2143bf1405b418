/**
 * Awkward tag values and descriptions through the CLI (commander) → sidecar → file, exactly; and
 * keywords another program writes into a tagged file showing up after `alice index update`.
 * The tests build on each other.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AssetRecord } from '../../src/services/search/assets.service.js';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import type { ChangeResult } from '../../src/services/tagging/tag.service.js';
import { makeWorkspace, sha256sum, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readSidecarJson } from '../helpers/library.js';
import { aliceJson, SLOW, asList, outsideRead, outsideWrite } from './helpers.js';

vi.setConfig({ testTimeout: SLOW, hookTimeout: SLOW });

/** Values that look like exiftool or alice options, or hold characters that need care. */
const VALUES = [
  '-overwrite_original',
  '-all=',
  '--json',
  'a=b',
  '"quoted"',
  "it's",
  'line1\nline2',
  '日本語',
  'émoji 🚀',
  '&#10;',
  'semi;colon, comma',
];

let ws: Workspace;
let jpg: string;
let png: string;
const original: Record<string, string> = {};

beforeAll(async () => {
  ws = makeWorkspace();
  const lib = ws.roots[0] as string;
  jpg = path.join(lib, 'a.jpg');
  png = path.join(lib, 'b.png');
  await writeImage(jpg, { seed: 21 });
  await writeImage(png, { seed: 22 });
  original[jpg] = sha256sum(jpg);
  original[png] = sha256sum(png);
  await aliceJson<ScanSummary>(ws, ['index', 'update']);
});

afterAll(() => ws.cleanup());

describe('awkward values round-trip exactly', () => {
  it('tags: CLI → sidecar → file', async () => {
    // `--tag=VALUE` always works; `--tag VALUE` too unless VALUE is one of alice's own options.
    const args = VALUES.map((v, i) => (i % 2 === 0 || v === '--json' ? `--tag=${v}` : ['--tag', v])).flat();
    const r = await aliceJson<ChangeResult>(ws, ['tag', 'add', jpg, png, ...args, '--tag', 'style:x=y']);
    expect(r.failed).toBe(0);
    for (const file of [jpg, png]) {
      const s = readSidecarJson(path.dirname(file), original[file] as string);
      expect(s.analysis.understanding.tags).toEqual({ keywords: VALUES, style: ['x=y'] });
      const t = await outsideRead(file);
      expect(asList(t['XMP-dc:Subject']).sort()).toEqual([...VALUES, 'x=y'].sort());
      expect(asList(t['XMP-lr:HierarchicalSubject'])).toEqual(['style|x=y']);
    }
    // IPTC (JPEG) holds the same values.
    expect(asList((await outsideRead(jpg))['IPTC:Keywords']).sort()).toEqual([...VALUES, 'x=y'].sort());
  });

  it('a description starting with - (after --), with newlines, quotes and non-Latin text', async () => {
    const text = '-all= "x" & it\'s\nzweite Zeile 日本語 <b>';
    const r = await aliceJson<ChangeResult>(ws, ['describe', png, '--', text]);
    expect(r.assets[0]?.files[0]?.status).toBe('written');
    expect(
      readSidecarJson(path.dirname(png), original[png] as string).analysis.understanding.description,
    ).toBe(text);
    const t = await outsideRead(png);
    expect(t['XMP-dc:Description']).toBe(text);
    expect(t['IFD0:ImageDescription']).toBe(text);
  });
});

describe('keywords written by another program', () => {
  it('appear as tags after index update, next to the user’s tags', async () => {
    await outsideWrite(
      jpg,
      '-XMP-dc:Subject+=from-outside',
      '-IPTC:Keywords+=from-outside',
      '-XMP-lr:HierarchicalSubject+=places|europe|paris',
    );
    const s = await aliceJson<ScanSummary>(ws, ['index', 'update']);
    expect(s).toMatchObject({ hashed: 1, modified: 1, new: 0 });
    const r = await aliceJson<AssetRecord>(ws, ['show', jpg]);
    const tags = r.tags.map((t) => `${t.category}:${t.value}`);
    expect(tags).toEqual(
      expect.arrayContaining([
        'keywords:from-outside',
        'places:paris',
        'style:x=y',
        ...VALUES.map((v) => `keywords:${v}`),
      ]) as unknown,
    );
    // The file still carries alice's XMP-alice:ContentHash: it is the same asset, its new bytes an
    // alias (issue 21), not a new asset derived from it.
    expect(r.content_hash).toBe(original[jpg]);
    expect(r.aliases).toContain(sha256sum(jpg));
    expect(r.index?.derived_from ?? null).toBeNull();
  });
});
