/**
 * Roots that come and go. A root is online only when alice's marker (`.metadata/root-id`) is
 * there on the expected device:
 * - a 5-file root on a bind mount, unmounted while the agent runs (the mount point stays as an
 *   empty folder on another device) for several move-grace windows: nothing is marked missing, no
 *   `asset.missing`, the status shows it offline with the reason; mounted again it is online and a
 *   file dropped afterwards is indexed. Needs root (mount); skipped with a message elsewhere.
 * - a root folder moved away and a new one created at its path with 3 files: the watcher is
 *   re-armed on the new folder and all 3 are indexed within 10 s, without a manual update.
 * - a root folder moved away and an empty folder created at its path (the marker missing): not a
 *   new empty root that empties the old one; it stays offline with the reason until the marker
 *   comes back, then the old files are all present.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentCall, eventsOf, killAllAgents, readStatusFile, startAgent, waitFor } from '../helpers/agent.js';
import { sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readIndex } from '../helpers/library.js';
import { cleanupWorkspaces, sleep, workspace } from './helpers.js';

afterEach(async () => {
  await killAllAgents();
});
afterAll(() => cleanupWorkspaces());

const bound: string[] = [];
afterEach(() => {
  for (const dir of bound.splice(0)) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      // not mounted any more
    }
  }
});

/** Why a bind mount is not possible here, or undefined after mounting `from` on `to`. */
function bindMount(from: string, to: string): string | undefined {
  try {
    execFileSync('mount', ['--bind', from, to], { stdio: 'pipe' });
  } catch (err) {
    return `cannot bind-mount here (needs root and mount permission): ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}`;
  }
  bound.push(to);
  return undefined;
}

async function presentHashes(ws: Workspace): Promise<string[]> {
  const res = await agentCall(ws, 'search', { limit: 1000 });
  if (!res.ok) return [];
  return (res.result as { results: { content_hash: string }[] }).results.map((r) => r.content_hash);
}

const probeDir = fs.mkdtempSync('/tmp/alice-bind-probe-');
fs.mkdirSync(path.join(probeDir, 'a'));
fs.mkdirSync(path.join(probeDir, 'b'));
const cannotMount = bindMount(path.join(probeDir, 'a'), path.join(probeDir, 'b'));
if (cannotMount === undefined) execFileSync('umount', [path.join(probeDir, 'b')]);
bound.length = 0;
fs.rmSync(probeDir, { recursive: true, force: true });

describe('roots that come and go', { timeout: 240_000 }, () => {
  it.skipIf(cannotMount !== undefined)(
    `an unmounted 5-file root is offline, nothing goes missing; remounted it is watched again${cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`}`,
    async () => {
      const ws = workspace(['lib'], { embedding: { enabled: false } });
      const [lib] = ws.roots as [string];
      const disk = path.join(ws.dir, 'disk');
      fs.mkdirSync(disk);
      const files: string[] = [];
      for (let i = 0; i < 5; i++) {
        const f = path.join(disk, `u-${i}.png`);
        await writeImage(f, { seed: 5100 + i, size: 24 });
        files.push(f);
      }
      expect(bindMount(disk, lib)).toBeUndefined();
      const agent = await startAgent(ws, { timeoutMs: 90_000 });
      await waitFor(async () => (await presentHashes(ws)).length === 5, {
        timeoutMs: 60_000,
        what: '5 assets',
      });
      expect(fs.existsSync(path.join(lib, '.metadata', 'root-id'))).toBe(true);

      execFileSync('umount', [lib]);
      bound.length = 0;
      expect(fs.readdirSync(lib)).toEqual([]);
      await waitFor(() => readStatusFile(ws)?.roots.find((r) => r.path === lib)?.state === 'offline', {
        timeoutMs: 15_000,
        what: 'the root shown offline',
      });
      // Several move-grace windows (2 s in these tests) and health ticks.
      await sleep(10_000);
      const root = readStatusFile(ws)?.roots.find((r) => r.path === lib);
      expect(root?.state).toBe('offline');
      expect(root?.reason).toMatch(/marker|device|empty/);
      expect(readStatusFile(ws)?.state).toBe('watching');
      expect(eventsOf(ws, 'asset.missing')).toEqual([]);
      expect(eventsOf(ws, 'root.offline', { root: lib }).length).toBeGreaterThan(0);
      expect(readStatusFile(ws)?.counters.missing).toBe(0);

      expect(bindMount(disk, lib)).toBeUndefined();
      await waitFor(() => readStatusFile(ws)?.roots.find((r) => r.path === lib)?.state !== 'offline', {
        timeoutMs: 15_000,
        what: 'the root back online',
      });
      expect(eventsOf(ws, 'root.online', { root: lib }).length).toBeGreaterThan(0);
      const late = path.join(lib, 'late.png');
      await writeImage(late, { seed: 5199, size: 24 });
      await waitFor(async () => (await presentHashes(ws)).includes(sha256Of(late)), {
        timeoutMs: 30_000,
        what: 'the file dropped after the remount indexed',
      });
      expect((await presentHashes(ws)).length).toBe(6);
      expect(eventsOf(ws, 'asset.missing')).toEqual([]);
      expect((await agent.stop()).code).toBe(0);
      const view = await readIndex(ws.searchDb);
      expect(Object.values(view.locations).filter((l) => !l.present)).toEqual([]);
    },
  );

  it('a root folder replaced by a new one at its path: all 3 new files indexed within 10 s', async () => {
    const ws = workspace(['lib'], { embedding: { enabled: false } });
    const [lib] = ws.roots as [string];
    for (let i = 0; i < 2; i++)
      await writeImage(path.join(lib, `old-${i}.png`), { seed: 5200 + i, size: 24 });
    const agent = await startAgent(ws, { timeoutMs: 90_000 });
    await waitFor(async () => (await presentHashes(ws)).length === 2, {
      timeoutMs: 60_000,
      what: '2 assets',
    });

    fs.renameSync(lib, path.join(ws.dir, 'lib-moved-away'));
    fs.mkdirSync(lib);
    const fresh: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = path.join(lib, `new-${i}.png`);
      await writeImage(f, { seed: 5300 + i, size: 24 });
      fresh.push(sha256Of(f));
    }
    await waitFor(
      async () => {
        const have = await presentHashes(ws);
        return fresh.every((h) => have.includes(h));
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'all 3 new files indexed' },
    );
    expect(readStatusFile(ws)?.roots.find((r) => r.path === lib)?.state).not.toBe('offline');
    expect((await agent.stop()).code).toBe(0);
  });

  it('an empty folder re-created at an offline root path stays offline until the marker comes back', async () => {
    const ws = workspace(['lib'], { embedding: { enabled: false } });
    const [lib] = ws.roots as [string];
    const hashes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = path.join(lib, `kept-${i}.png`);
      await writeImage(f, { seed: 5400 + i, size: 24 });
      hashes.push(sha256Of(f));
    }
    const agent = await startAgent(ws, { timeoutMs: 90_000 });
    await waitFor(async () => (await presentHashes(ws)).length === 3, {
      timeoutMs: 60_000,
      what: '3 assets',
    });
    const rootStatus = (): { state?: string; reason?: string } | undefined =>
      readStatusFile(ws)?.roots.find((r) => r.path === lib);

    const away = path.join(ws.dir, 'lib-away');
    fs.renameSync(lib, away);
    await waitFor(() => rootStatus()?.state === 'offline', { timeoutMs: 15_000, what: 'offline once moved' });
    fs.mkdirSync(lib);
    // Several move-grace windows (2 s here), health ticks and a catch-up through the agent.
    await sleep(6000);
    const update = await agentCall(ws, 'index.update', {});
    expect(update.ok).toBe(true);
    const summary = (
      update as {
        result: { missing: number; offline_roots: string[]; offline_reasons: Record<string, string> };
      }
    ).result;
    expect(summary.missing).toBe(0);
    expect(summary.offline_roots).toEqual([lib]);
    expect(summary.offline_reasons[lib]).toMatch(/empty/);
    await sleep(3000);
    expect(rootStatus()?.state).toBe('offline');
    expect(rootStatus()?.reason).toMatch(/empty|marker/);
    expect(eventsOf(ws, 'asset.missing')).toEqual([]);
    expect(readStatusFile(ws)?.counters.missing).toBe(0);
    // No marker was written into the empty folder: it is not adopted as a new root.
    expect(fs.existsSync(path.join(lib, '.metadata', 'root-id'))).toBe(false);

    // The real folder (with its marker) comes back: online, every old file present.
    fs.rmdirSync(lib);
    fs.renameSync(away, lib);
    await waitFor(() => rootStatus()?.state !== 'offline', { timeoutMs: 15_000, what: 'online again' });
    expect((await presentHashes(ws)).sort()).toEqual([...hashes].sort());
    expect(eventsOf(ws, 'asset.missing')).toEqual([]);
    expect((await agent.stop()).code).toBe(0);
    expect(Object.values((await readIndex(ws.searchDb)).locations).filter((l) => !l.present)).toEqual([]);
  });
});
