import { describe, expect, it } from 'vitest';
import { csvRecords, parseCsv } from '../../src/domain/csv.js';
import { importRecord } from '../../src/domain/sidecar-migrations.js';
import { formatTag } from '../../src/domain/tags.js';

const HASH = 'c'.repeat(64);

describe('parseCsv', () => {
  it('handles quotes, escaped quotes, delimiters and newlines inside quotes, CRLF and a BOM', () => {
    const text = '\uFEFFa,b,c\r\n"x, y","he said ""hi""","line1\nline2"\r\nplain,,last\n';
    expect(parseCsv(text)).toEqual({
      rows: [
        ['a', 'b', 'c'],
        ['x, y', 'he said "hi"', 'line1\nline2'],
        ['plain', '', 'last'],
      ],
      warnings: [],
    });
  });

  it('keeps empty quoted fields, skips blank lines, reads a last line without newline', () => {
    expect(parseCsv('a,""\n\nb,c').rows).toEqual([
      ['a', ''],
      ['b', 'c'],
    ]);
    expect(parseCsv('""').rows).toEqual([['']]);
    expect(parseCsv('').rows).toEqual([]);
  });

  it('is lenient with broken quoting', () => {
    const unterminated = parseCsv('a,"never closed\nstill');
    expect(unterminated.rows).toEqual([['a', 'never closed\nstill']]);
    expect(unterminated.warnings).toEqual(['unterminated quoted field at end of input']);
    const stray = parseCsv('a"b,"c"d');
    expect(stray.rows).toEqual([['a"b', 'cd']]);
    expect(stray.warnings.join()).toMatch(/outside a quoted field/);
  });

  it('supports other delimiters and a row cap', () => {
    expect(parseCsv('a;b\nc;d', { delimiter: ';' }).rows).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    const capped = parseCsv('1\n2\n3\n', { maxRows: 2 });
    expect(capped.rows).toEqual([['1'], ['2']]);
    expect(capped.warnings).toEqual(['stopped after 2 rows']);
  });

  it('builds records from a header row and warns on ragged rows', () => {
    const { records, warnings } = csvRecords('content_hash,tags\nabc,"style:x; mood:y"\nshort\n');
    expect(records).toEqual([{ content_hash: 'abc', tags: 'style:x; mood:y' }, { content_hash: 'short' }]);
    expect(warnings).toEqual(['row 3: 1 fields, header has 2']);
  });
});

describe('importRecord', () => {
  it('reads a CSV export row', () => {
    const csv = [
      'content_hash,file_path,tags,style_tags,description,prompt,negative_prompt',
      `${HASH.toUpperCase()},organized/a.png,"cyberpunk; mood:dark","neon|vaporwave","A city, at night",a neon city,blurry`,
    ].join('\n');
    const [record] = csvRecords(csv).records;
    const imported = importRecord(record ?? {});
    expect(imported).toEqual({
      contentHash: HASH,
      path: 'organized/a.png',
      tags: expect.any(Array) as unknown,
      description: 'A city, at night',
      prompt: 'a neon city',
      negativePrompt: 'blurry',
      warnings: [],
    });
    expect(imported.tags.map(formatTag)).toEqual([
      'keywords:cyberpunk',
      'mood:dark',
      'style:neon',
      'style:vaporwave',
    ]);
  });

  it('reads a JSON Lines record with tags by category and a legacy understanding block', () => {
    const line = JSON.stringify({
      hash: HASH,
      tags: { Style: ['anime'], subject: 'cat, dog' },
      keywords: ['fluffy'],
      analysis: {
        understanding: {
          tags: { mood: ['calm'] },
          description: 'two pets',
          positive_prompt: 'a cat and a dog',
        },
      },
    });
    const imported = importRecord(JSON.parse(line) as Record<string, unknown>);
    expect(imported.tags.map(formatTag)).toEqual([
      'mood:calm',
      'style:anime',
      'subject:cat',
      'subject:dog',
      'keywords:fluffy',
    ]);
    expect(imported).toMatchObject({ contentHash: HASH, description: 'two pets', prompt: 'a cat and a dog' });
  });

  it('reads JSON text in a CSV tags column and drops duplicates', () => {
    const imported = importRecord({ tags: '["style:anime", "Style:ANIME", "cat"]' });
    expect(imported.tags.map(formatTag)).toEqual(['style:anime', 'keywords:cat']);
  });

  it('ignores bad hashes and oversized tags with warnings', () => {
    const imported = importRecord({ content_hash: 'xyz', tags: ['ok', 'x'.repeat(300)], prompt: 42 });
    expect(imported.contentHash).toBeUndefined();
    expect(imported.tags.map(formatTag)).toEqual(['keywords:ok']);
    expect(imported.prompt).toBe('42');
    expect(imported.warnings).toHaveLength(2);
  });

  it('returns an empty update for an empty record', () => {
    expect(importRecord({})).toEqual({ tags: [], warnings: [] });
  });
});
