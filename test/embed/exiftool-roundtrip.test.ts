/**
 * Round trips through the real exiftool: the adapter writes, a separate exiftool process reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExiftoolAdapter } from '../../src/adapters/exiftool.adapter.js';
import { tagsFromEmbedded } from '../../src/domain/embedded-metadata.js';
import type { Tag } from '../../src/domain/tags.js';
import {
  asStrings,
  copyFixture,
  makeImage,
  makeTempDir,
  outsideRead,
  removeDir,
  sha256,
  sharpDecodes,
  type ImageKind,
} from './helpers.js';

const HASH = 'c0ffee'.padEnd(64, '0');
const TAGS: Tag[] = [
  { category: 'style', value: 'cyberpunk' },
  { category: 'keywords', value: 'neon' },
  { category: 'subject', value: 'city at night' },
];
const DESCRIPTION = 'A rainy street.\nSecond line: 日本語 & "quotes"';

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

interface Case {
  name: string;
  make: () => Promise<string>;
  exif: boolean;
  iptc: boolean;
  quicktime: boolean;
  decodes: boolean;
}

const image = (kind: ImageKind, iptc = false, decodes = true): Case => ({
  name: kind,
  make: () => makeImage(dir, kind, `rt-${kind}.${kind === 'jpeg' ? 'jpg' : kind}`),
  exif: true,
  iptc,
  quicktime: false,
  decodes,
});

const CASES: Case[] = [
  image('jpeg', true),
  image('png'),
  image('webp'),
  image('avif'),
  {
    name: 'heic',
    make: () => copyFixture(dir, 'tiny.heic'),
    exif: true,
    iptc: false,
    quicktime: false,
    decodes: false,
  },
  {
    name: 'mp4',
    make: () => copyFixture(dir, 'tiny.mp4'),
    exif: false,
    iptc: false,
    quicktime: true,
    decodes: false,
  },
];

describe.each(CASES)('round trip: $name', (c) => {
  it('writes tags, description and hash that a separate exiftool reads back', async () => {
    const file = await c.make();
    const before = await sha256(file);
    const result = await adapter.writeEmbedded(
      file,
      { tags: TAGS, description: DESCRIPTION, contentHash: HASH },
      { preserveMtime: true, ...(c.decodes ? { decodeCheck: sharpDecodes } : {}) },
    );
    expect(result).toMatchObject({ status: 'written' });
    if (result.status !== 'written') return;
    expect(result.newHash).toBe(await sha256(file));
    expect(result.newHash).not.toBe(before);

    const out = await outsideRead(file);
    expect(asStrings(out['XMP-dc:Subject']).sort()).toEqual(['city at night', 'cyberpunk', 'neon']);
    expect(asStrings(out['XMP-lr:HierarchicalSubject']).sort()).toEqual([
      'style|cyberpunk',
      'subject|city at night',
    ]);
    expect(out['XMP-dc:Description']).toBe(DESCRIPTION);
    expect(out['XMP-alice:ContentHash']).toBe(HASH);
    if (c.exif) expect(out['IFD0:ImageDescription']).toBe(DESCRIPTION);
    if (c.iptc) {
      expect(asStrings(out['IPTC:Keywords']).sort()).toEqual(['city at night', 'cyberpunk', 'neon']);
      expect(out['IPTC:Caption-Abstract']).toBe(DESCRIPTION);
    }
    if (c.quicktime) {
      expect(out['Keys:Keywords']).toBe('cyberpunk,neon,city at night');
      expect(out['Keys:Description']).toBe(DESCRIPTION);
      expect(out['ItemList:Description']).toBe(DESCRIPTION);
    }
    if (c.decodes) expect(await sharpDecodes(file)).toBe(true);

    const read = await adapter.readEmbedded(file);
    expect(read.contentHash).toBe(HASH);
    expect(read.description).toBe(DESCRIPTION);
    const tags = tagsFromEmbedded(read).map((t) => `${t.category}:${t.value}`);
    expect(tags.sort()).toEqual(['keywords:neon', 'style:cyberpunk', 'subject:city at night']);
  });
});

describe('values that look like options or break line-based protocols', () => {
  const VALUES = [
    '-overwrite_original',
    '-all=',
    'a=b',
    '"quoted"',
    "it's",
    'line1\nline2',
    '日本語',
    'émoji 🚀',
    'amp &#10; &amp; entity',
    '1.50',
    'true',
  ];

  it('stores every value exactly (JPEG: XMP and IPTC; read by the adapter and by outside exiftool)', async () => {
    const file = await makeImage(dir, 'jpeg', 'tricky.jpg');
    // U+001F cannot be stored (XML forbids it; exiftool-vendored splits lists on it): sidecar only.
    const unstorable = `unit${String.fromCharCode(0x1f)}separator`;
    const tags = [...VALUES, unstorable].map((value) => ({ category: 'keywords', value }));
    const description = '-description=\nwith "newline" & = sign';
    const result = await adapter.writeEmbedded(
      file,
      { tags, description, contentHash: HASH },
      { preserveMtime: false },
    );
    expect(result, JSON.stringify(result)).toMatchObject({ status: 'written' });
    if (result.status === 'written') expect(result.warnings.join('\n')).toContain('control characters');

    const read = await adapter.readEmbedded(file);
    expect([...(read.fields['XMP-dc:Subject'] ?? [])].sort()).toEqual([...VALUES].sort());
    expect([...(read.fields['IPTC:Keywords'] ?? [])].sort()).toEqual([...VALUES].sort());
    expect(read.description).toBe(description);
    expect(
      tagsFromEmbedded(read)
        .map((t) => t.value)
        .sort(),
    ).toEqual([...VALUES].sort());

    // exiftool without JSONQ prints 1.50 and true as JSON literals: compare those as text.
    const out = await outsideRead(file);
    const outside = asStrings(out['XMP-dc:Subject']).map((v) => (v === '1.5' ? '1.50' : v));
    expect(outside.sort()).toEqual([...VALUES].sort());
    expect(out['IFD0:ImageDescription']).toBe(description);
  });

  it('stores hierarchical values with newlines and non-Latin text exactly', async () => {
    const file = await makeImage(dir, 'png', 'tricky.png');
    const tags = [
      { category: 'mood', value: 'line1\nline2' },
      { category: 'lieu', value: '東京 🚀' },
    ];
    const result = await adapter.writeEmbedded(file, { tags, contentHash: HASH }, { preserveMtime: true });
    expect(result).toMatchObject({ status: 'written' });
    const out = await outsideRead(file);
    expect(asStrings(out['XMP-lr:HierarchicalSubject']).sort()).toEqual([
      'lieu|東京 🚀',
      'mood|line1\nline2',
    ]);
    const read = await adapter.readEmbedded(file);
    expect(tagsFromEmbedded(read).map((t) => `${t.category}:${t.value}`)).toEqual([
      'mood:line1\nline2',
      'lieu:東京 🚀',
    ]);
  });
});
