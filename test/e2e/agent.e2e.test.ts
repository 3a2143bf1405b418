/**
 * Issue 6 end to end: one real `alice watch` process (built binary, its own ALICE_HOME and
 * settings) watching two roots. New files, slow writes, temp-then-rename, renames and moves
 * within and across roots (metadata kept, one move each), deletions held for the grace window,
 * and the CLI working from other processes through the control socket while the agent runs.
 * The tests of the main describe share the agent and build on each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetRecord } from '../../src/services/search/assets.service.js';
import type { StatusDoc, StatusReading } from '../../src/services/watch/status.service.js';
import {
  FAST_AGENT_SETTINGS,
  agentCall,
  eventsOf,
  killAllAgents,
  mergeSettings,
  readEvents,
  readStatusFile,
  startAgent,
  waitFor,
  type AgentProcess,
} from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { imageBytes, makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { editSidecarJson, readSidecarJson, sidecarFile } from '../helpers/library.js';

let ws: Workspace;
let photos: string;
let archive: string;
let agent: AgentProcess;

/** What the agent knows about a path or hash (through its socket), or undefined if nothing. */
async function record(ref: string): Promise<AssetRecord | undefined> {
  const res = await agentCall(ws, 'asset.show', { ref });
  return res.ok ? (res.result as AssetRecord) : undefined;
}

function presentPaths(r: AssetRecord | undefined): string[] {
  return (r?.locations ?? [])
    .filter((l) => l.present)
    .map((l) => l.path)
    .sort();
}

/** Waits until the asset `hash` has exactly these present locations (and no others). */
async function waitLocations(hash: string, paths: string[], timeoutMs = 10_000): Promise<AssetRecord> {
  const want = [...paths].sort();
  return waitFor(
    async () => {
      const r = await record(hash);
      return r?.indexed === true && JSON.stringify(presentPaths(r)) === JSON.stringify(want) ? r : undefined;
    },
    { timeoutMs, what: `${hash.slice(0, 12)} at ${want.join(', ')}` },
  );
}

interface Found {
  total: number;
  results: { content_hash: string; path: string; locations: string[] }[];
}

/** `search` through the agent's socket (the CLI's search, without a process start per call). */
async function search(filters: Record<string, unknown>): Promise<Found> {
  const res = await agentCall(ws, 'search', filters);
  if (!res.ok) throw new Error(`search failed: ${JSON.stringify(res.error)}`);
  return res.result as Found;
}

function status(): StatusDoc {
  const s = readStatusFile(ws);
  if (s === undefined) throw new Error('no status.json');
  return s;
}

async function alice(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string; data: unknown }> {
  const r = await runAlice([...args, '--json'], { env: ws.env });
  let data: unknown;
  try {
    data = JSON.parse(r.stdout);
  } catch {
    data = undefined;
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, data };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ws = makeWorkspace({
    roots: ['photos', 'archive'],
    settings: mergeSettings(FAST_AGENT_SETTINGS, { watch: { settle_ms: 500 } }),
  });
  [photos, archive] = ws.roots as [string, string];
  await writeImage(path.join(photos, 'before-start.png'), { seed: 100, size: 32 });
  agent = await startAgent(ws);
});

afterAll(async () => {
  await killAllAgents();
  ws?.cleanup();
});

describe('alice watch on two roots', () => {
  it('catches up on start with what was there before, and reports itself watching', async () => {
    const hash = sha256Of(path.join(photos, 'before-start.png'));
    await waitLocations(hash, [path.join(photos, 'before-start.png')]);
    const s = status();
    expect(s.pid).toBe(agent.pid);
    expect(s.state).toBe('watching');
    expect(s.roots.map((r) => [r.path, r.state])).toEqual([
      [photos, 'watching'],
      [archive, 'watching'],
    ]);
  });

  it('makes a dropped file findable within a few seconds', async () => {
    const file = path.join(photos, 'dropped.png');
    const t0 = Date.now();
    await writeImage(file, { seed: 1, size: 32 });
    const hash = sha256Of(file);
    await waitLocations(hash, [file], 8000);
    expect(Date.now() - t0).toBeLessThan(8000);

    const show = await alice(['show', file]);
    expect(show.code).toBe(0);
    expect((show.data as AssetRecord).content_hash).toBe(hash);
    const found = await search({ path: 'dropped.png' });
    expect(found.results.map((r) => [r.content_hash, r.path])).toEqual([[hash, file]]);
  });

  it('indexes a file written slowly in pieces once, complete', async () => {
    const file = path.join(photos, 'slow.png');
    const bytes = await imageBytes('png', 2, 48);
    const fd = fs.openSync(file, 'w');
    const chunk = Math.ceil(bytes.length / 4);
    for (let i = 0; i < 4; i++) {
      fs.writeSync(fd, bytes.subarray(i * chunk, (i + 1) * chunk));
      if (i < 3) await sleep(200);
    }
    fs.closeSync(fd);
    const hash = sha256Of(file);
    await waitLocations(hash, [file], 8000);
    // Give a second (late) pass the chance to show up before counting.
    await sleep(1500);
    const r = (await record(hash)) as AssetRecord;
    expect(r.index?.file_size).toBe(bytes.length);
    const found = await search({ path: 'slow.png', include_missing: true });
    expect(found.results.map((x) => x.content_hash)).toEqual([hash]);
    const touched = readEvents(ws).filter((e) => e.payload['path'] === file);
    expect(touched.map((e) => [e.type, e.payload['content_hash']])).toEqual([['asset.discovered', hash]]);
  });

  it('turns write-to-temp-then-rename into one new file; the temp name never reaches the index', async () => {
    const tmp = path.join(photos, 'x.png.tmp');
    const file = path.join(photos, 'x.png');
    await writeImage(tmp, { seed: 3, size: 32 });
    await sleep(1200); // longer than debounce + settle: a temp file would have been indexed by now
    fs.renameSync(tmp, file);
    const hash = sha256Of(file);
    const r = await waitLocations(hash, [file], 8000);
    expect(r.locations.map((l) => l.path)).toEqual([file]);
    const all = await search({ include_missing: true, limit: 1000 });
    expect(all.results.flatMap((x) => x.locations).filter((p) => p.includes('.tmp'))).toEqual([]);
    expect(readEvents(ws).filter((e) => JSON.stringify(e.payload).includes('x.png.tmp'))).toEqual([]);
    expect(eventsOf(ws, 'asset.moved', { content_hash: hash })).toEqual([]);
    expect(eventsOf(ws, 'asset.discovered', { content_hash: hash })).toHaveLength(1);
  });

  it('keeps metadata through a rename, a move across folders and a move across roots, one move each', async () => {
    fs.mkdirSync(path.join(photos, 'sub'));
    const a = path.join(photos, 'm.png');
    await writeImage(a, { seed: 4, size: 32 });
    const hash = sha256Of(a);
    await waitLocations(hash, [a]);
    editSidecarJson(photos, hash, (s) => (s.analysis.understanding.tags = { subject: ['e2e-keep'] }));
    const movedBefore = status().counters.moved;

    const steps: [string, string][] = [
      [a, path.join(photos, 'm-renamed.png')],
      [path.join(photos, 'm-renamed.png'), path.join(photos, 'sub', 'm-sub.png')],
      [path.join(photos, 'sub', 'm-sub.png'), path.join(archive, 'm-archived.png')],
    ];
    for (const [i, [from, to]] of steps.entries()) {
      fs.renameSync(from, to);
      await waitLocations(hash, [to]);
      await waitFor(() => status().counters.moved === movedBefore + i + 1, { what: `move ${i + 1} counted` });
      const moves = eventsOf(ws, 'asset.moved', { content_hash: hash });
      expect(moves.map((m) => [m.payload['old_path'], m.payload['new_path']])).toEqual(steps.slice(0, i + 1));
    }
    expect(eventsOf(ws, 'asset.missing', { content_hash: hash })).toEqual([]);
    expect(eventsOf(ws, 'asset.discovered', { content_hash: hash })).toHaveLength(1);
    // The sidecar went with the file to the new root, user tag and all; the old root's is gone.
    const moved = readSidecarJson(archive, hash);
    expect(moved.content_hash).toBe(hash);
    expect(moved.analysis.understanding.tags).toEqual({ subject: ['e2e-keep'] });
    expect(fs.existsSync(sidecarFile(photos, hash))).toBe(false);
    const r = (await record(hash)) as AssetRecord;
    expect(r.locations.map((l) => l.path)).toEqual([path.join(archive, 'm-archived.png')]);
    expect(r.tags.map((t) => `${t.category}:${t.value}`)).toContain('subject:e2e-keep');
  });

  it('moves everything below a renamed folder, each file once', async () => {
    const dir = path.join(photos, 'album');
    const files = ['one.png', 'two.png', 'deep/three.png'].map((n) => path.join(dir, n));
    for (const [i, f] of files.entries()) await writeImage(f, { seed: 10 + i, size: 32 });
    const hashes = files.map(sha256Of);
    for (const [i, f] of files.entries()) await waitLocations(hashes[i] as string, [f]);
    const movedBefore = status().counters.moved;
    fs.renameSync(dir, path.join(photos, 'album-2024'));
    for (const [i, f] of files.entries())
      await waitLocations(hashes[i] as string, [
        f.replace(`${path.sep}album${path.sep}`, `${path.sep}album-2024${path.sep}`),
      ]);
    await waitFor(() => status().counters.moved === movedBefore + 3, { what: '3 moves counted' });
    for (const h of hashes) {
      expect(eventsOf(ws, 'asset.moved', { content_hash: h })).toHaveLength(1);
      expect(eventsOf(ws, 'asset.missing', { content_hash: h })).toEqual([]);
    }
  });

  it('marks a deleted file missing only after the grace window, and keeps its sidecar', async () => {
    const file = path.join(photos, 'doomed.png');
    await writeImage(file, { seed: 20, size: 32 });
    const hash = sha256Of(file);
    await waitLocations(hash, [file]);
    const missingBefore = status().counters.missing;
    const t0 = Date.now();
    fs.rmSync(file);
    // The agent has seen the deletion and holds it...
    await waitFor(() => status().queue.pending_deletes >= 1, { what: 'a held deletion' });
    const held = (await record(hash)) as AssetRecord;
    expect(held.locations.map((l) => [l.path, l.present])).toEqual([[file, true]]);
    expect(status().counters.missing).toBe(missingBefore);
    // ...and marks it missing once the 2 s window has passed.
    const gone = await waitFor(
      async () => {
        const r = await record(hash);
        return r?.locations.every((l) => !l.present) === true ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'the file to be marked missing' },
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(gone.index?.status).toBe('missing');
    expect(eventsOf(ws, 'asset.missing', { content_hash: hash })).toHaveLength(1);
    expect(readSidecarJson(photos, hash).content_hash).toBe(hash);
    await waitFor(() => status().counters.missing === missingBefore + 1, { what: 'missing counted' });
  });

  it('keeps a file deleted and re-created within the grace window present (same or new content)', async () => {
    const same = path.join(photos, 'again.png');
    const replaced = path.join(photos, 'replaced.png');
    await writeImage(same, { seed: 30, size: 32 });
    await writeImage(replaced, { seed: 31, size: 32 });
    const [hSame, hOld] = [sha256Of(same), sha256Of(replaced)];
    await waitLocations(hSame, [same]);
    await waitLocations(hOld, [replaced]);
    const bytes = fs.readFileSync(same);
    const held = status().queue.pending_deletes;
    fs.rmSync(same);
    fs.rmSync(replaced);
    await waitFor(() => status().queue.pending_deletes >= held + 2, { what: 'both deletions held' });
    fs.writeFileSync(same, bytes);
    await writeImage(replaced, { seed: 32, size: 32 });
    const hNew = sha256Of(replaced);
    await waitLocations(hNew, [replaced]);
    await sleep(3500); // past the 2 s grace window of the held deletions
    await waitLocations(hSame, [same], 1000);
    await waitLocations(hNew, [replaced], 1000);
    expect(eventsOf(ws, 'asset.missing', { path: same })).toEqual([]);
    expect(eventsOf(ws, 'asset.missing', { path: replaced })).toEqual([]);
    expect(status().queue.pending_deletes).toBe(held);
  });

  it('treats a move between devices (copy in pieces, then unlink) as one move', async () => {
    const src = path.join(photos, 'far.png');
    const dst = path.join(archive, 'far.png');
    await writeImage(src, { seed: 33, size: 48 });
    const hash = sha256Of(src);
    await waitLocations(hash, [src]);
    const bytes = fs.readFileSync(src);
    const fd = fs.openSync(dst, 'w');
    const chunk = Math.ceil(bytes.length / 3);
    for (let i = 0; i < 3; i++) {
      fs.writeSync(fd, bytes.subarray(i * chunk, (i + 1) * chunk));
      await sleep(150);
    }
    fs.closeSync(fd);
    fs.rmSync(src);
    await waitLocations(hash, [dst]);
    await waitFor(() => eventsOf(ws, 'asset.moved', { content_hash: hash }).length === 1, {
      what: 'one move',
    });
    expect(eventsOf(ws, 'asset.moved', { content_hash: hash })[0]?.payload).toMatchObject({
      old_path: src,
      new_path: dst,
    });
    expect(fs.existsSync(sidecarFile(archive, hash))).toBe(true);
    expect(fs.existsSync(sidecarFile(photos, hash))).toBe(false);
  });

  it('serves show, search, index verify and status to other processes through the socket', async () => {
    const file = path.join(photos, 'dropped.png');
    const runs = await Promise.all([
      alice(['show', file]),
      alice(['search']),
      alice(['index', 'verify']),
      alice(['status']),
    ]);
    for (const r of runs) {
      expect(r.stderr).not.toMatch(/INDEX_LOCKED|lock/i);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const verify = runs[2]?.data as { clean: boolean };
    expect(verify.clean).toBe(true);
    const reading = runs[3]?.data as StatusReading;
    expect(reading.running).toBe(true);
    expect(reading.status?.pid).toBe(agent.pid);
    expect(reading.status?.state).toBe('watching');
  });

  it('keeps its socket and status file owner-only (0600)', () => {
    expect(fs.statSync(path.join(ws.home, 'agent.sock')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(ws.home, 'status.json')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(ws.home, 'agent.sock')).isSocket()).toBe(true);
  });

  it('refuses a second agent on the same ALICE_HOME with AGENT_RUNNING and exit 2', async () => {
    const r = await runAlice(['watch', '--json'], { env: ws.env, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('AGENT_RUNNING');
    expect(status().pid).toBe(agent.pid);
    expect(fs.existsSync(path.join(ws.home, 'agent.sock'))).toBe(true);
  });

  it('stops on SIGTERM with exit 0, and `alice status` then says it is not running', async () => {
    const exit = await agent.stop('SIGTERM', 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(path.join(ws.home, 'agent.sock'))).toBe(false);
    // The log is JSON lines, flushed by the time the process exits.
    const log = fs
      .readFileSync(path.join(ws.home, 'logs', 'agent.log'), 'utf8')
      .trim()
      .split('\n');
    const messages = log.map((l) => (JSON.parse(l) as { message: string }).message);
    expect(messages).toContain('agent watching');
    expect(messages).toContain('stopping');
    const r = await alice(['status']);
    expect(r.code).toBe(3);
    expect(r.data).toMatchObject({ running: false, reason: 'stopped', status: { state: 'stopped' } });
  });
});
