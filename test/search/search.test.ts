/** Every search filter and sort on a real DuckDB index built from real image files. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AliceError } from '../../src/domain/errors.js';
import { parseSearchFilters, type SearchFilters } from '../../src/domain/search-filters.js';
import { SearchService, type SearchResponse } from '../../src/services/search/search.service.js';
import { searchServiceOver, searchWith } from './service.js';
import { buildIndex, LIBRARY, type BuiltIndex } from './fixtures.js';

let dir: string;
let lib: string;
let projects: string;
let index: BuiltIndex;
let service: SearchService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-search-'));
  lib = path.join(dir, 'lib');
  projects = path.join(dir, 'projects');
  index = await buildIndex(path.join(dir, 'search.duckdb'), { lib, projects }, LIBRARY);
  service = searchServiceOver(index.db, lib, projects);
});

afterAll(() => {
  index.db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(filters: SearchFilters): Promise<SearchResponse> {
  return searchWith(service, filters);
}

/** Keys of the matches, in result order. */
async function keys(filters: SearchFilters): Promise<string[]> {
  return (await run(filters)).results.map((r) => index.keyOf(r.content_hash));
}

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('tags', () => {
  it('all of: a category-qualified tag matches only that category, case-insensitively', async () => {
    expect(sorted(await keys({ tags: ['style:cyberpunk'] }))).toEqual(['city', 'portrait']);
    expect(sorted(await keys({ tags: ['STYLE:CyberPunk'] }))).toEqual(['city', 'portrait']);
    expect(await keys({ tags: ['color:neon'] })).toEqual(['portrait']);
  });

  it('a bare tag matches any category', async () => {
    expect(sorted(await keys({ tags: 'cyberpunk' }))).toEqual(['city', 'forest', 'portrait']);
  });

  it('several tags must all match', async () => {
    expect(await keys({ tags: ['cyberpunk', 'subject:portrait'] })).toEqual(['portrait']);
    expect(await keys({ tags: ['style:cyberpunk', 'subject:forest'] })).toEqual([]);
  });

  it('any_tags and exclude_tags', async () => {
    expect(sorted(await keys({ any_tags: ['subject:forest', 'subject:hero'] }))).toEqual(['forest', 'hero']);
    expect(sorted(await keys({ exclude_tags: ['cyberpunk'] }))).toEqual([
      'clip',
      'forest-small',
      'hero',
      'plain',
    ]);
    expect(await keys({ tags: ['subject:city'], exclude_tags: ['style:cyberpunk'] })).toEqual(['clip']);
  });

  it('missing assets are excluded unless include_missing', async () => {
    expect(await keys({ tags: ['style:cyberpunk'] })).not.toContain('gone');
    const all = await run({ tags: ['style:cyberpunk'], include_missing: true });
    const gone = all.results.find((r) => index.keyOf(r.content_hash) === 'gone');
    expect(gone?.status).toBe('missing');
    expect(all.total).toBe(3);
  });
});

describe('prompt text', () => {
  it('every word must occur; ranked by BM25 relevance', async () => {
    const res = await run({ prompt: 'night neon' });
    expect(res.results.map((r) => index.keyOf(r.content_hash))).toEqual(['city', 'portrait']);
    const scores = res.results.map((r) => r.score ?? 0);
    expect(scores[0]).toBeGreaterThan(scores[1] ?? Infinity);
    expect(await keys({ prompt: 'neon forest' })).toEqual([]);
  });

  it('quoted phrases must appear verbatim', async () => {
    expect(sorted(await keys({ prompt: '"neon city"' }))).toEqual(['city', 'portrait']);
    expect(await keys({ prompt: '"city at night"' })).toEqual(['portrait']);
    expect(await keys({ prompt: '"night city"' })).toEqual([]);
  });

  it('searches the description too', async () => {
    expect(await keys({ prompt: 'woods' })).toEqual(['forest']);
  });

  it('has_prompt', async () => {
    expect(sorted(await keys({ has_prompt: true }))).toEqual(['city', 'forest', 'hero', 'portrait']);
    expect(sorted(await keys({ has_prompt: false }))).toEqual(['clip', 'forest-small', 'plain']);
  });
});

describe('generator, model, media type, format', () => {
  it('source and model are case-insensitive substrings', async () => {
    expect(await keys({ source: 'comfy' })).toEqual(['portrait']);
    expect(await keys({ model: 'dreamshaper' })).toEqual(['city']);
    expect(await keys({ model: 'sdxl' })).toEqual(['portrait']);
  });

  it('media_type', async () => {
    expect(await keys({ media_type: 'video' })).toEqual(['clip']);
    expect(await keys({ media_type: ['image'] })).not.toContain('clip');
  });

  it('formats: jpg means jpeg', async () => {
    expect(sorted(await keys({ formats: ['jpg'] }))).toEqual(['city', 'forest-small']);
    expect(sorted(await keys({ formats: 'png,webp' }))).toEqual(['forest', 'hero', 'plain', 'portrait']);
  });
});

describe('dates', () => {
  it('since/until on created_at, falling back to first_seen; a date covers its whole day', async () => {
    expect(sorted(await keys({ since: '2024-03-10' }))).toEqual(['city', 'forest', 'forest-small']);
    expect(await keys({ since: '2024-03-05', until: '2024-03-05' })).toEqual(['portrait']);
    expect(await keys({ until: '2023-12-31' })).toEqual(['plain']);
    expect(sorted(await keys({ since: '2024-02', until: '2024-02' }))).toEqual(['clip', 'hero']);
  });

  it('relative ages count back from now', async () => {
    // now = 2024-03-25: 7 days back is 2024-03-18.
    expect(sorted(await keys({ since: '7d' }))).toEqual(['city', 'forest', 'forest-small']);
  });

  it('rejects a date it cannot read', async () => {
    await expect(run({ since: 'last tuesday' })).rejects.toThrow(AliceError);
  });
});

describe('dimensions', () => {
  it('min/max width and height', async () => {
    expect(await keys({ min_width: 380 })).toEqual(['city']);
    expect(sorted(await keys({ max_height: 160 }))).toEqual(['clip', 'forest-small']);
    expect(sorted(await keys({ min_width: 200, max_width: 256, min_height: 200 }))).toEqual([
      'plain',
      'portrait',
    ]);
  });

  it('orientation', async () => {
    expect(await keys({ orientation: 'portrait' })).toEqual(['portrait']);
    expect(sorted(await keys({ orientation: 'landscape' }))).toEqual(['city', 'hero']);
    expect(sorted(await keys({ orientation: 'square' }))).toEqual([
      'clip',
      'forest',
      'forest-small',
      'plain',
    ]);
  });
});

describe('paths and projects', () => {
  it('a glob without a slash matches file names', async () => {
    expect(await keys({ path: '*.webp' })).toEqual(['forest']);
    expect(sorted(await keys({ path: 'forest*' }))).toEqual(['forest', 'forest-small']);
  });

  it('relative globs match at any depth, absolute ones from the root', async () => {
    expect(await keys({ path: 'copies/*' })).toEqual(['portrait']);
    expect(await keys({ path: `${projects}/**/hero.png` })).toEqual(['hero']);
    expect(sorted(await keys({ path: `${lib}/cyber/*` }))).toEqual(['city', 'portrait']);
    expect(await keys({ path: `${lib}/*` })).toEqual([]);
  });

  it('project: locations under <project root>/<name>', async () => {
    expect(await keys({ project: 'alpha' })).toEqual(['hero']);
    expect(await keys({ project: 'beta' })).toEqual([]);
    await expect(run({ project: '../lib' })).rejects.toMatchObject({ code: 'PROJECT_INVALID' });
  });
});

describe('sorting and paging', () => {
  const present = LIBRARY.filter((a) => a.missing !== true);
  const when = (k: string): string => {
    const a = LIBRARY.find((x) => x.key === k);
    return a?.createdAt ?? a?.firstSeen ?? '2024-01-15T12:00:00.000Z';
  };

  it('newest (default) and oldest', async () => {
    const newest = await keys({});
    expect(newest).toEqual(present.map((a) => a.key).sort((x, y) => when(y).localeCompare(when(x))));
    expect(await keys({ sort: 'oldest' })).toEqual([...newest].reverse());
  });

  it('name and size', async () => {
    const byName = (await run({ sort: 'name' })).results.map((r) => r.file_name);
    expect(byName).toEqual([...byName].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    const sizes = (await run({ sort: 'size' })).results.map((r) => r.file_size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  });

  it('random is deterministic for a seed and returns it', async () => {
    const a = await run({ sort: 'random', seed: 'abc' });
    const b = await run({ sort: 'random', seed: 'abc' });
    expect(a.results.map((r) => r.content_hash)).toEqual(b.results.map((r) => r.content_hash));
    expect(a.seed).toBe('abc');
    const seeds = ['s1', 's2', 's3', 's4'];
    const orders = await Promise.all(
      seeds.map(async (seed) => (await keys({ sort: 'random', seed })).join()),
    );
    expect(new Set(orders).size).toBeGreaterThan(1);
    expect(sorted(await keys({ sort: 'random', seed: 7 }))).toEqual(sorted(present.map((a) => a.key)));
  });

  it('limit and offset page through the same order; total counts every match', async () => {
    const all = await keys({});
    const page = await run({ limit: 2, offset: 1 });
    expect(page.total).toBe(all.length);
    expect(page.results.map((r) => index.keyOf(r.content_hash))).toEqual(all.slice(1, 3));
    const tail = await run({ limit: 5, offset: all.length - 1 });
    expect(tail.total).toBe(all.length);
    const past = await run({ limit: 5, offset: 100 });
    expect(past).toMatchObject({ results: [], total: all.length });
    expect((await run({ limit: 0 })).total).toBe(all.length);
  });
});

describe('result shape and facets', () => {
  it('carries content hash, primary path, every location, tags by category, prompt, dimensions', async () => {
    const [r] = (await run({ tags: ['subject:portrait'] })).results;
    expect(r).toMatchObject({
      content_hash: index.hashOf('portrait'),
      path: path.join(lib, 'cyber/portrait.png'),
      media_type: 'image',
      format: 'png',
      width: 256,
      height: 384,
      tags: { style: ['cyberpunk'], subject: ['portrait'], color: ['Neon'] },
      prompt: 'a cyberpunk portrait of a woman, neon city at night',
      source: 'ComfyUI',
      model: 'SDXL Base 1.0',
      created_at: '2024-03-05T10:00:00.000Z',
      first_seen: '2024-03-06T10:00:00.000Z',
    });
    expect(r?.locations).toEqual([
      path.join(lib, 'copies/portrait-copy.png'),
      path.join(lib, 'cyber/portrait.png'),
    ]);
  });

  it('facets count tags, media types and generators over all matches', async () => {
    const res = await run({ tags: ['cyberpunk'], limit: 1, facets: true });
    expect(res.total).toBe(3);
    expect(res.facets?.media_types).toEqual({ image: 3 });
    expect(res.facets?.generators).toEqual({ ComfyUI: 1, automatic1111: 1, midjourney: 1 });
    expect(res.facets?.tags[0]).toEqual({ tag: 'style:cyberpunk', count: 2 });
    expect(res.facets?.tags).toContainEqual({ tag: 'subject:forest', count: 1 });
    const sum = (r: Record<string, number> | undefined): number =>
      Object.values(r ?? {}).reduce((a, b) => a + b, 0);
    expect(res.facets?.models['SDXL Base 1.0']).toBe(1);
    expect(sum(res.facets?.formats)).toBe(3);
    expect(Object.keys(res.facets?.months ?? {}).every((k) => /^\d{4}-\d{2}$/.test(k))).toBe(true);
    expect(sum(res.facets?.months)).toBe(3);
    expect((await run({})).facets).toBeUndefined();
  });
});

describe('untrusted input', () => {
  it('caps the limit, rejects unknown keys and bad values', () => {
    expect(parseSearchFilters({ limit: 5000 }).limit).toBe(1000);
    expect(() => parseSearchFilters({ tagz: ['x'] })).toThrow(/tagz|unrecognized/i);
    expect(() => parseSearchFilters({ sort: 'best' })).toThrow(AliceError);
    expect(() => parseSearchFilters({ min_width: -1 })).toThrow(AliceError);
  });

  it('treats SQL in values as plain text', async () => {
    expect(await keys({ tags: ["x' OR 1=1 --"], prompt: "'; DROP TABLE assets; --" })).toEqual([]);
    expect((await run({})).total).toBe(7);
  });
});
