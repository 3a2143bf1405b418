/**
 * Redis outage with the Redis Streams event backend on (USE_REDIS_EVENTS=true): the test runs its
 * own redis-server on a free port (append-only file in a temp dir, so its data survives the
 * restart), starts the agent, drops files, kills redis-server, drops more files, moves one and
 * deletes one, restarts redis-server and drops one more. Every event arrives, once, in order:
 * one `asset.discovered` per file, the `asset.moved`, the `asset.missing`, ids increasing, the
 * outage's events before the later ones; and `alice status` showed a backlog during the outage.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readEvents } from '../../src/events/event-reader.service.js';
import type { AliceEvent } from '../../src/events/event.model.js';
import type { AssetRecord } from '../../src/services/search/assets.service.js';
import type { StatusReading } from '../../src/services/watch/status.service.js';
import { agentCall, killAllAgents, startAgent, waitFor } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { makeTempDir, removeDir, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { freePort, killHard, startRedisServer } from '../events/helpers.js';
import { cleanupWorkspaces, workspace } from './helpers.js';

const servers: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await killAllAgents();
  for (const s of servers.splice(0)) await killHard(s);
  for (const d of dirs.splice(0)) removeDir(d);
});
afterAll(() => cleanupWorkspaces());

async function presentAt(ws: Workspace, file: string): Promise<boolean> {
  const res = await agentCall(ws, 'asset.show', { ref: file });
  if (!res.ok) return false;
  const r = res.result as AssetRecord;
  return r.indexed && r.locations.some((l) => l.path === file && l.present);
}

async function missing(ws: Workspace, hash: string): Promise<boolean> {
  const res = await agentCall(ws, 'asset.show', { ref: hash });
  return res.ok && (res.result as AssetRecord).locations.every((l) => !l.present);
}

async function backlog(ws: Workspace): Promise<number> {
  const r = await runAlice(['status', '--json'], { env: ws.env });
  return r.json<StatusReading>().status?.events_backlog ?? -1;
}

async function drop(lib: string, names: string[], seed: number): Promise<string[]> {
  const files = names.map((n) => path.join(lib, n));
  for (const [i, f] of files.entries()) await writeImage(f, { seed: seed + i, size: 24 });
  return files;
}

describe('Redis outage with the redis event backend', () => {
  it('loses no event: all delivered once, in order, after redis-server comes back', async () => {
    const port = await freePort();
    const dataDir = makeTempDir('alice-redis-');
    dirs.push(dataDir);
    const url = `redis://127.0.0.1:${port}`;
    servers.push(await startRedisServer(port, dataDir));
    const stream = `alice:reliability:${process.pid}:${Date.now()}`;
    const base = workspace(['lib']);
    const ws: Workspace = {
      ...base,
      env: { ...base.env, USE_REDIS_EVENTS: 'true', REDIS_URL: url, ALICE_EVENTS_STREAM: stream },
    };
    const [lib] = ws.roots as [string];
    const agent = await startAgent(ws);

    const before = await drop(lib, ['a0.png', 'a1.png', 'a2.png', 'a3.png'], 8100);
    for (const f of before) await waitFor(() => presentAt(ws, f), { what: `${f} indexed` });
    const beforeHashes = before.map(sha256Of);
    expect(await backlog(ws)).toBe(0);

    // redis-server dies; the agent keeps working and keeps its events in the outbox.
    await killHard(servers.pop() as ChildProcess);
    const during = await drop(lib, ['b0.png', 'b1.png', 'b2.png', 'b3.png'], 8200);
    const movedTo = path.join(lib, 'sub', 'a0-moved.png');
    fs.mkdirSync(path.dirname(movedTo));
    fs.renameSync(before[0] as string, movedTo);
    const deletedHash = beforeHashes[1] as string;
    fs.rmSync(before[1] as string);
    for (const f of [...during, movedTo]) await waitFor(() => presentAt(ws, f), { what: `${f} indexed` });
    await waitFor(() => missing(ws, deletedHash), { timeoutMs: 20_000, what: 'a1 marked missing' });
    const waiting = await waitFor(() => backlog(ws), { timeoutMs: 20_000, what: 'a backlog in status' });
    expect(waiting).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(ws.home, 'events', 'outbox.jsonl'))).toBe(true);

    // redis-server is back (same data); the outbox drains before anything newer.
    servers.push(await startRedisServer(port, dataDir));
    const after = await drop(lib, ['c0.png'], 8300);
    await waitFor(() => presentAt(ws, after[0] as string), { what: 'c0 indexed' });
    await waitFor(async () => (await backlog(ws)) === 0, { timeoutMs: 30_000, what: 'the backlog to drain' });
    expect(await agent.stop('SIGTERM', 20_000)).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(path.join(ws.home, 'events', 'outbox.jsonl'))).toBe(false);

    const events: AliceEvent[] = [];
    for await (const e of readEvents({ home: ws.home, backend: 'redis', redisUrl: url, stream }))
      events.push(e);
    const ids = events.map((e) => e.id);
    for (let i = 1; i < ids.length; i++)
      expect(ids[i]! > ids[i - 1]!, `${ids[i - 1]} < ${ids[i]}`).toBe(true);
    const started = events.flatMap((e, i) => (e.type === 'agent.started' ? [i] : []));
    expect(started).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('agent.stopped');

    const at = (type: string, match: (p: Record<string, unknown>) => boolean): number[] =>
      events.flatMap((e, i) => (e.type === type && match(e.payload as Record<string, unknown>) ? [i] : []));
    const discovered = (hash: string): number[] => at('asset.discovered', (p) => p['content_hash'] === hash);
    const phases = [beforeHashes, during.map(sha256Of), after.map(sha256Of)];
    for (const h of phases.flat()) expect(discovered(h), `asset.discovered for ${h}`).toHaveLength(1);
    expect(at('asset.discovered', () => true)).toHaveLength(phases.flat().length);
    const moved = at('asset.moved', (p) => p['old_path'] === before[0] && p['new_path'] === movedTo);
    expect(moved).toHaveLength(1);
    expect(at('asset.moved', () => true)).toHaveLength(1);
    const gone = at('asset.missing', (p) => p['content_hash'] === deletedHash);
    expect(gone).toHaveLength(1);
    // Order across the outage: before < during (and the move, the deletion) < after.
    const [pBefore, pDuring, pAfter] = phases.map((hs) => hs.flatMap(discovered)) as [
      number[],
      number[],
      number[],
    ];
    expect(started[0]).toBeLessThan(Math.min(...pBefore));
    expect(Math.max(...pBefore)).toBeLessThan(Math.min(...pDuring, moved[0]!, gone[0]!));
    expect(Math.max(...pDuring, moved[0]!, gone[0]!)).toBeLessThan(Math.min(...pAfter));
  });
});
