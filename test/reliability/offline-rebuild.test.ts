/**
 * `alice index rebuild` while a root is offline (its folder renamed away, so alice's marker is
 * gone): the new index keeps what the previous one knew of that root, so `alice search` still
 * lists its assets (with their tags); when the root returns, `index update` finds them all present
 * and nothing is lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAlice } from '../helpers/cli.js';
import { sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { openDb } from '../../src/adapters/duckdb.adapter.js';
import { readIndex } from '../helpers/library.js';
import { cleanupWorkspaces, workspace } from './helpers.js';

afterAll(() => cleanupWorkspaces());

interface Hit {
  content_hash: string;
  [key: string]: unknown;
}

async function alice(ws: Workspace, args: string[]): Promise<unknown> {
  const r = await runAlice([...args, '--json', '--no-progress'], {
    env: ws.env,
    cwd: ws.dir,
    timeoutMs: 120_000,
  });
  expect(r.code, `alice ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.json();
}

async function search(ws: Workspace, args: string[] = []): Promise<Hit[]> {
  const out = (await alice(ws, ['search', '--limit', '1000', ...args])) as { results: Hit[] };
  return out.results;
}

async function rootState(ws: Workspace, root: string): Promise<string | undefined> {
  const db = await openDb(ws.searchDb, { readOnly: true });
  try {
    const rows = await db.all<{ state: string }>(`SELECT state FROM roots WHERE path = ?`, [root]);
    return rows[0]?.state;
  } finally {
    db.close();
  }
}

const byHash = (hits: Hit[]): Hit[] => [...hits].sort((a, b) => a.content_hash.localeCompare(b.content_hash));

describe('index rebuild with a root offline', { timeout: 300_000 }, () => {
  it('keeps the offline root searchable; back online, update finds every asset present', async () => {
    const ws = workspace(['online', 'away'], { embedding: { enabled: false } });
    const [online, away] = ws.roots as [string, string];
    const files: string[] = [];
    for (let i = 0; i < 2; i++) files.push(path.join(online, `on-${i}.png`));
    for (let i = 0; i < 3; i++) files.push(path.join(away, `away-${i}.png`));
    for (const [i, f] of files.entries()) await writeImage(f, { seed: 7300 + i, size: 24 });
    const awayHashes = files.slice(2).map((f) => sha256Of(f));

    await alice(ws, ['index', 'rebuild']);
    await alice(ws, ['tag', 'add', files[2] as string, '--tag', 'subject:lighthouse']);
    const before = byHash(await search(ws));
    expect(before.map((h) => h.content_hash).sort()).toEqual(files.map((f) => sha256Of(f)).sort());

    // The folder renamed away: the root is offline (no folder at its path).
    const parked = `${away}-parked`;
    fs.renameSync(away, parked);
    const rebuilt = (await alice(ws, ['index', 'rebuild'])) as {
      summary: { offline_roots: string[] };
      carried_over?: { assets: number; locations: number; skipped?: string };
    };
    expect(rebuilt.summary.offline_roots).toEqual([away]);
    expect(rebuilt.carried_over).toMatchObject({ assets: 3, locations: 3 });
    expect(rebuilt.carried_over?.skipped).toBeUndefined();

    // Every asset is still listed, each exactly as before (tags, prompt, paths).
    expect(byHash(await search(ws))).toEqual(before);
    expect((await search(ws, ['--tag', 'subject:lighthouse'])).map((h) => h.content_hash)).toEqual([
      awayHashes[0],
    ]);
    // The search box finds it too: the tag dictionary came over with the carried postings.
    expect((await search(ws, ['lighth'])).map((h) => h.content_hash)).toEqual([awayHashes[0]]);
    expect(await rootState(ws, away)).toBe('offline');

    // The root returns: an update sees all its files present, nothing missing or re-added.
    fs.renameSync(parked, away);
    const updated = (await alice(ws, ['index', 'update'])) as {
      missing: number;
      new: number;
      offline_roots: string[];
      assets: number;
    };
    expect(updated).toMatchObject({ missing: 0, new: 0, offline_roots: [], assets: 5 });
    expect(byHash(await search(ws))).toEqual(before);
    const view = await readIndex(ws.searchDb);
    const locs = Object.values(view.locations);
    expect(locs).toHaveLength(5);
    expect(locs.filter((l) => !l.present)).toEqual([]);
    expect(await rootState(ws, away)).not.toBe('offline');
  });
});
