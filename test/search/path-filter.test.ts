/**
 * The `path` and `project` filters on a real DuckDB index built from real files with awkward
 * names: a newline in a file or folder name, and assets with copies in several folders.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchFilters } from '../../src/domain/search-filters.js';
import { SearchService, type SearchResponse } from '../../src/services/search/search.service.js';
import { searchServiceOver, searchWith } from './service.js';
import { buildIndex, type AssetSpec, type BuiltIndex } from './fixtures.js';

const SPECS: readonly AssetSpec[] = [
  { key: 'plain', file: 'a/plain.png', image: { seed: 1, width: 64, height: 64, format: 'png' } },
  { key: 'nl-name', file: 'a/new\nline.png', image: { seed: 2, width: 64, height: 64, format: 'png' } },
  { key: 'nl-folder', file: 'b\nc/x.png', image: { seed: 3, width: 64, height: 64, format: 'png' } },
  {
    key: 'copied',
    file: 'a/copied.png',
    image: { seed: 4, width: 64, height: 64, format: 'png' },
    firstSeen: '2024-01-01T00:00:00.000Z',
    copies: [
      { file: 'z/later.png', firstSeen: '2024-02-01T00:00:00.000Z' },
      { file: 'z/deep/again.png', firstSeen: '2024-02-02T00:00:00.000Z' },
    ],
  },
  {
    key: 'in-project',
    file: 'gamma/selected/hero.png',
    project: true,
    image: { seed: 5, width: 64, height: 64, format: 'png' },
    firstSeen: '2024-01-01T00:00:00.000Z',
    copies: [{ file: 'a/hero-original.png', firstSeen: '2023-12-01T00:00:00.000Z' }],
  },
];

let dir: string;
let lib: string;
let index: BuiltIndex;
let service: SearchService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-path-filter-'));
  lib = path.join(dir, 'lib');
  const projects = path.join(dir, 'projects');
  index = await buildIndex(path.join(dir, 'search.duckdb'), { lib, projects }, SPECS);
  service = searchServiceOver(index.db, lib, projects);
});

afterAll(() => {
  index.db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(filters: SearchFilters): Promise<SearchResponse> {
  return searchWith(service, filters);
}

async function keys(filters: SearchFilters): Promise<string[]> {
  return (await run(filters)).results.map((r) => index.keyOf(r.content_hash)).sort();
}

describe('names with a newline', () => {
  it('a folder holds every file under it, whatever their names', async () => {
    expect(await keys({ path: lib })).toEqual(['copied', 'in-project', 'nl-folder', 'nl-name', 'plain']);
    expect(await keys({ path: path.join(lib, 'a') })).toEqual(['copied', 'in-project', 'nl-name', 'plain']);
    expect(await keys({ path: path.join(lib, 'b\nc') })).toEqual(['nl-folder']);
  });

  it('globs: ** crosses a folder with a newline, relative globs reach below it', async () => {
    expect(await keys({ path: `${lib}/**` })).toEqual([
      'copied',
      'in-project',
      'nl-folder',
      'nl-name',
      'plain',
    ]);
    expect(await keys({ path: `${lib}/**/x.png` })).toEqual(['nl-folder']);
    expect(await keys({ path: 'a/*.png' })).toEqual(['copied', 'in-project', 'nl-name', 'plain']);
    expect(await keys({ path: 'x.png' })).toEqual(['nl-folder']);
    expect(await keys({ path: 'new*' })).toEqual(['nl-name']);
  });
});

describe('the path of a result lies within the path or project asked for', () => {
  /** The `path` of the one result for these filters, relative to the temp dir. */
  async function pathOf(filters: SearchFilters): Promise<string | null> {
    const { results } = await run(filters);
    expect(results).toHaveLength(1);
    const p = results[0]?.path ?? null;
    return p === null ? null : path.relative(dir, p);
  }

  it('a folder, a relative glob, a file-name glob and an absolute glob each name a matching copy', async () => {
    expect(await pathOf({ path: path.join(lib, 'z'), query: 'copied' })).toBe('lib/z/deep/again.png');
    expect(await pathOf({ path: path.join(lib, 'z/deep') })).toBe('lib/z/deep/again.png');
    expect(await pathOf({ path: 'z/*.png' })).toBe('lib/z/later.png');
    expect(await pathOf({ path: 'later.png' })).toBe('lib/z/later.png');
    expect(await pathOf({ path: `${lib}/a/copied*` })).toBe('lib/a/copied.png');
  });

  it('every location is still listed; without a location filter the path is the primary one', async () => {
    const { results } = await run({ path: 'later.png' });
    expect(results[0]?.locations.map((p) => path.relative(dir, p)).sort()).toEqual([
      'lib/a/copied.png',
      'lib/z/deep/again.png',
      'lib/z/later.png',
    ]);
    const all = await run({ query: 'copied' });
    const primary = index.assets.get('copied')?.path;
    expect(all.results[0]?.path).toBe(primary);
  });

  it('project: the copy inside the project folder; a folder outside it: the library copy', async () => {
    expect(await pathOf({ project: 'gamma' })).toBe('projects/gamma/selected/hero.png');
    expect(await pathOf({ path: path.join(lib, 'a'), query: 'hero' })).toBe('lib/a/hero-original.png');
  });
});
