/** The pure mapping: exiftool JSON → facts and tags, and what alice plans to write. */
import { describe, expect, it } from 'vitest';
import { exiftoolConfigText } from '../../src/adapters/exiftool-config.js';
import {
  embedSupport,
  formatOfFileType,
  isCurrent,
  planEmbed,
  planMismatches,
} from '../../src/domain/embed-plan.js';
import { categoryFromLevel, tagFromHierarchy, tagsFromEmbedded } from '../../src/domain/embedded-metadata.js';
import { RAW_STRING_CAP, embeddedFromExiftool, exifDateToIso } from '../../src/domain/exiftool-json.js';

const HASH = 'ab'.repeat(32);

describe('embeddedFromExiftool', () => {
  it('maps the facts alice keeps', () => {
    const read = embeddedFromExiftool({
      'File:FileType': 'JPEG',
      'File:ImageWidth': '640',
      'File:ImageHeight': '480',
      'Composite:ImageSize': '640 480',
      'ExifIFD:DateTimeOriginal': '2024:05:06 07:08:09',
      'ExifIFD:OffsetTimeOriginal': '+02:00',
      'IFD0:Software': 'Adobe Photoshop',
      'XMP-xmp:Rating': '4',
      'XMP-dc:Title': 'Title',
      'XMP-dc:Subject': '1.50',
      'IPTC:Keywords': ['a', '1.50'],
      'IFD0:ImageDescription': 'exif text',
      'XMP-alice:ContentHash': HASH.toUpperCase(),
      warnings: ['Warning: minor thing'],
    });
    expect(read).toMatchObject({
      fileType: 'JPEG',
      width: 640,
      height: 480,
      software: 'Adobe Photoshop',
      rating: 4,
    });
    expect(read.created).toBe('2024-05-06T07:08:09+02:00');
    expect(read.title).toBe('Title');
    expect(read.description).toBe('exif text');
    expect(read.contentHash).toBe(HASH);
    expect(read.keywords).toEqual(['1.50', 'a']);
    expect(read.fields['XMP-dc:Subject']).toEqual(['1.50']);
    expect(read.warnings).toEqual(['Warning: minor thing']);
  });

  it('reads video duration and QuickTime dates as UTC', () => {
    const read = embeddedFromExiftool({
      'File:FileType': 'MP4',
      'QuickTime:CreateDate': '2023:01:02 03:04:05',
      'QuickTime:Duration': '12.5',
      'Track1:ImageWidth': '1920',
      'Track1:ImageHeight': '1080',
    });
    expect(read).toMatchObject({
      created: '2023-01-02T03:04:05Z',
      duration: 12.5,
      width: 1920,
      height: 1080,
    });
  });

  it('ignores zero dates and an invalid alice hash', () => {
    const read = embeddedFromExiftool({
      'QuickTime:CreateDate': '0000:00:00 00:00:00',
      'XMP-alice:ContentHash': 'nope',
    });
    expect(read.created).toBeUndefined();
    expect(read.contentHash).toBeUndefined();
  });

  it('keeps the text fields generation parsers need, not blobs, and caps huge values', () => {
    const read = embeddedFromExiftool({
      'PNG:Parameters': 'a cat, Steps: 20',
      'PNG:Workflow': 'x'.repeat(RAW_STRING_CAP + 10),
      'PNG:ImageWidth': '512',
      'ExifIFD:UserComment': 'comment',
      'JUMBF:ClaimGeneratorInfoName': 'ChatGPT',
      'JUMBF:ActionsSoftwareAgentName': 'GPT-4o',
      'IFD1:ThumbnailImage': '(Binary data 1234 bytes, use -b option to extract)',
      'ExifIFD:ExposureTime': '0.01',
    });
    expect(Object.keys(read.raw).sort()).toEqual([
      'ActionsSoftwareAgentName',
      'ClaimGeneratorInfoName',
      'Parameters',
      'UserComment',
      'Workflow',
    ]);
    expect((read.raw['Workflow'] as string).length).toBe(RAW_STRING_CAP);
    expect(read.warnings.join()).toContain('PNG:Workflow truncated');
  });
});

describe('exifDateToIso', () => {
  it.each([
    ['2024:01:02 03:04:05', false, '2024-01-02T03:04:05'],
    ['2024:01:02 03:04:05.123+0100', false, '2024-01-02T03:04:05.123+01:00'],
    ['2024:01:02 03:04:05Z', false, '2024-01-02T03:04:05Z'],
    ['2024:01:02 03:04:05', true, '2024-01-02T03:04:05Z'],
    ['garbage', false, undefined],
  ])('%s (utc %s) → %s', (input, utc, expected) => {
    expect(exifDateToIso(input, utc)).toBe(expected);
  });
});

describe('tags from keywords', () => {
  it('maps hierarchy levels: first = category, last = value', () => {
    expect(tagFromHierarchy('style|cyberpunk')).toEqual({ category: 'style', value: 'cyberpunk' });
    expect(tagFromHierarchy('Places | Europe | Paris')).toEqual({ category: 'places', value: 'Paris' });
    expect(tagFromHierarchy('solo')).toEqual({ category: 'keywords', value: 'solo' });
    expect(tagFromHierarchy('||')).toBeUndefined();
    expect(categoryFromLevel('My Style!')).toBe('my-style');
    expect(categoryFromLevel('???')).toBe('keywords');
  });

  it('drops flat keywords that appear in a hierarchy and dedupes case-insensitively', () => {
    const read = embeddedFromExiftool({
      'XMP-lr:HierarchicalSubject': ['style|Cyberpunk', 'places|europe|paris'],
      'XMP-dc:Subject': ['cyberpunk', 'Europe', 'neon', 'NEON'],
      'IPTC:Keywords': ['neon', 'grain'],
    });
    expect(tagsFromEmbedded(read)).toEqual([
      { category: 'style', value: 'Cyberpunk', source: 'file:XMP-lr:HierarchicalSubject' },
      { category: 'places', value: 'paris', source: 'file:XMP-lr:HierarchicalSubject' },
      { category: 'keywords', value: 'neon', source: 'file:XMP-dc:Subject' },
      { category: 'keywords', value: 'grain', source: 'file:IPTC:Keywords' },
    ]);
  });

  it('uses QuickTime Keys:Keywords only when there is no dc:subject or IPTC', () => {
    const only = embeddedFromExiftool({ 'Keys:Keywords': 'a, b' });
    expect(tagsFromEmbedded(only).map((t) => `${t.value}<-${t.source}`)).toEqual([
      'a<-file:Keys:Keywords',
      'b<-file:Keys:Keywords',
    ]);
    const both = embeddedFromExiftool({ 'Keys:Keywords': 'x,y', 'XMP-dc:Subject': 'x,y' });
    expect(tagsFromEmbedded(both).map((t) => t.value)).toEqual(['x,y']);
  });
});

describe('planEmbed and isCurrent', () => {
  const empty = embeddedFromExiftool({ 'File:FileType': 'JPEG' });
  const tags = [
    { category: 'keywords', value: 'neon' },
    { category: 'style', value: 'cyber' },
    { category: 'color', value: 'Neon' },
  ];

  it('writes values once to dc:subject and IPTC, categories to the hierarchy', () => {
    const plan = planEmbed(empty, { tags, description: ' text ', contentHash: HASH }, 'jpeg');
    expect(plan.fields).toEqual({
      'XMP-dc:Subject': ['neon', 'cyber'],
      'XMP-lr:HierarchicalSubject': ['style|cyber', 'color|Neon'],
      'XMP-alice:ContentHash': HASH,
      'XMP-dc:Description': 'text',
      'IFD0:ImageDescription': 'text',
      'IPTC:Keywords': ['neon', 'cyber'],
      'IPTC:Caption-Abstract': 'text',
    });
    expect(plan.extra).toEqual({ 'IPTC:CodedCharacterSet': 'UTF8' });
  });

  it('keeps over-long values out of IPTC and values with | out of the hierarchy, with warnings', () => {
    const long = 'é'.repeat(33); // 66 bytes
    const plan = planEmbed(
      empty,
      {
        tags: [
          { category: 'k', value: long },
          { category: 'k', value: 'a|b' },
        ],
        contentHash: HASH,
      },
      'jpeg',
    );
    expect(plan.fields['IPTC:Keywords']).toEqual(['a|b']);
    expect(plan.fields['XMP-lr:HierarchicalSubject']).toEqual([`k|${long}`]);
    expect(plan.warnings).toHaveLength(2);
  });

  it('leaves descriptions alone when undefined and removes them when null', () => {
    expect(planEmbed(empty, { tags: [], contentHash: HASH }, 'png').fields).not.toHaveProperty(
      'XMP-dc:Description',
    );
    const removal = planEmbed(empty, { tags: [], description: null, contentHash: HASH }, 'mp4').fields;
    expect(removal).toMatchObject({
      'XMP-dc:Description': null,
      'Keys:Description': null,
      'Keys:Keywords': null,
    });
    expect(removal).not.toHaveProperty('IFD0:ImageDescription');
  });

  it('is current when the file holds the same values in any order, and not otherwise', () => {
    const intent = { tags, description: 'text', contentHash: HASH };
    const file = embeddedFromExiftool({
      'File:FileType': 'JPEG',
      'XMP-dc:Subject': ['cyber', 'neon'],
      'XMP-lr:HierarchicalSubject': ['color|Neon', 'style|cyber'],
      'XMP-alice:ContentHash': HASH,
      'XMP-dc:Description': 'text',
      'IFD0:ImageDescription': 'text',
      'IPTC:Keywords': ['neon', 'cyber'],
      'IPTC:Caption-Abstract': 'text',
    });
    expect(isCurrent(file, intent, 'jpeg')).toBe(true);
    expect(isCurrent(file, { ...intent, description: 'other' }, 'jpeg')).toBe(false);
    expect(
      planMismatches(file, planEmbed(file, { ...intent, contentHash: 'cd'.repeat(32) }, 'jpeg')),
    ).toEqual(['XMP-alice:ContentHash']);
  });
});

describe('embedSupport', () => {
  it('writes the listed formats and says why not for the rest', () => {
    expect(embedSupport(formatOfFileType('Extended WEBP'))).toEqual({ writable: true, format: 'webp' });
    expect(embedSupport(formatOfFileType('HEIC'))).toEqual({ writable: true, format: 'heic' });
    expect(embedSupport(formatOfFileType('GIF'))).toMatchObject({ writable: false });
    expect(embedSupport(formatOfFileType('MKV'))).toMatchObject({ writable: false });
    expect(embedSupport(undefined)).toMatchObject({ writable: false });
    expect(embedSupport('png', { enabled: true, disabled_formats: ['png'] })).toMatchObject({
      writable: false,
    });
  });

  it('defines the alice namespace in the exiftool config', () => {
    const text = exiftoolConfigText();
    expect(text).toContain("'alice' => 'https://alice.dev/ns/1.0/'");
    expect(text).toContain("1 => 'XMP-alice'");
    expect(text).toContain('ContentHash');
  });
});
