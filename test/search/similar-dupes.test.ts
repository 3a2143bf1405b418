/**
 * findSimilar (by hash, by indexed path, by a file outside the library), dupes (exact and near),
 * and the package's `Search` class over the index file and over an invoke function.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container } from '../../src/app/container.js';
import { runOperation } from '../../src/app/operations.js';
import { loadConfig } from '../../src/config/config.js';
import { NO_PROGRESS } from '../../src/ports.js';
import { Search } from '../../src/index.js';
import { buildIndex, LIBRARY, makeImage, type BuiltIndex } from './fixtures.js';

let dir: string;
let lib: string;
let projects: string;
let index: BuiltIndex;
let search: Search;
let settingsFile: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-similar-'));
  lib = path.join(dir, 'lib');
  projects = path.join(dir, 'projects');
  index = await buildIndex(path.join(dir, 'data', 'search.duckdb'), { lib, projects }, LIBRARY);
  index.db.close();
  settingsFile = path.join(dir, 'settings.yaml');
  fs.writeFileSync(
    settingsFile,
    `storage:\n  search_db: data/search.duckdb\n  asset_paths: [lib]\n  project_paths: [projects]\n`,
  );
  search = await Search.open({ config: settingsFile });
});

afterAll(async () => {
  await search.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const keysOf = (rs: { content_hash: string }[]): string[] => rs.map((r) => index.keyOf(r.content_hash));

describe('findSimilar', () => {
  it('by content hash: the near duplicate, with its distance; never the query itself', async () => {
    const res = await search.findSimilar({ contentHash: index.hashOf('forest') });
    expect(keysOf(res.results)).toEqual(['forest-small']);
    expect(res.results[0]?.distance).toBeLessThanOrEqual(10);
    expect(res.query).toMatchObject({
      content_hash: index.hashOf('forest'),
      indexed: true,
      hash: 'phash',
      threshold: 10,
    });
    expect(res.query.value).toMatch(/^[0-9a-f]{16}$/);
  });

  it('by an indexed path, with dhash, and the threshold bounds the distance', async () => {
    const res = await search.findSimilar({
      path: path.join(lib, 'nature/forest-small.jpg'),
      hash: 'dhash',
      threshold: 12,
    });
    expect(keysOf(res.results)).toEqual(['forest']);
    const none = await search.findSimilar({ contentHash: index.hashOf('forest'), threshold: 0 });
    expect(none.results.filter((r) => r.distance > 0)).toEqual([]);
    const wide = await search.findSimilar({ contentHash: index.hashOf('forest'), threshold: 64, limit: 3 });
    expect(wide.results).toHaveLength(3);
    const d = wide.results.map((r) => r.distance);
    expect(d).toEqual([...d].sort((a, b) => a - b));
  });

  it('leaves out missing assets unless include_missing', async () => {
    const q = { contentHash: index.hashOf('plain'), threshold: 64, limit: 100 };
    const present = keysOf((await search.findSimilar(q)).results);
    expect(present).toHaveLength(5);
    expect(present).not.toContain('gone');
    expect(present).not.toContain('plain');
    const all = keysOf((await search.findSimilar({ ...q, include_missing: true })).results);
    expect(all.sort()).toEqual([...present, 'gone'].sort());
    expect(keysOf((await search.findSimilar({ ...q, limit: 2 })).results)).toEqual(present.slice(0, 2));
  });

  it('a file that is not indexed is hashed on the fly', async () => {
    const outside = path.join(dir, 'outside', 'forest-75.png');
    fs.mkdirSync(path.dirname(outside), { recursive: true });
    fs.writeFileSync(outside, await makeImage({ seed: 33, width: 240, height: 240, format: 'png' }));
    const res = await search.findSimilar({ path: outside, threshold: 10 });
    expect(res.query).toMatchObject({ indexed: false, path: outside });
    expect(keysOf(res.results).sort()).toEqual(['forest', 'forest-small']);
  });

  it('explains when there is no hash to compare', async () => {
    await expect(search.findSimilar({ contentHash: index.hashOf('clip') })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const text = path.join(dir, 'note.png');
    fs.writeFileSync(text, 'not an image');
    await expect(search.findSimilar({ path: text })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(search.findSimilar({})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('dupes', () => {
  it('exact groups: one content hash at several present paths, keeper seen first', async () => {
    const res = await search.dupes();
    expect(res.near_threshold).toBeNull();
    expect(res.near).toEqual([]);
    expect(res.exact).toHaveLength(1);
    expect(res.exact[0]).toMatchObject({
      content_hash: index.hashOf('portrait'),
      paths: [path.join(lib, 'copies/portrait-copy.png'), path.join(lib, 'cyber/portrait.png')],
      keeper: path.join(lib, 'cyber/portrait.png'),
    });
    expect(res.exact[0]?.reason).toMatch(/seen first/);
  });

  it('near groups: keeper has the largest resolution, and nothing is deleted', async () => {
    const res = await search.dupes({ near: true });
    expect(res.near_threshold).toBe(6);
    expect(res.near).toHaveLength(1);
    const [g] = res.near;
    expect(g?.keeper).toBe(index.hashOf('forest'));
    expect(g?.reason).toMatch(/largest resolution: 320×320/);
    expect(keysOf(g?.members ?? [])).toEqual(['forest', 'forest-small']);
    expect(g?.members[0]?.distance).toBe(0);
    expect(fs.existsSync(path.join(lib, 'nature/forest-small.jpg'))).toBe(true);
    expect(fs.existsSync(path.join(lib, 'copies/portrait-copy.png'))).toBe(true);
  });
});

describe('Search', () => {
  it('search() returns results and a total', async () => {
    const res = await search.search({ tags: ['style:cyberpunk'], media_type: 'image' });
    expect(res.total).toBe(2);
    expect(keysOf(res.results).sort()).toEqual(['city', 'portrait']);
    expect(await search.search({ project: 'alpha' })).toMatchObject({ total: 1 });
  });

  it('opens a bare index file', async () => {
    await search.close();
    const bare = await Search.open(path.join(dir, 'data', 'search.duckdb'));
    expect((await bare.search({ prompt: 'woods' })).total).toBe(1);
    await bare.close();
    await bare.close();
    await expect(bare.search({})).rejects.toThrow(/closed/);
    search = await Search.open({ config: settingsFile });
  });

  it('works over an invoke function (as through the agent) with the same answers', async () => {
    const config = loadConfig({ configFile: settingsFile });
    const calls: string[] = [];
    const remote = Search.over(async (op, params) => {
      calls.push(op);
      const container = new Container(config, { readOnly: true });
      try {
        return await runOperation({ container, progress: NO_PROGRESS, cwd: dir, remote: true }, op, params);
      } finally {
        await container.close();
      }
    });
    await search.close();
    const viaOps = await remote.search({ tags: 'cyberpunk', sort: 'oldest' });
    const similar = await remote.findSimilar({ contentHash: index.hashOf('forest') });
    const dupes = await remote.dupes({ near: true });
    await expect(remote.search({ limit: -1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    search = await Search.open({ config: settingsFile });
    expect(calls).toEqual(['search', 'similar', 'dupes', 'search']);
    expect(viaOps).toEqual(await search.search({ tags: 'cyberpunk', sort: 'oldest' }));
    expect(similar).toEqual(await search.findSimilar({ contentHash: index.hashOf('forest') }));
    expect(dupes).toEqual(await search.dupes({ near: true }));
  });

  it('refuses a path outside the roots for remote callers', async () => {
    const config = loadConfig({ configFile: settingsFile });
    const container = new Container(config, { readOnly: true });
    await search.close();
    try {
      await expect(
        runOperation({ container, progress: NO_PROGRESS, cwd: dir, remote: true }, 'similar', {
          path: path.join(dir, 'outside', 'forest-75.png'),
        }),
      ).rejects.toMatchObject({ code: 'OUTSIDE_ROOTS' });
    } finally {
      await container.close();
      search = await Search.open({ config: settingsFile });
    }
  });
});
