/** Pure parsers of the search filter model and the duplicate keeper rules. */
import { describe, expect, it } from 'vitest';
import { chooseKeeper, chooseKeeperCopy } from '../../src/domain/duplicate-keeper.js';
import {
  parseWith,
  resolveSearch,
  searchFiltersSchema,
  similarSchema,
} from '../../src/domain/search-filters.js';
import {
  bm25Idf,
  bm25Term,
  globToRegex,
  normaliseFormats,
  parseDateBound,
  parsePromptQuery,
  parseTagMatch,
} from '../../src/domain/search-values.js';

const NOW = new Date('2024-03-25T15:30:00.000Z');

describe('parseDateBound', () => {
  it('calendar values: since = start, until = end (exclusive) of the period, UTC', () => {
    expect(parseDateBound('2024-03-01', NOW, 'since')).toEqual({ at: '2024-03-01T00:00:00.000Z', op: '>=' });
    expect(parseDateBound('2024-03-01', NOW, 'until')).toEqual({ at: '2024-03-02T00:00:00.000Z', op: '<' });
    expect(parseDateBound('2024-02', NOW, 'until')).toEqual({ at: '2024-03-01T00:00:00.000Z', op: '<' });
    expect(parseDateBound('2023', NOW, 'until')).toEqual({ at: '2024-01-01T00:00:00.000Z', op: '<' });
    expect(parseDateBound('today', NOW, 'since').at).toBe('2024-03-25T00:00:00.000Z');
    expect(parseDateBound('yesterday', NOW, 'until').at).toBe('2024-03-25T00:00:00.000Z');
  });

  it('relative ages and date-times', () => {
    expect(parseDateBound('7d', NOW, 'since').at).toBe('2024-03-18T15:30:00.000Z');
    expect(parseDateBound('12h', NOW, 'since').at).toBe('2024-03-25T03:30:00.000Z');
    expect(parseDateBound('2w', NOW, 'until')).toEqual({ at: '2024-03-11T15:30:00.000Z', op: '<=' });
    expect(parseDateBound('30min', NOW, 'since').at).toBe('2024-03-25T15:00:00.000Z');
    expect(parseDateBound('2024-03-01T12:00:00+02:00', NOW, 'since').at).toBe('2024-03-01T10:00:00.000Z');
  });

  it('rejects what it cannot read, including impossible dates', () => {
    for (const bad of ['2024-02-31', 'soon', '7 days ago', '2024/03/01', '-3d']) {
      expect(() => parseDateBound(bad, NOW, 'since')).toThrow(/cannot read since date/);
    }
  });
});

describe('globToRegex', () => {
  const matches = (glob: string, p: string): boolean => new RegExp(`^${globToRegex(glob)}$`).test(p);

  it('a glob without a slash matches the file name only', () => {
    expect(matches('*.png', '/lib/a/b.png')).toBe(true);
    expect(matches('*.png', '/lib/a.png/b.jpg')).toBe(false);
    expect(matches('img-??.jpg', '/x/img-01.jpg')).toBe(true);
    expect(matches('img-[0-4]*', '/x/img-5.jpg')).toBe(false);
    expect(matches('img-[!0-4]*', '/x/img-5.jpg')).toBe(true);
  });

  it('* stays in a segment, ** crosses folders, absolute globs anchor at the root', () => {
    expect(matches('/lib/*', '/lib/a.png')).toBe(true);
    expect(matches('/lib/*', '/lib/sub/a.png')).toBe(false);
    expect(matches('/lib/**', '/lib/sub/a.png')).toBe(true);
    expect(matches('/lib/**/a.png', '/lib/a.png')).toBe(true);
    expect(matches('2024/*.png', '/lib/2024/x.png')).toBe(true);
    expect(matches('2024/*.png', '/lib/x2024/x.png')).toBe(false);
    expect(matches('/lib/*', '/other/lib/a.png')).toBe(false);
  });

  it('a path without wildcards is a folder: itself and everything under it', () => {
    expect(matches('/lib/misc', '/lib/misc/a.png')).toBe(true);
    expect(matches('/lib/misc/', '/lib/misc/deep/er/a.png')).toBe(true);
    expect(matches('/lib/misc', '/lib/misc')).toBe(true);
    expect(matches('/lib/misc', '/lib/miscellaneous/a.png')).toBe(false);
    expect(matches('misc', '/lib/x/misc/a.png')).toBe(true);
    expect(matches('misc', '/lib/notmisc/a.png')).toBe(false);
    expect(matches('/', '/lib/a.png')).toBe(true);
  });

  it('regex metacharacters are literal', () => {
    expect(matches('a+b (1).png', '/x/a+b (1).png')).toBe(true);
    expect(matches('a.png', '/x/aXpng')).toBe(false);
  });
});

describe('tags, prompts, formats', () => {
  it('category-qualified vs bare tags', () => {
    expect(parseTagMatch('Style:CyberPunk')).toEqual({ category: 'style', value: 'cyberpunk' });
    expect(parseTagMatch('cyberpunk')).toEqual({ category: null, value: 'cyberpunk' });
    expect(parseTagMatch('not a category: x')).toEqual({ category: null, value: 'not a category: x' });
  });

  it('prompt words and "quoted phrases"', () => {
    expect(parsePromptQuery('Red "neon  City" night red')).toEqual({
      terms: ['red', 'neon', 'city', 'night'],
      phrases: ['neon city'],
    });
    expect(parsePromptQuery('"single"')).toEqual({ terms: ['single'], phrases: [] });
  });

  it('formats: aliases, dots and case', () => {
    expect(normaliseFormats(['PNG', '.jpg', 'heic'])).toEqual(['png', 'jpeg', 'jpg', 'heic', 'heif']);
    expect(() => normaliseFormats(['png', 'banana'])).toThrow(/unknown format "banana"/);
  });

  it('BM25: rarer terms and higher frequency score more; longer documents less', () => {
    expect(bm25Idf(1000, 1)).toBeGreaterThan(bm25Idf(1000, 500));
    expect(bm25Idf(10, 10)).toBeGreaterThan(0);
    expect(bm25Term(1, 2, 1)).toBeGreaterThan(bm25Term(1, 1, 1));
    expect(bm25Term(1, 1, 0.5)).toBeGreaterThan(bm25Term(1, 1, 2));
  });
});

describe('schemas and resolveSearch', () => {
  const env = { now: NOW, projectRoots: ['/p1', '/p2/'], randomSeed: 'r' };

  it('defaults: newest, or relevance with prompt words; random gets a seed', () => {
    const base = parseWith(searchFiltersSchema, {}, 'search');
    expect(resolveSearch(base, env)).toMatchObject({
      sort: 'newest',
      limit: 50,
      offset: 0,
      includeMissing: false,
    });
    const q = parseWith(searchFiltersSchema, { prompt: 'cat', sort: 'random' }, 'search');
    expect(resolveSearch(q, env)).toMatchObject({ sort: 'random', seed: 'r' });
    expect(resolveSearch(parseWith(searchFiltersSchema, { prompt: 'cat' }, 'search'), env).sort).toBe(
      'relevance',
    );
  });

  it('project prefixes in every project root', () => {
    const q = parseWith(searchFiltersSchema, { project: 'alpha' }, 'search');
    expect(resolveSearch(q, env).projectPrefixes).toEqual(['/p1/alpha/', '/p2/alpha/']);
    expect(() => resolveSearch(q, { ...env, projectRoots: [] })).toThrow(/no project folders/);
  });

  it('similar: exactly one query, threshold 0..64', () => {
    expect(parseWith(similarSchema, { contentHash: 'ABCDEF0123' }, 'similar')).toMatchObject({
      ref: 'ABCDEF0123',
      threshold: 10,
      hash: 'phash',
    });
    expect(() => parseWith(similarSchema, { path: '/a', contentHash: 'abcdef0123' }, 'similar')).toThrow(
      /exactly one/,
    );
    expect(() => parseWith(similarSchema, { path: '/a', threshold: 65 }, 'similar')).toThrow(/threshold/);
    expect(() => parseWith(similarSchema, { contentHash: 'xyz' }, 'similar')).toThrow(/hex/);
  });
});

describe('keeper', () => {
  const c = (id: string, w: number, tags: number, seen: string, prompt = false) => ({
    id,
    width: w,
    height: w,
    format: 'png',
    fileSize: 1000,
    tagCount: tags,
    hasPrompt: prompt,
    hasDescription: false,
    firstSeen: seen,
  });

  it('largest resolution, then richest metadata, then oldest', () => {
    expect(chooseKeeper([c('a', 100, 9, '2020-01-01'), c('b', 200, 0, '2024-01-01')])).toEqual({
      keeper: 'b',
      reason: 'largest resolution: 200×200 (next 100×100)',
    });
    expect(chooseKeeper([c('a', 100, 1, '2020-01-01'), c('b', 100, 1, '2024-01-01', true)]).keeper).toBe('b');
    const oldest = chooseKeeper([c('a', 100, 1, '2024-01-01'), c('b', 100, 1, '2020-01-01')]);
    expect(oldest.keeper).toBe('b');
    expect(oldest.reason).toMatch(/seen first/);
    expect(chooseKeeper([c('b', 1, 0, 'x'), c('a', 1, 0, 'x')]).keeper).toBe('a');
  });

  it('exact copies: seen first, then shortest path', () => {
    expect(
      chooseKeeperCopy([
        { path: '/a/long/copy.png', firstSeen: '2020-01-01T00:00:00Z' },
        { path: '/a/x.png', firstSeen: '2021-01-01T00:00:00Z' },
      ]).keeper,
    ).toBe('/a/long/copy.png');
    expect(
      chooseKeeperCopy([
        { path: '/a/long/copy.png', firstSeen: null },
        { path: '/a/x.png', firstSeen: null },
      ]),
    ).toEqual({ keeper: '/a/x.png', reason: 'identical bytes, seen together; the shortest path' });
  });
});
