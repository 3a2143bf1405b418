/**
 * Every file the agent skips is counted and named in `alice status` (text and --json), with why:
 * a name that is not valid UTF-8 (`bad_name`), a file that cannot be read (`unreadable`: a
 * symlink loop, which even root cannot read; a chmod 000 file when not run as root) and a file
 * gone by the time it is read (`vanished`: a symlink whose target is gone, which the agent meets
 * exactly like a file deleted between its event and the read). An entry leaves once the file is
 * indexed or removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SkippedEntry, StatusReading } from '../../src/services/watch/status.service.js';
import { killAllAgents, startAgent, waitFor } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { imageBytes, makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { mergeSettings, FAST_AGENT_SETTINGS } from '../helpers/agent.js';

const workspaces: Workspace[] = [];
afterEach(async () => {
  await killAllAgents();
});
afterAll(() => {
  for (const ws of workspaces.splice(0)) ws.cleanup();
});

function ws(): Workspace {
  const w = makeWorkspace({
    settings: mergeSettings(FAST_AGENT_SETTINGS, { embedding: { enabled: false } }),
  });
  workspaces.push(w);
  return w;
}

async function status(w: Workspace): Promise<{ reading: StatusReading; text: string }> {
  const json = await runAlice(['status', '--json'], { env: w.env });
  const text = await runAlice(['status'], { env: w.env });
  return { reading: json.json<StatusReading>(), text: text.stdout };
}

async function skipped(w: Workspace): Promise<{ count: number; files: SkippedEntry[] }> {
  return (await status(w)).reading.status?.skipped ?? { count: -1, files: [] };
}

async function indexed(w: Workspace, file: string): Promise<boolean> {
  const r = await runAlice(['show', file, '--json'], { env: w.env });
  return r.code === 0;
}

const isRoot = process.getuid?.() === 0;

describe('files the agent skips are named in alice status', () => {
  it('a non-UTF-8 name, an unreadable file and a vanished file: counted, named, cleared once fixed', async () => {
    const w = ws();
    const lib = w.roots[0] as string;
    await writeImage(path.join(lib, 'fine.png'), { seed: 9100, size: 24 });
    const agent = await startAgent(w);
    await waitFor(() => indexed(w, path.join(lib, 'fine.png')), { what: 'fine.png indexed' });

    // The name's bytes 0xff 0xfe are not UTF-8: Node can only reach the file through a Buffer path.
    const badBytes = Buffer.concat([
      Buffer.from(`${lib}/bad-`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('.png'),
    ]);
    fs.writeFileSync(badBytes, await imageBytes('png', 9101, 24));
    const badShown = path.join(lib, 'bad-\uFFFD\uFFFD.png');
    const loop = path.join(lib, 'loop.png');
    fs.symlinkSync('loop.png', loop);
    const vanished = path.join(lib, 'vanished.png');
    fs.symlinkSync('nowhere.png', vanished);

    const s = await waitFor(
      async () => {
        const k = await skipped(w);
        return k.count === 3 ? k : undefined;
      },
      { timeoutMs: 20_000, what: '3 skipped files in the status' },
    );
    const byPath = Object.fromEntries(s.files.map((e) => [e.path, e]));
    expect(byPath[badShown]).toMatchObject({ reason: 'bad_name', code: 'EBADNAME' });
    expect(byPath[loop]).toMatchObject({ reason: 'unreadable', code: 'ELOOP' });
    expect(byPath[vanished]).toMatchObject({ reason: 'vanished', code: 'ENOENT' });
    const { text } = await status(w);
    expect(text).toContain('skipped files (not indexed until they change): 3');
    for (const p of [badShown, loop, vanished]) expect(text).toContain(p);

    // Fixed: renamed to a valid name (then indexed), the loop removed, the link's target restored.
    const good = path.join(lib, 'renamed.png');
    fs.renameSync(badBytes, good);
    fs.rmSync(loop);
    fs.rmSync(vanished);
    await waitFor(async () => (await skipped(w)).count === 0, {
      timeoutMs: 20_000,
      what: 'the skipped list emptied',
    });
    expect(await indexed(w, good)).toBe(true);
    expect(sha256Of(good)).toHaveLength(64);
    expect((await agent.stop()).code).toBe(0);
  }, 90_000);

  it.skipIf(isRoot)(
    `a chmod 000 file is skipped as unreadable, and indexed once readable${isRoot ? ' (skipped: tests run as root, and root reads a chmod 000 file)' : ''}`,
    async () => {
      const w = ws();
      const lib = w.roots[0] as string;
      const agent = await startAgent(w);
      const locked = path.join(lib, 'locked.png');
      await writeImage(locked, { seed: 9102, size: 24 });
      fs.chmodSync(locked, 0o000);
      const s = await waitFor(
        async () => {
          const k = await skipped(w);
          return k.files.find((e) => e.path === locked);
        },
        { timeoutMs: 20_000, what: 'locked.png skipped' },
      );
      expect(s).toMatchObject({ reason: 'unreadable', code: 'EACCES' });
      fs.chmodSync(locked, 0o644);
      const later = new Date(Date.now() + 2000);
      fs.utimesSync(locked, later, later);
      await waitFor(() => indexed(w, locked), { timeoutMs: 20_000, what: 'locked.png indexed' });
      await waitFor(async () => (await skipped(w)).count === 0, { what: 'the entry cleared' });
      expect((await agent.stop()).code).toBe(0);
    },
    60_000,
  );
});
