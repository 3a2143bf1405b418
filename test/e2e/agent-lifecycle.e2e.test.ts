/**
 * Issue 6 end to end, the agent's life across stops and failures: SIGTERM with work in flight,
 * `kill -9` in the middle of a burst and the restart that converges, a root that disappears
 * (renamed away, or removed) and comes back, and the polling backend. Each test runs its own
 * `alice watch` on its own temp workspace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AssetRecord } from '../../src/services/search/assets.service.js';
import { readStatus, type StatusReading } from '../../src/services/watch/status.service.js';
import {
  FAST_AGENT_SETTINGS,
  agentCall,
  eventsOf,
  killAllAgents,
  mergeSettings,
  readStatusFile,
  spawnAgent,
  startAgent,
  waitFor,
} from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import {
  findFiles,
  imageBytes,
  makeWorkspace,
  sha256Of,
  writeImage,
  type Workspace,
} from '../helpers/fixtures.js';
import { readIndex, sidecarHashes } from '../helpers/library.js';

const workspaces: Workspace[] = [];

function workspace(roots: string[], settings: Record<string, unknown> = {}): Workspace {
  const ws = makeWorkspace({ roots, settings: mergeSettings(FAST_AGENT_SETTINGS, settings) });
  workspaces.push(ws);
  return ws;
}

afterEach(async () => {
  await killAllAgents();
  for (const ws of workspaces.splice(0)) ws.cleanup();
});

/** Scanning at start (or already past it on a fast machine: the stop must be clean either way). */
function isBusyOrUp(state: string | undefined): boolean {
  return state === 'scanning' || state === 'watching';
}

async function presentAt(ws: Workspace, file: string): Promise<AssetRecord | undefined> {
  const res = await agentCall(ws, 'asset.show', { ref: file });
  if (!res.ok) return undefined;
  const r = res.result as AssetRecord;
  return r.indexed && r.locations.some((l) => l.path === file && l.present) ? r : undefined;
}

/** After the agent stopped: the index holds exactly these files, each once, under its own hash. */
async function expectIndexExactly(ws: Workspace, files: string[]): Promise<void> {
  const view = await readIndex(ws.searchDb);
  const want = Object.fromEntries(files.map((f) => [f, sha256Of(f)]));
  const present = Object.fromEntries(
    Object.entries(view.locations)
      .filter(([, l]) => l.present)
      .map(([p, l]) => [p, l.content_hash]),
  );
  expect(present).toEqual(want);
  expect(Object.keys(view.locations).sort()).toEqual(files.slice().sort());
  expect(Object.keys(view.assets).sort()).toEqual([...new Set(Object.values(want))].sort());
}

/** Every sidecar below the root parses, names its own hash, and one exists per asset. */
function expectSidecarsValid(root: string, hashes: string[]): void {
  expect(sidecarHashes(root)).toEqual([...new Set(hashes)].sort());
  for (const h of sidecarHashes(root)) {
    const doc = JSON.parse(
      fs.readFileSync(path.join(root, '.metadata', h.slice(0, 2), `${h}.json`), 'utf8'),
    ) as { content_hash: string; version: string };
    expect(doc.content_hash).toBe(h);
    expect(doc.version).toBe('4.0');
  }
}

describe('alice watch across stops and failures', () => {
  it('SIGTERM during the startup scan or right after a drop exits 0; the next start converges', async () => {
    const ws = workspace(['lib']);
    const [lib] = ws.roots as [string];
    const initial = Array.from({ length: 40 }, (_, i) => path.join(lib, `d${i % 4}`, `i-${i}.png`));
    for (const [i, f] of initial.entries()) await writeImage(f, { seed: 200 + i, size: 16 });

    // 1. Stopped while building the index from 40 files: a clean, quick exit.
    let agent = spawnAgent(ws);
    await waitFor(() => readStatusFile(ws)?.pid === agent.pid && isBusyOrUp(readStatusFile(ws)?.state), {
      intervalMs: 20,
      timeoutMs: 30_000,
      what: 'the startup scan',
    });
    let t0 = Date.now();
    expect(await agent.stop('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(readStatusFile(ws)?.state).toBe('stopped');

    // 2. Stopped right after files were dropped.
    agent = await startAgent(ws, { timeoutMs: 60_000 });
    const late = Array.from({ length: 10 }, (_, i) => path.join(lib, `late-${i}.png`));
    for (const [i, f] of late.entries()) await writeImage(f, { seed: 300 + i, size: 32 });
    t0 = Date.now();
    expect(await agent.stop('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(readStatusFile(ws)?.state).toBe('stopped');
    expect(eventsOf(ws, 'agent.stopped').length).toBeGreaterThanOrEqual(1);
    const text = await runAlice(['status'], { env: ws.env });
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(/^agent: not running \(stopped cleanly/);

    // 3. The next start picks up whatever was not done.
    agent = await startAgent(ws, { timeoutMs: 60_000 });
    for (const f of late) await waitFor(() => presentAt(ws, f), { what: `${f} indexed after restart` });
    expect((await agent.stop()).code).toBe(0);
    const all = [...initial, ...late];
    await expectIndexExactly(ws, all);
    expectSidecarsValid(lib, all.map(sha256Of));
  }, 150_000);

  it('kill -9 during a burst, then restart: every file indexed exactly once, sidecars valid, verify clean', async () => {
    const ws = workspace(['lib'], { pipeline: { batch_size: 20 } });
    const [lib] = ws.roots as [string];
    const images = await Promise.all(Array.from({ length: 150 }, (_, i) => imageBytes('png', 1000 + i, 32)));
    let agent = await startAgent(ws);
    const files = images.map((_, i) => path.join(lib, `burst-${String(Math.floor(i / 50))}`, `b-${i}.png`));
    const write = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        const f = files[i] as string;
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, images[i] as Buffer);
      }
    };
    write(0, 100);
    await waitFor(() => sidecarHashes(lib).length >= 50, {
      timeoutMs: 60_000,
      intervalMs: 20,
      what: 'a third of the burst to be processed',
    });
    // The rest lands while the agent is busy, and it dies in the middle of it.
    write(100, 150);
    const killed = await agent.stop('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    // The status file still says `watching`, but its process is gone: reported as dead, not running.
    expect(await readStatus(path.join(ws.home, 'status.json'), 30)).toMatchObject({
      running: false,
      reason: 'dead',
    });
    const before = sidecarHashes(lib).length;
    expect(before).toBeLessThan(150);

    // A SIGTERM while the restarted agent is still catching up ends it cleanly too.
    agent = spawnAgent(ws);
    await waitFor(() => readStatusFile(ws)?.pid === agent.pid && isBusyOrUp(readStatusFile(ws)?.state), {
      intervalMs: 20,
      timeoutMs: 30_000,
      what: 'the catch-up after the crash',
    });
    expect(await agent.stop('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });

    agent = await startAgent(ws, { timeoutMs: 90_000 });
    // Catch-up runs before the agent reports `watching`; the agent must already be complete.
    expect((await agent.stop('SIGTERM', 10_000)).code).toBe(0);
    await expectIndexExactly(ws, files);
    expectSidecarsValid(lib, files.map(sha256Of));
    const stray = findFiles(path.join(lib, '.metadata')).filter(
      (f) => !/^[0-9a-f]{2}\/[0-9a-f]{64}\.json$/.test(f) && f !== 'root-id',
    );
    expect(stray).toEqual([]);
    const verify = await runAlice(['index', 'verify', '--json'], { env: ws.env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.json<{ clean: boolean }>().clean).toBe(true);
  }, 150_000);

  it('a root renamed away or removed is offline, nothing under it goes missing, and it is watched again on return', async () => {
    const ws = workspace(['photos', 'usb']);
    const [photos, usb] = ws.roots as [string, string];
    const files = [0, 1, 2].map((i) => path.join(usb, `u-${i}.png`));
    for (const [i, f] of files.entries()) await writeImage(f, { seed: 400 + i, size: 32 });
    const agent = await startAgent(ws);
    for (const f of files) await waitFor(() => presentAt(ws, f), { what: `${f} indexed` });
    const rootState = (): string | undefined => readStatusFile(ws)?.roots.find((r) => r.path === usb)?.state;

    const away = `${usb}.away`;
    fs.renameSync(usb, away);
    await waitFor(() => rootState() === 'offline', { what: 'usb offline after rename' });
    const st = await runAlice(['status', '--json'], { env: ws.env });
    expect(st.code).toBe(0);
    const reading = st.json<StatusReading>();
    expect(reading.status?.roots.map((r) => [r.path, r.state])).toEqual([
      [photos, 'watching'],
      [usb, 'offline'],
    ]);
    await new Promise((r) => setTimeout(r, 2500)); // longer than the 2 s grace window
    expect(readStatusFile(ws)?.counters.missing).toBe(0);
    expect(eventsOf(ws, 'asset.missing')).toEqual([]);

    fs.renameSync(away, usb);
    await waitFor(() => rootState() === 'watching', { what: 'usb watched again' });
    const fresh = path.join(usb, 'after-return.png');
    await writeImage(fresh, { seed: 410, size: 32 });
    await waitFor(() => presentAt(ws, fresh), { what: 'a new file in the returned root' });
    for (const f of files) expect(await presentAt(ws, f)).toBeDefined();

    // Removed outright: the watcher sees every file vanish first; still nothing goes missing.
    const backup = `${usb}.bak`;
    fs.cpSync(usb, backup, { recursive: true });
    fs.rmSync(usb, { recursive: true, force: true });
    await waitFor(() => rootState() === 'offline', { what: 'usb offline after rm -rf' });
    await new Promise((r) => setTimeout(r, 2500));
    expect(readStatusFile(ws)?.counters.missing).toBe(0);
    expect(eventsOf(ws, 'asset.missing')).toEqual([]);
    fs.renameSync(backup, usb);
    await waitFor(() => rootState() === 'watching', { what: 'usb back after restore' });
    await new Promise((r) => setTimeout(r, 2500));
    for (const f of [...files, fresh]) expect(await presentAt(ws, f)).toBeDefined();
    expect(readStatusFile(ws)?.counters.missing).toBe(0);
    expect((await agent.stop()).code).toBe(0);
  }, 90_000);

  it('rebuilds a damaged index at start (kept aside), and the poll backend picks up a new file', async () => {
    const ws = workspace(['lib'], { watch: { backend: 'poll' } });
    const [lib] = ws.roots as [string];
    const old = path.join(lib, 'old.png');
    await writeImage(old, { seed: 499, size: 32 });
    fs.mkdirSync(path.dirname(ws.searchDb), { recursive: true });
    fs.writeFileSync(ws.searchDb, Buffer.alloc(64 * 1024, 0x5a));
    const agent = await startAgent(ws);
    const s = readStatusFile(ws);
    expect(s?.roots.map((r) => [r.state, r.backend])).toEqual([['polling', 'poll']]);
    expect(s?.last_errors.map((e) => e.code)).toContain('INDEX_CORRUPT');
    expect(fs.readdirSync(path.dirname(ws.searchDb)).some((n) => n.includes('.corrupt-'))).toBe(true);
    expect(await presentAt(ws, old)).toBeDefined();

    const file = path.join(lib, 'nested', 'polled.png');
    await writeImage(file, { seed: 500, size: 32 });
    const r = await waitFor(() => presentAt(ws, file), { timeoutMs: 10_000, what: 'the polled file' });
    expect(r.content_hash).toBe(sha256Of(file));
    expect((await agent.stop()).code).toBe(0);
  });
});
