/**
 * `alice events tail --follow` shows new events as they happen, from the file backend and from
 * Redis Streams; commands run without the agent (index update, tag, project) emit events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { ALICE_BIN, assertBuilt, runAlice } from '../helpers/cli.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';

const children: ChildProcess[] = [];
const spaces: Workspace[] = [];

function follow(env: Record<string, string>): { lines: string[]; child: ChildProcess } {
  const child = spawn(process.execPath, [ALICE_BIN, 'events', 'tail', '--follow', '--json'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  let buf = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  return { lines, child };
}

async function waitFor(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function types(lines: string[]): string[] {
  return lines.map((l) => (JSON.parse(l) as { type: string }).type);
}

beforeAll(() => assertBuilt());
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(() => {
  for (const w of spaces) w.cleanup();
});

async function scenario(ws: Workspace, env: Record<string, string>): Promise<string[]> {
  const root = ws.roots[0] as string;
  const { lines } = follow(env);
  await new Promise((r) => setTimeout(r, 1500));
  await writeImage(path.join(root, 'a.png'), { seed: 1 });
  expect((await runAlice(['index', 'update', '--json'], { env })).code).toBe(0);
  await waitFor(() => types(lines).includes('asset.discovered'), 30_000);
  expect(
    (await runAlice(['tag', 'add', path.join(root, 'a.png'), '--tag', 'style:noir'], { env })).code,
  ).toBe(0);
  await waitFor(() => types(lines).includes('asset.tagged'), 30_000);
  const projects = path.join(ws.dir, 'projects');
  ws.writeSettings({ storage: { project_paths: ['projects'] } });
  await import('node:fs').then((fs) => fs.mkdirSync(projects, { recursive: true }));
  expect((await runAlice(['project', 'create', 'film'], { env })).code).toBe(0);
  await waitFor(() => types(lines).includes('project.updated'), 30_000);
  const events = lines.map(
    (l) => JSON.parse(l) as { id: string; type: string; payload: Record<string, unknown> },
  );
  const ids = events.map((e) => e.id);
  expect([...ids].sort()).toEqual(ids);
  const discovered = events.find((e) => e.type === 'asset.discovered');
  expect(discovered?.payload['path']).toBe(path.join(root, 'a.png'));
  expect(discovered?.payload['content_hash']).toMatch(/^[0-9a-f]{64}$/);
  return types(lines);
}

describe('alice events tail --follow', () => {
  it('shows new events from the file backend as commands change the library', async () => {
    const ws = makeWorkspace();
    spaces.push(ws);
    const seen = await scenario(ws, ws.env);
    expect(seen).toEqual(expect.arrayContaining(['asset.discovered', 'asset.tagged', 'project.updated']));
  }, 240_000);

  it('shows new events from Redis Streams (USE_REDIS_EVENTS=true)', async () => {
    const ws = makeWorkspace();
    spaces.push(ws);
    const stream = `alice:test:${randomBytes(6).toString('hex')}`;
    const env = {
      ...ws.env,
      USE_REDIS_EVENTS: 'true',
      REDIS_URL: 'redis://127.0.0.1:6379',
      ALICE_EVENTS_STREAM: stream,
    };
    try {
      const seen = await scenario(ws, env);
      expect(seen).toEqual(expect.arrayContaining(['asset.discovered', 'asset.tagged', 'project.updated']));
      const client = createClient({ url: 'redis://127.0.0.1:6379' });
      await client.connect();
      try {
        expect(await client.xLen(stream)).toBeGreaterThanOrEqual(3);
      } finally {
        await client.del(stream);
        await client.quit();
      }
    } finally {
      const client = createClient({ url: 'redis://127.0.0.1:6379' });
      await client.connect();
      await client.del(stream);
      await client.quit();
    }
  }, 240_000);
});
