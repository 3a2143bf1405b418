/**
 * Owner-only state: the index and its WAL hold prompts, paths and tags, so they are 0600 like the
 * status file; every folder alice creates under $ALICE_HOME is 0700 and every file in it 0600
 * (events, the id clock, logs and the log rotation's audit file, the exiftool config, the socket).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentCall, killAllAgents, startAgent, waitFor } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { writeImage } from '../helpers/fixtures.js';
import { cleanupWorkspaces, workspace } from './helpers.js';

afterEach(async () => {
  await killAllAgents();
});
afterAll(() => cleanupWorkspaces());

const statMode = (file: string): string =>
  execFileSync('stat', ['-c', '%a', file], { encoding: 'utf8' }).trim();

/** `<mode> <path>` of everything below `dir` (symlinks skipped: their mode means nothing). */
function modesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    out.push(`${(fs.statSync(p).mode & 0o777).toString(8)} ${e.isDirectory() ? 'd' : 'f'} ${p}`);
    if (e.isDirectory()) out.push(...modesBelow(p));
  }
  return out;
}

describe('owner-only state', { timeout: 180_000 }, () => {
  it('the index and its WAL are 600; every folder under $ALICE_HOME is 700 and every file 600', async () => {
    const ws = workspace(['lib'], { embedding: { enabled: false } });
    const [lib] = ws.roots as [string];
    for (let i = 0; i < 4; i++) await writeImage(path.join(lib, `p-${i}.png`), { seed: 700 + i, size: 24 });
    const agent = await startAgent(ws, { timeoutMs: 90_000 });
    await waitFor(
      async () => {
        const res = await agentCall(ws, 'search', { limit: 100 });
        return res.ok && (res.result as { total: number }).total === 4;
      },
      { timeoutMs: 60_000, what: '4 assets indexed' },
    );
    // A write through the agent, so the WAL holds something right now.
    const tag = await runAlice(['tag', 'add', path.join(lib, 'p-0.png'), '--tag', 'mood:calm', '--json'], {
      env: ws.env,
    });
    expect(tag.code, tag.stderr).toBe(0);
    expect(fs.existsSync(`${ws.searchDb}.wal`)).toBe(true);
    expect(statMode(ws.searchDb)).toBe('600');
    expect(statMode(`${ws.searchDb}.wal`)).toBe('600');
    expect(statMode(path.dirname(ws.searchDb))).toBe('700');

    const modes = modesBelow(ws.home);
    expect(modes.some((m) => m.includes('/events/events-'))).toBe(true);
    expect(modes.some((m) => m.includes('-audit.json'))).toBe(true);
    expect(modes.filter((m) => !/^(600 f|700 d) /.test(m))).toEqual([]);
    expect(statMode(ws.home)).toBe('700');
    expect((await agent.stop()).code).toBe(0);
    expect(statMode(ws.searchDb)).toBe('600');
  });
});
