/**
 * Whoever sees a change in the index can read its event: `alice tag` and `alice index prune`
 * through the real composition (createContainer: real DuckDB, exiftool and the file event log). A reader polls the index, as the
 * agent's socket or `alice search` would, and at the first moment it sees the change reads the
 * event log. Events are written a few dozen at a time (25 ms coalescing), so an event emitted
 * after the index write is not in the log yet at that moment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/duckdb.adapter.js';
import { createContainer } from '../../src/app/compose.js';
import type { Container } from '../../src/app/container.js';
import { readEvents, type EventLine } from '../helpers/agent.js';
import { makeWorkspace, sha256sum, writeImage, type Workspace } from '../helpers/fixtures.js';
import { configOf, update } from '../helpers/library.js';
import { SLOW } from '../tagging/helpers.js';

let ws: Workspace;
let lib: string;

beforeAll(async () => {
  ws = makeWorkspace();
  lib = ws.roots[0] as string;
  await writeImage(path.join(lib, 'a.jpg'), { seed: 51 });
  await update(ws);
}, SLOW);

afterAll(() => ws.cleanup());

/** What the log held at the first moment a reader saw `shown` true (undefined: never seen). */
interface Watch {
  stop(): Promise<Map<string, EventLine[] | undefined>>;
}

/**
 * Polls the index's committed state (a read connection of its own, as any reader) until each
 * condition holds, and reads the event log synchronously at that moment.
 */
function watchIndex(db: Db, conditions: Record<string, () => Promise<boolean>>): Watch {
  const seen = new Map<string, EventLine[] | undefined>(Object.keys(conditions).map((k) => [k, undefined]));
  let stopped = false;
  const check = async (): Promise<void> => {
    for (const [name, shown] of Object.entries(conditions)) {
      if (seen.get(name) !== undefined) continue;
      if (await shown()) seen.set(name, readEvents(ws));
    }
  };
  const loop = (async () => {
    while (!stopped && [...seen.values()].some((v) => v === undefined)) await check();
    // A change committed while the last check read: seen now, the operation just returned.
    await check();
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

describe('alice tag: the event is in the log before the index shows the change', () => {
  it(
    'asset.tagged is readable when the tag appears, metadata.embedded when the new bytes do',
    async () => {
      const file = path.join(lib, 'a.jpg');
      const hash = sha256sum(file);
      const c: Container = await createContainer(configOf(ws), { readOnly: false, events: true });
      try {
        const tags = await c.tagService();
        const db = await c.index();
        const watch = watchIndex(db, {
          tagged: async () => {
            const rows = await db.all(`SELECT tags FROM assets WHERE content_hash = ?`, [hash]);
            return ((rows[0]?.['tags'] as string[] | undefined) ?? []).includes('style:noir');
          },
          embedded: async () => {
            const rows = await db.all(`SELECT byte_hash FROM locations WHERE path = ?`, [file]);
            return rows[0] !== undefined && rows[0]['byte_hash'] !== hash;
          },
        });
        const r = await tags.changeTags([file], 'add', ['style:noir'], { cwd: '/', remote: false });
        const seen = await watch.stop();
        expect(r.assets[0]?.files[0]?.status).toBe('written');

        const tagged = seen.get('tagged');
        expect(tagged, 'the index never showed the tag').toBeDefined();
        expect(
          tagged?.filter((e) => e.type === 'asset.tagged' && e.payload['content_hash'] === hash),
          'asset.tagged was not in the event log when the index showed the tag',
        ).toHaveLength(1);

        const embedded = seen.get('embedded');
        expect(embedded, 'the index never showed the rewritten bytes').toBeDefined();
        expect(
          embedded?.filter((e) => e.type === 'metadata.embedded' && e.payload['path'] === file),
          'metadata.embedded was not in the event log when the index showed the new bytes',
        ).toHaveLength(1);
      } finally {
        await c.close();
      }
    },
    SLOW,
  );
});

describe('alice index prune: the event is in the log before the index drops the asset', () => {
  it(
    'asset.pruned is readable when the asset leaves the index',
    async () => {
      const file = path.join(lib, 'gone.jpg');
      await writeImage(file, { seed: 52 });
      const hash = sha256sum(file);
      await update(ws);
      fs.rmSync(file);
      await update(ws);
      const c: Container = await createContainer(configOf(ws), { readOnly: false, events: true });
      try {
        const prune = await c.pruneService();
        const db = await c.index();
        const watch = watchIndex(db, {
          pruned: async () =>
            (await db.all(`SELECT 1 FROM assets WHERE content_hash = ?`, [hash])).length === 0,
        });
        const r = await prune.run({ dryRun: false });
        const seen = await watch.stop();
        expect(r.assets.map((a) => a.content_hash)).toEqual([hash]);
        const pruned = seen.get('pruned');
        expect(pruned, 'the index never dropped the asset').toBeDefined();
        expect(
          pruned?.filter((e) => e.type === 'asset.pruned' && e.payload['content_hash'] === hash),
          'asset.pruned was not in the event log when the asset left the index',
        ).toHaveLength(1);
      } finally {
        await c.close();
      }
    },
    SLOW,
  );
});
