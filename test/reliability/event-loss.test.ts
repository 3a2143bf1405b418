/**
 * Dropped watcher events: inotify drops events silently when its queue overflows, and
 * @parcel/watcher ignores the overflow marker, so a burst can leave files no event ever named. The
 * test makes the queue tiny (`fs.inotify.max_queued_events` = 16 while the agent starts; root only,
 * skipped with a message where /proc/sys is read-only), then renames a burst of images into the
 * watched root at once. Every file must still be indexed, exactly once, long before the hourly
 * reconciliation: the sweep that follows a burst finds what the watcher did not report, and the
 * status counts those files as `recovered` (which also proves events really were dropped).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentCall, killAllAgents, readStatusFile, startAgent, waitFor } from '../helpers/agent.js';
import { imageBytes } from '../helpers/fixtures.js';
import { cannotChangeSysctl, cleanupWorkspaces, expectIndexExactly, sized, workspace } from './helpers.js';

const QUEUE_FILE = '/proc/sys/fs/inotify/max_queued_events';
const FILES = sized(600, 3000);
const FOLDERS = 4;

afterEach(async () => {
  await killAllAgents();
});
afterAll(() => cleanupWorkspaces());

const reason = cannotChangeSysctl(QUEUE_FILE);
if (reason !== undefined) console.log(`event-loss test skipped: ${reason}`);

describe('dropped watcher events', () => {
  it.skipIf(reason !== undefined)(
    'a burst whose events overflow the inotify queue is still indexed completely, by the sweep after it',
    async () => {
      const ws = workspace(['lib']);
      const [lib] = ws.roots as [string];
      const staging = path.join(ws.dir, 'staging');
      const rels: string[] = [];
      for (let d = 0; d < FOLDERS; d++) {
        fs.mkdirSync(path.join(lib, `d${d}`), { recursive: true });
        fs.mkdirSync(path.join(staging, `d${d}`), { recursive: true });
      }
      for (let i = 0; i < FILES; i++) {
        const rel = path.join(`d${i % FOLDERS}`, `f-${i}.png`);
        fs.writeFileSync(path.join(staging, rel), await imageBytes('png', 777_000 + i, 16));
        rels.push(rel);
      }

      const original = fs.readFileSync(QUEUE_FILE, 'utf8').trim();
      let agentStarted;
      try {
        // The agent's inotify instance takes its queue size when it is created, at start.
        fs.writeFileSync(QUEUE_FILE, '16');
        agentStarted = await startAgent(ws, { timeoutMs: 120_000 });
      } finally {
        fs.writeFileSync(QUEUE_FILE, original);
      }
      const agent = agentStarted;

      for (const rel of rels) fs.renameSync(path.join(staging, rel), path.join(lib, rel));
      const files = rels.map((r) => path.join(lib, r));
      await waitFor(
        async () => {
          const res = await agentCall(ws, 'search', { limit: 1 });
          return res.ok && (res.result as { total: number }).total === FILES;
        },
        { timeoutMs: sized(180_000, 900_000), intervalMs: 500, what: `${FILES} files indexed` },
      );
      // The status file is rewritten every few seconds: ask the agent for its live counters.
      const live = await agentCall(ws, 'agent.status');
      const recovered = live.ok
        ? ((live.result as { counters?: { recovered?: number } }).counters?.recovered ?? 0)
        : (readStatusFile(ws)?.counters.recovered ?? 0);
      console.log(`event loss: ${recovered} of ${FILES} files were found by the sweep, not by events`);
      expect(recovered).toBeGreaterThan(0);
      expect(await agent.stop('SIGTERM', 30_000)).toEqual({ code: 0, signal: null });
      await expectIndexExactly(ws, files);
    },
  );
});
