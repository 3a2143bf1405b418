/**
 * The inotify watch limit: the test lowers `fs.inotify.max_user_watches` (root only; skipped with a
 * message where /proc/sys is read-only) to a little above what is in use, and starts `alice watch`
 * on a root with more folders than that. The agent must not fail: it says the limit is reached
 * with the exact `sysctl` fix, polls that root instead, shows `degraded`, and still indexes a file
 * dropped deep in the tree. The limit is put back as soon as the agent has degraded (it is
 * system-wide), and in every case in `finally`.
 *
 * This suite runs one file at a time, so no other test's watcher sees the lowered limit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AssetRecord } from '../../src/services/search/assets.service.js';
import type { StatusReading } from '../../src/services/watch/status.service.js';
import { agentCall, killAllAgents, readStatusFile, startAgent, waitFor } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { writeImage } from '../helpers/fixtures.js';
import { cannotChangeSysctl, cleanupWorkspaces, workspace } from './helpers.js';

const LIMIT_FILE = '/proc/sys/fs/inotify/max_user_watches';
const FOLDERS = 600;

afterEach(async () => {
  await killAllAgents();
});
afterAll(() => cleanupWorkspaces());

/** Inotify watches held right now by every process we can see (`inotify wd:` lines in fdinfo). */
function watchesInUse(): number {
  let n = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
        if (info.includes('inotify wd:'))
          n += info.split('\n').filter((l) => l.startsWith('inotify wd:')).length;
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return n;
}

const reason = cannotChangeSysctl(LIMIT_FILE);
if (reason !== undefined) console.log(`inotify limit test skipped: ${reason}`);

describe('inotify watch limit', () => {
  it.skipIf(reason !== undefined)(
    'the agent polls the root instead, says how to raise the limit, shows degraded, and still indexes',
    async () => {
      const ws = workspace(['lib']);
      const [lib] = ws.roots as [string];
      for (let i = 0; i < FOLDERS; i++) fs.mkdirSync(path.join(lib, `d${i}`, 'sub'), { recursive: true });
      const original = fs.readFileSync(LIMIT_FILE, 'utf8').trim();
      let restored = false;
      const restore = (): void => {
        if (restored) return;
        fs.writeFileSync(LIMIT_FILE, original);
        restored = true;
      };
      try {
        // Room for the agent's own few watches but far fewer than its 1,200 folders.
        fs.writeFileSync(LIMIT_FILE, String(watchesInUse() + 100));
        const agent = await startAgent(ws, { timeoutMs: 120_000 });
        restore();
        const status = readStatusFile(ws);
        expect(status?.state).toBe('degraded');
        expect(status?.roots).toEqual([
          expect.objectContaining({ path: lib, state: 'polling', backend: 'poll' }),
        ]);
        expect(status?.notes.join('\n')).toContain('sudo sysctl fs.inotify.max_user_watches=524288');

        // `alice status` tells the user, with the fix.
        const st = await runAlice(['status'], { env: ws.env });
        expect(st.code).toBe(0);
        expect(st.stdout).toMatch(/degraded/);
        expect(st.stdout).toContain('sysctl fs.inotify.max_user_watches');
        const json = (await runAlice(['status', '--json'], { env: ws.env })).json<StatusReading>();
        expect(json.status?.state).toBe('degraded');

        // Polling still sees a file dropped deep in the tree.
        const file = path.join(lib, `d${FOLDERS - 1}`, 'sub', 'late.png');
        await writeImage(file, { seed: 4242, size: 24 });
        await waitFor(
          async () => {
            const res = await agentCall(ws, 'asset.show', { ref: file });
            return res.ok && (res.result as AssetRecord).locations.some((l) => l.path === file && l.present);
          },
          { timeoutMs: 60_000, what: `${file} indexed by polling` },
        );
        expect(await agent.stop('SIGTERM', 30_000)).toEqual({ code: 0, signal: null });
      } finally {
        restore();
      }
    },
  );
});
