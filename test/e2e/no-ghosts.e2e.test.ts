/**
 * Issue 21 "no ghosts", end to end through the built binary: a file indexed while half-written
 * and then completed leaves one asset, present, with the final content; the half-written content
 * (damaged, only ever seen at that path) is dropped with its sidecar instead of staying `missing`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FAST_AGENT_SETTINGS,
  eventsOf,
  killAllAgents,
  mergeSettings,
  startAgent,
  waitFor,
  type AgentProcess,
} from '../helpers/agent.js';
import { assertBuilt, runAlice, type CliResult } from '../helpers/cli.js';
import { imageBytes, makeWorkspace, sha256sum, type Workspace } from '../helpers/fixtures.js';
import { createHash } from 'node:crypto';

const CLI_TIMEOUT = 240_000;

interface Found {
  results: { content_hash: string; status: string; path: string | null }[];
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Every sidecar file below the root's `.metadata/`, by content hash. */
function sidecarHashes(root: string): string[] {
  const dir = path.join(root, '.metadata');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /^[0-9a-f]{64}\.json$/.test(e.name))
    .map((e) => e.name.slice(0, 64))
    .sort();
}

describe('no ghosts: a half-written file that completes', { timeout: CLI_TIMEOUT }, () => {
  let ws: Workspace | undefined;
  let png: Buffer;
  const run = (...args: string[]): Promise<CliResult> =>
    runAlice(args, { cwd: (ws as Workspace).dir, env: (ws as Workspace).env });

  beforeAll(async () => {
    assertBuilt();
    png = await imageBytes('png', 21, 1024);
    expect(png.length).toBeGreaterThan(100_000);
  });
  afterEach(() => {
    ws?.cleanup();
    ws = undefined;
  });

  it('30 kB of a PNG, index update, the complete file, index update: one asset, present, the final content, no ghost sidecar', async () => {
    ws = makeWorkspace({ roots: ['lib'] });
    const lib = ws.roots[0] as string;
    const file = path.join(lib, 'download.png');
    const part = png.subarray(0, 30_000);
    fs.writeFileSync(file, part);
    expect((await run('index', 'update', '--json')).code).toBe(0);
    const half = (await run('search', '--include-missing', '--json')).json<Found>();
    expect(half.results.map((r) => r.content_hash)).toEqual([sha(part)]);
    expect(sidecarHashes(lib)).toEqual([sha(part)]);

    fs.writeFileSync(file, png);
    expect((await run('index', 'update', '--json')).code).toBe(0);

    const found = (await run('search', '--include-missing', '--json')).json<Found>();
    expect(found.results).toHaveLength(1);
    expect(found.results[0]?.content_hash).toBe(sha256sum(file));
    expect(found.results[0]?.content_hash).toBe(sha(png));
    expect(found.results[0]?.status).toBe('present');
    expect(found.results[0]?.path).toBe(file);
    expect(sidecarHashes(lib)).toEqual([sha(png)]);
    const shown = (await run('show', file, '--json')).json<{
      derived_from?: string | null;
      damage: string | null;
    }>();
    expect(shown.damage).toBeNull();
    expect(shown.derived_from ?? null).toBeNull();
    // Nothing is left for a later pass or a rebuild to bring back.
    expect((await run('index', 'rebuild', '--json')).code).toBe(0);
    const after = (await run('search', '--include-missing', '--json')).json<Found>();
    expect(after.results.map((r) => r.content_hash)).toEqual([sha(png)]);
  });

  it('half-written content that also lies at another path is kept (present there), not dropped', async () => {
    ws = makeWorkspace({ roots: ['lib'] });
    const lib = ws.roots[0] as string;
    const file = path.join(lib, 'download.png');
    const part = png.subarray(0, 30_000);
    fs.writeFileSync(file, part);
    fs.writeFileSync(path.join(lib, 'copy-of-partial.png'), part);
    expect((await run('index', 'update', '--json')).code).toBe(0);
    fs.writeFileSync(file, png);
    expect((await run('index', 'update', '--json')).code).toBe(0);
    const found = (await run('search', '--include-missing', '--json')).json<Found>();
    expect(found.results.map((r) => [r.content_hash, r.status]).sort()).toEqual(
      [
        [sha(part), 'present'],
        [sha(png), 'present'],
      ].sort(),
    );
    expect(sidecarHashes(lib)).toEqual([sha(part), sha(png)].sort());
  });

  it('a complete image edited in place still keeps its previous content as missing (only damaged content is a ghost)', async () => {
    ws = makeWorkspace({ roots: ['lib'] });
    const lib = ws.roots[0] as string;
    const file = path.join(lib, 'edited.png');
    const first = await imageBytes('png', 3, 64);
    fs.writeFileSync(file, first);
    expect((await run('index', 'update', '--json')).code).toBe(0);
    const second = await imageBytes('png', 4, 64);
    fs.writeFileSync(file, second);
    expect((await run('index', 'update', '--json')).code).toBe(0);
    const found = (await run('search', '--include-missing', '--json')).json<Found>();
    expect(found.results.map((r) => [r.content_hash, r.status]).sort()).toEqual(
      [
        [sha(first), 'missing'],
        [sha(second), 'present'],
      ].sort(),
    );
  });
});

describe('no ghosts: the agent waits for a file to be whole', { timeout: CLI_TIMEOUT }, () => {
  let ws: Workspace | undefined;
  let agent: AgentProcess | undefined;
  const run = (...args: string[]): Promise<CliResult> =>
    runAlice(args, { cwd: (ws as Workspace).dir, env: (ws as Workspace).env });
  const discovered = (): string[] =>
    eventsOf(ws as Workspace, 'asset.discovered').map((e) => String(e.payload['content_hash']));

  beforeAll(async () => {
    assertBuilt();
    // Settle 250 ms; an unfinished file waits up to 6 s before it is indexed anyway.
    ws = makeWorkspace({
      roots: ['lib'],
      settings: mergeSettings(FAST_AGENT_SETTINGS, { watch: { incomplete_wait_s: 6 } }),
    });
    agent = await startAgent(ws);
  });
  afterAll(async () => {
    await agent?.stop();
    await killAllAgents();
    ws?.cleanup();
  });

  it('a PNG written in two parts with a pause longer than the settle time: the half state is never indexed', async () => {
    const lib = (ws as Workspace).roots[0] as string;
    const png = await imageBytes('png', 22, 1024);
    const file = path.join(lib, 'download.png');
    const half = png.subarray(0, 30_000);
    fs.writeFileSync(file, half);
    // Eight settle times and more: unchanged all along, but without IEND.
    await new Promise((r) => setTimeout(r, 2500));
    expect(discovered()).toEqual([]);
    expect(sidecarHashes(lib)).toEqual([]);
    fs.appendFileSync(file, png.subarray(30_000));
    await waitFor(() => discovered().includes(sha(png)), {
      timeoutMs: 30_000,
      what: 'the complete PNG indexed',
    });
    const found = (await run('search', '--include-missing', '--json')).json<Found>();
    expect(found.results).toEqual([
      expect.objectContaining({ content_hash: sha(png), status: 'present', path: file }),
    ]);
    expect(discovered()).toEqual([sha(png)]);
    expect(sidecarHashes(lib)).toEqual([sha(png)]);
    expect(discovered()).not.toContain(sha(half));
  });

  it('a file that never completes is indexed after the wait, as damaged', async () => {
    const lib = (ws as Workspace).roots[0] as string;
    const png = await imageBytes('png', 23, 512);
    const cut = png.subarray(0, Math.floor(png.length / 2));
    const file = path.join(lib, 'abandoned.png');
    const t0 = Date.now();
    fs.writeFileSync(file, cut);
    await waitFor(() => discovered().includes(sha(cut)), { timeoutMs: 40_000, what: 'the cut PNG indexed' });
    // Not before the wait for it to complete ran out.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5500);
    const shown = (await run('show', file, '--json')).json<{ damage: string | null }>();
    expect(shown.damage).toMatch(/cannot decode/);
  });

  it('index prune runs through the agent: the asset of a deleted file, once missing, is listed and removed', async () => {
    const lib = (ws as Workspace).roots[0] as string;
    const file = path.join(lib, 'download.png');
    const hash = sha256sum(file);
    fs.rmSync(file);
    // Missing once the move grace (2 s) has passed.
    await waitFor(
      async () =>
        (await run('search', '--include-missing', '--json'))
          .json<Found>()
          .results.some((r) => r.content_hash === hash && r.status === 'missing'),
      { timeoutMs: 30_000, what: 'the deleted file marked missing' },
    );
    // The agent holds the index: these succeed only through its socket.
    const dry = await run('index', 'prune', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(dry.json<{ assets: { content_hash: string }[] }>().assets.map((a) => a.content_hash)).toEqual([
      hash,
    ]);
    const done = await run('index', 'prune', '--json');
    expect(done.code).toBe(0);
    expect(done.json<{ assets: { content_hash: string }[] }>().assets.map((a) => a.content_hash)).toEqual([
      hash,
    ]);
    const left = (await run('search', '--include-missing', '--json')).json<Found>();
    expect(left.results.map((r) => r.content_hash)).not.toContain(hash);
    expect(sidecarHashes(lib)).not.toContain(hash);
  });
});
