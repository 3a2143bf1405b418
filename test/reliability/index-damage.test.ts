/**
 * A damaged index is replaced, never fatal: with the agent stopped, the DuckDB file is cut to half
 * its size, or garbage is written into its middle. `alice search` without the agent says the index
 * is damaged with a hint (never DuckDB's raw IO error); the next agent start sets the file aside as
 * `search.duckdb.corrupt-<time>` (with its WAL), emits `index.damaged`, rebuilds from files and
 * sidecars and reaches `watching` with every asset searchable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentCall, eventsOf, killAllAgents, readStatusFile, startAgent, waitFor } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { cleanupWorkspaces, workspace } from './helpers.js';

afterEach(async () => {
  await killAllAgents();
});
afterAll(() => cleanupWorkspaces());

const RAW_DUCKDB = /IO Error|Could not read enough bytes|computed checksum/;

async function library(n: number): Promise<{ ws: Workspace; hashes: string[] }> {
  const ws = workspace(['lib'], { embedding: { enabled: false } });
  const [lib] = ws.roots as [string];
  const hashes: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = path.join(lib, `d-${i % 4}`, `img-${i}.png`);
    await writeImage(f, { seed: 4000 + i, size: 24 });
    hashes.push(sha256Of(f));
  }
  return { ws, hashes: [...new Set(hashes)].sort() };
}

async function searchHashes(ws: Workspace): Promise<string[] | undefined> {
  const res = await agentCall(ws, 'search', { limit: 10_000 });
  if (!res.ok) return undefined;
  return (res.result as { results: { content_hash: string }[] }).results.map((r) => r.content_hash).sort();
}

function asideFiles(ws: Workspace): string[] {
  return fs.readdirSync(path.dirname(ws.searchDb)).filter((n) => n.includes('.corrupt-'));
}

async function damagedThenRestarted(damage: (file: string) => void): Promise<void> {
  const { ws, hashes } = await library(60);
  let agent = await startAgent(ws, { timeoutMs: 90_000 });
  await waitFor(async () => (await searchHashes(ws))?.length === hashes.length, {
    timeoutMs: 60_000,
    what: `${hashes.length} assets indexed`,
  });
  expect((await agent.stop()).code).toBe(0);

  damage(ws.searchDb);

  // Without the agent: a clear error with a hint, not DuckDB's raw message.
  const cli = await runAlice(['search', '--json'], { env: ws.env });
  expect(cli.code, cli.stdout + cli.stderr).not.toBe(0);
  const err = (JSON.parse(cli.stdout) as { error: { code: string; message: string; hint?: string } }).error;
  expect(err.code).toBe('INDEX_CORRUPT');
  expect(err.hint).toMatch(/alice watch|alice index rebuild/);
  expect(err.message).not.toMatch(RAW_DUCKDB);
  expect(cli.stderr).not.toMatch(RAW_DUCKDB);

  agent = await startAgent(ws, { timeoutMs: 90_000 });
  const got = await waitFor(
    async () => {
      const h = await searchHashes(ws);
      return h?.length === hashes.length ? h : undefined;
    },
    { timeoutMs: 60_000, what: 'every asset searchable again' },
  );
  expect(got).toEqual(hashes);
  expect(readStatusFile(ws)?.state).toBe('watching');
  expect(asideFiles(ws).length).toBeGreaterThan(0);
  expect(readStatusFile(ws)?.last_errors.map((e) => e.code)).toContain('INDEX_CORRUPT');
  await waitFor(() => eventsOf(ws, 'index.damaged').length === 1, { what: 'one index.damaged event' });
  expect(eventsOf(ws, 'index.damaged')[0]?.payload).toMatchObject({ index: ws.searchDb });
  expect((await agent.stop()).code).toBe(0);
}

describe('a damaged index while the agent is stopped', { timeout: 300_000 }, () => {
  it('half the file truncated: set aside, rebuilt, every asset searchable', async () => {
    await damagedThenRestarted((file) => {
      fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    });
  });

  it('garbage written into the middle of the file: set aside, rebuilt, every asset searchable', async () => {
    await damagedThenRestarted((file) => {
      const size = fs.statSync(file).size;
      const fd = fs.openSync(file, 'r+');
      // The middle half of the file: past the headers, across the data blocks.
      fs.writeSync(
        fd,
        Buffer.alloc(Math.floor(size / 2), 0x5a),
        0,
        Math.floor(size / 2),
        Math.floor(size / 4),
      );
      fs.closeSync(fd);
    });
  });
});
