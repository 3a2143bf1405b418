/**
 * What `alice status` says agrees with the commands it points to, through a real agent: the
 * duplicate-group count is `alice dupes`'s (project copies are not duplicates), and after a clean
 * stop no event is reported as waiting for delivery once the log holds it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAST_AGENT_SETTINGS,
  killAllAgents,
  mergeSettings,
  readStatusFile,
  startAgent,
  waitFor,
} from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';

const workspaces: Workspace[] = [];

afterEach(async () => {
  await killAllAgents();
  for (const ws of workspaces.splice(0)) ws.cleanup();
});

describe('alice status agrees with alice dupes and the event log', () => {
  it('a file selected into a project is not a duplicate group in status, as in alice dupes', async () => {
    const ws = makeWorkspace({
      settings: mergeSettings(FAST_AGENT_SETTINGS, { storage: { project_paths: ['projects'] } }),
    });
    workspaces.push(ws);
    const lib = ws.roots[0] ?? '';
    fs.mkdirSync(path.join(ws.dir, 'projects'));
    await writeImage(path.join(lib, 'a.png'), { seed: 31, size: 32 });
    await writeImage(path.join(lib, 'b.png'), { seed: 32, size: 32 });
    await writeImage(path.join(lib, 'copies', 'b.png'), { seed: 32, size: 32 });
    const agent = await startAgent(ws);

    expect((await runAlice(['project', 'create', 'trailer'], { env: ws.env })).code).toBe(0);
    const sel = await runAlice(['project', 'select', 'trailer', path.join(lib, 'a.png'), '--why', 'hero'], {
      env: ws.env,
    });
    expect(sel.code, sel.stderr).toBe(0);
    // The agent indexes the project copy.
    await waitFor(
      async () =>
        (await runAlice(['search', '--project', 'trailer', '--json'], { env: ws.env })).json<{
          total: number;
        }>().total === 1,
      { timeoutMs: 20_000, what: 'the project copy to be indexed' },
    );

    const dupes = await runAlice(['dupes', '--json'], { env: ws.env });
    expect(dupes.json<{ exact: unknown[] }>().exact).toHaveLength(1);
    const status = await runAlice(['status', '--json'], { env: ws.env });
    expect(status.json<{ status: { counters: { duplicates: number } } }>().status.counters.duplicates).toBe(
      1,
    );
    expect((await runAlice(['status'], { env: ws.env })).stdout).toContain('index: 1 duplicate group ');

    await agent.stop('SIGTERM');
  }, 120_000);

  it('after SIGTERM the status file says stopped with no event waiting: agent.stopped is in the log', async () => {
    const ws = makeWorkspace({ settings: FAST_AGENT_SETTINGS });
    workspaces.push(ws);
    await writeImage(path.join(ws.roots[0] ?? '', 'a.png'), { seed: 33, size: 32 });
    const agent = await startAgent(ws);
    const exit = await agent.stop('SIGTERM');
    expect(exit.code).toBe(0);
    const doc = readStatusFile(ws);
    expect(doc?.state).toBe('stopped');
    const log = fs.readdirSync(path.join(ws.home, 'events')).filter((f) => f.endsWith('.jsonl'));
    const lines = log.flatMap((f) =>
      fs
        .readFileSync(path.join(ws.home, 'events', f), 'utf8')
        .trim()
        .split('\n'),
    );
    expect(lines.at(-1)).toContain('"agent.stopped"');
    expect(doc?.events_backlog).toBe(0);
    const text = await runAlice(['status'], { env: ws.env });
    expect(text.code).toBe(3);
    expect(text.stdout).not.toContain('events waiting for delivery');
  }, 60_000);
});
