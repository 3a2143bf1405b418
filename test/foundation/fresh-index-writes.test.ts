/**
 * Writes into an empty index (a rebuild's) skip the lookups and deletes of old rows by key
 * (AssetRepository.allEmpty); they must give the same rows as writes into an index that has some,
 * and fall back to the full path when a batch names the same asset or path twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/adapters/duckdb.adapter.js';
import { AssetRepository, type AssetEntry } from '../../src/adapters/index/asset.repository.js';
import type { LocationRow } from '../../src/adapters/index/rows.js';
import { migrate } from '../../src/adapters/index/schema.js';

let db: Db | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

async function freshRepo(): Promise<{ db: Db; repo: AssetRepository }> {
  db = await openDb(':memory:');
  await migrate(db);
  return { db, repo: new AssetRepository(db) };
}

const hashOf = (n: number): string => n.toString(16).padStart(64, '0');

function entry(n: number, tags: string[], alias?: string): AssetEntry {
  const h = hashOf(n);
  return {
    asset: {
      content_hash: h,
      file_path: `/lib/a${n}.png`,
      file_name: `a${n}.png`,
      file_size: 100 + n,
      media_type: 'image',
      format: 'png',
      mime: null,
      width: 32,
      height: 32,
      duration: null,
      tags,
      description: null,
      prompt: `a prompt ${n}`,
      negative_prompt: null,
      source: null,
      model: null,
      generation: null,
      created_at: null,
      first_seen: '2024-01-15T12:00:00.000Z',
      updated_at: '2024-01-15T12:00:00.000Z',
      derived_from: null,
      embed_state: null,
      status: 'present',
      warnings: [],
      damage: null,
      created_source: null,
    },
    tags: tags.map((t) => {
      const [category = '', value = ''] = t.split(':');
      return { content_hash: h, category, value, value_norm: value.toLowerCase(), source: 'user' };
    }),
    phash: null,
    aliases: alias === undefined ? [] : [alias],
  };
}

function location(n: number, path = `/lib/a${n}.png`): LocationRow {
  return {
    path,
    content_hash: hashOf(n),
    byte_hash: hashOf(n),
    root: '/lib',
    rel_path: path.slice('/lib/'.length),
    size: 100 + n,
    mtime_ms: 1,
    inode: n,
    present: true,
    first_seen: '2024-01-15T12:00:00.000Z',
    last_seen: '2024-01-15T12:00:00.000Z',
    missing_since: null,
  };
}

async function count(d: Db, sql: string): Promise<number> {
  const rows = await d.all<{ n: bigint }>(sql);
  return Number(rows[0]?.n ?? -1);
}

describe('writes into an empty index', () => {
  it('give every row its links, and a second write replaces rather than adds', async () => {
    const { db: d, repo } = await freshRepo();
    // As a scan persists: locations first (no asset yet), then the assets, over several chunks.
    const ns = Array.from({ length: 1200 }, (_, i) => i + 1);
    await d.transaction(async () => {
      await repo.upsertLocations(ns.map((n) => location(n)));
      await repo.upsertAssets(
        ns.map((n) => entry(n, ['style:neon', `subject:s${n % 7}`], hashOf(100_000 + n))),
      );
    });
    expect(await count(d, 'SELECT count(*) AS n FROM assets')).toBe(1200);
    expect(await count(d, 'SELECT count(*) AS n FROM locations WHERE asset_id IS NULL')).toBe(0);
    expect(await count(d, 'SELECT count(*) AS n FROM asset_tags')).toBe(2400);
    expect((await repo.resolveHashes([hashOf(100_001), hashOf(5)])).get(hashOf(100_001))).toBe(hashOf(1));
    expect((await repo.locationsOfMany([hashOf(7)])).get(hashOf(7))?.map((l) => l.path)).toEqual([
      '/lib/a7.png',
    ]);

    // Not empty any more: the same assets again, with other tags, replace their rows.
    await repo.upsertAssets(ns.slice(0, 600).map((n) => entry(n, ['mood:calm'])));
    await repo.upsertLocations(ns.slice(0, 600).map((n) => location(n)));
    expect(await count(d, 'SELECT count(*) AS n FROM assets')).toBe(1200);
    expect(await count(d, 'SELECT count(*) AS n FROM locations')).toBe(1200);
    expect(await count(d, 'SELECT count(*) AS n FROM asset_tags')).toBe(600 + 2 * 600);
    expect(await count(d, 'SELECT count(DISTINCT asset_id) AS n FROM assets')).toBe(1200);
  });

  it('an asset or a path named again in a later chunk of the batch: the later one, once', async () => {
    const { db: d, repo } = await freshRepo();
    const ns = Array.from({ length: 600 }, (_, i) => i + 1);
    // Chunks of 500: the second naming of asset 1 and of path a1.png is in the second chunk.
    await repo.upsertAssets([...ns.map((n) => entry(n, ['style:a'])), entry(1, ['style:b'])]);
    expect(await count(d, 'SELECT count(*) AS n FROM assets')).toBe(600);
    const tags = await d.all<{ t: string }>(
      `SELECT category || ':' || value AS t FROM asset_tags t JOIN assets a USING (asset_id)
       WHERE a.content_hash = '${hashOf(1)}'`,
    );
    expect(tags.map((r) => r.t)).toEqual(['style:b']);

    await repo.upsertLocations([
      ...ns.map((n) => location(n + 1000)),
      { ...location(3), path: '/lib/a1001.png' },
    ]);
    expect(await count(d, 'SELECT count(*) AS n FROM locations')).toBe(600);
    const rows = await d.all<{ h: string }>(
      `SELECT content_hash AS h FROM locations WHERE path = '/lib/a1001.png'`,
    );
    expect(rows.map((r) => r.h)).toEqual([hashOf(3)]);
  });
});
