/**
 * Issue 15 end to end, a service you can leave alone: the agent answers from the first second
 * while it builds its first index (reads from the last committed state, with the build's progress
 * attached; never INDEX_LOCKED), and a stopped agent never hangs a client (AGENT_NOT_RESPONDING
 * within the deadline, for the CLI and for MCP tool calls).
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAST_AGENT_SETTINGS,
  agentCall,
  killAllAgents,
  mergeSettings,
  readStatusFile,
  spawnAgent,
  startAgent,
  waitFor,
} from '../helpers/agent.js';
import { callSocket, type ProgressMessage } from '../../src/adapters/socket.adapter.js';
import { ALICE_BIN, REPO_ROOT, runAlice } from '../helpers/cli.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';

const workspaces: Workspace[] = [];
const stopped: number[] = [];

function workspace(settings: Record<string, unknown> = {}): Workspace {
  const ws = makeWorkspace({ settings: mergeSettings(FAST_AGENT_SETTINGS, settings) });
  workspaces.push(ws);
  return ws;
}

afterEach(async () => {
  // A SIGSTOPped agent cannot act on SIGTERM: continue it first, then kill it.
  for (const pid of stopped.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
  }
  await killAllAgents();
  for (const ws of workspaces.splice(0)) ws.cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the socket answers from the first second', () => {
  it('while the agent builds the first index of 2,000 images, 10 searches (one a second) each answer within 2 s, none INDEX_LOCKED', async () => {
    const ws = workspace();
    const lib = ws.roots[0] ?? '';
    // Enough that the build lasts several seconds (a first index runs at hundreds of files/s).
    for (let i = 0; i < 2000; i++)
      await writeImage(path.join(lib, `d${i % 10}`, `img-${i}.png`), { seed: 5000 + i, size: 16 });
    const agent = spawnAgent(ws);
    // The socket is open before the first scan.
    await waitFor(async () => (await agentCall(ws, 'agent.ping')).ok, {
      timeoutMs: 20_000,
      what: 'the agent socket',
    });
    // `alice status` shows the build's x of y while it runs. The first moment after the socket
    // opens may still be the walk (no count yet), so ask until the build reports one.
    const status = await waitFor(
      async () => {
        const r = await runAlice(['status'], { env: ws.env });
        return /(hashing|indexing): [\d,]+ of [\d,]+ \(/.test(r.stdout) ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: '`alice status` to show x of y' },
    );
    expect(status.stdout).toMatch(/(hashing|indexing): [\d,]+ of [\d,]+ \(/);
    const notes: string[] = [];
    let sawProgress = false;
    for (let i = 0; i < 10; i++) {
      const began = Date.now();
      const answer = await agentCall(ws, 'search', { limit: 1 });
      const agentMs = Date.now() - began;
      expect(answer.ok, JSON.stringify(answer)).toBe(true);
      expect(agentMs).toBeLessThan(2000);
      const cli = await runAlice(['search', '--limit', '1', '--json'], { env: ws.env, timeoutMs: 30_000 });
      expect(cli.stderr).not.toContain('INDEX_LOCKED');
      expect(cli.code, cli.stderr).toBe(0);
      notes.push(cli.stderr);
      const st = readStatusFile(ws);
      if (st?.state === 'scanning' && st.progress !== null && st.progress.total !== null) sawProgress = true;
      await sleep(Math.max(0, 1000 - (Date.now() - began)));
    }
    // The build was still running for the first searches: they said so.
    expect(notes[0]).toMatch(
      /index is being built(: [\d,]+ (of [\d,]+ )?files \(\w+\))?, results may be incomplete/,
    );
    expect(sawProgress || notes.some((n) => / of [\d,]+ files/.test(n))).toBe(true);
    // And the agent finishes the build and serves every image.
    await waitFor(() => readStatusFile(ws)?.state === 'watching', { timeoutMs: 240_000, what: 'watching' });
    const all = await runAlice(['search', '--limit', '1', '--json'], { env: ws.env });
    expect(all.json<{ total: number }>().total).toBe(2000);
    await agent.stop();
  }, 360_000);
});

/** Runs `alice mcp` and calls one tool; resolves with the tool result text (or an error). */
function mcpCall(
  ws: Workspace,
  tool: string,
  args: Record<string, unknown>,
): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const child = spawn(process.execPath, [ALICE_BIN, 'mcp'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...ws.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mcp ${tool} did not answer within 60 s`));
    }, 60_000);
    let buf = '';
    const send = (msg: object): void => void child.stdin.write(`${JSON.stringify(msg)}\n`);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line) as {
          id?: number;
          result?: { content?: { text?: string }[] };
          error?: unknown;
        };
        if (msg.id === 1) {
          send({ jsonrpc: '2.0', method: 'notifications/initialized' });
          send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: tool, arguments: args } });
        } else if (msg.id === 2) {
          clearTimeout(timer);
          const ms = Date.now() - began;
          child.kill('SIGTERM');
          resolve({ text: JSON.stringify(msg.result ?? msg.error), ms });
        }
      }
    });
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
    });
  });
}

describe('a stopped agent never hangs a client', () => {
  it('under SIGSTOP, `alice search`, `alice tag add` and MCP search_images fail with AGENT_NOT_RESPONDING within 15 s', async () => {
    const ws = workspace();
    const img = path.join(ws.roots[0] ?? '', 'a.png');
    await writeImage(img, { seed: 77, size: 16 });
    const agent = await startAgent(ws);
    // Start-up leaves no zombie child (the watcher's watchman probe used to leave `[sh] <defunct>`).
    const children = spawnSync('ps', ['-o', 'stat=,cmd=', '--ppid', String(agent.pid)], { encoding: 'utf8' });
    expect(children.stdout.split('\n').filter((l) => l.trim().startsWith('Z'))).toEqual([]);
    process.kill(agent.pid, 'SIGSTOP');
    stopped.push(agent.pid);
    // One after the other: each client alone must give up within 15 s (its own start included).
    const timed = async (
      args: string[],
    ): Promise<{ r: Awaited<ReturnType<typeof runAlice>>; ms: number }> => {
      const began = Date.now();
      const r = await runAlice(args, { env: ws.env, timeoutMs: 60_000 });
      return { r, ms: Date.now() - began };
    };
    const search = await timed(['search', '--limit', '1']);
    const tag = await timed(['tag', 'add', img, '--tag', 'x']);
    const mcp = await mcpCall(ws, 'search_images', { limit: 1 });
    for (const { r, ms } of [search, tag]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('AGENT_NOT_RESPONDING');
      expect(r.stderr).toContain(`pid ${agent.pid}`);
      expect(r.stderr).toMatch(/heartbeat/);
      expect(r.stderr).toContain('alice service restart');
      expect(ms).toBeLessThan(15_000);
    }
    expect(mcp.text).toContain('AGENT_NOT_RESPONDING');
    expect(mcp.ms).toBeLessThan(15_000);
    // A second agent does not start over the stopped one (it would unlink its socket).
    const second = await runAlice(['watch'], { env: ws.env, timeoutMs: 30_000 });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('AGENT_RUNNING');
    process.kill(agent.pid, 'SIGCONT');
    await agent.stop();
  }, 120_000);
});

/** Runs `alice <args>` on a pseudo-terminal (util-linux `script`), as a user at a terminal would. */
function onTerminal(ws: Workspace, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const cmd = [process.execPath, ALICE_BIN, ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...ws.env, COLUMNS: '120' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('progress through the agent', () => {
  it('index rebuild and embed --all stream progress to the caller and draw the bar on a terminal; status duplicates agree with dupes', async () => {
    const ws = workspace();
    const lib = ws.roots[0] ?? '';
    for (let i = 0; i < 12; i++) await writeImage(path.join(lib, `p${i}.png`), { seed: 900 + i, size: 16 });
    // Two exact duplicate groups.
    await writeImage(path.join(lib, 'copies', 'p0.png'), { seed: 900, size: 16 });
    await writeImage(path.join(lib, 'copies', 'p1.png'), { seed: 901, size: 16 });
    const agent = await startAgent(ws);
    const sock = path.join(ws.home, 'agent.sock');

    const seen: ProgressMessage[] = [];
    const rebuilt = await callSocket(
      sock,
      'index.rebuild',
      { dryRun: false, verify: false },
      { deadlineMs: 20_000, between: true, onProgress: (m) => seen.push(m) },
    );
    expect(rebuilt.ok, JSON.stringify(rebuilt)).toBe(true);
    expect(seen).toContainEqual({ kind: 'start', label: 'hashing', total: 14 });
    const ticks = (from: number, to: number): number =>
      seen.slice(from, to).reduce((n, m) => n + (m.kind === 'tick' ? m.n : 0), 0);
    const hashStart = seen.findIndex((m) => m.kind === 'start' && m.label === 'hashing');
    const hashDone = seen.findIndex((m, i) => i > hashStart && m.kind === 'done');
    expect(ticks(hashStart, hashDone)).toBe(14);

    const embedSeen: ProgressMessage[] = [];
    const embedded = await callSocket(
      sock,
      'metadata.embed',
      { all: true },
      { deadlineMs: 20_000, between: true, onProgress: (m) => embedSeen.push(m) },
    );
    expect(embedded.ok, JSON.stringify(embedded)).toBe(true);
    expect(embedSeen[0]).toEqual({ kind: 'start', label: 'embedding', total: 12 });
    expect(embedSeen.at(-1)).toEqual({ kind: 'done' });

    // The CLI draws the agent's progress with the same bar as an in-process run.
    const term = await onTerminal(ws, ['index', 'rebuild']);
    expect(term.code, term.out).toBe(0);
    expect(term.out).toMatch(/hashing \[[#-]+\] \d+\/14/);
    expect(term.out).toContain('index rebuild: 14 files seen');
    const termEmbed = await onTerminal(ws, ['embed', '--all']);
    expect(termEmbed.code, termEmbed.out).toBe(0);
    expect(termEmbed.out).toMatch(/embedding \[[#-]+\] \d+\/12/);

    const status = await runAlice(['status', '--json'], { env: ws.env });
    const dupes = await runAlice(['dupes', '--json'], { env: ws.env });
    const exact = dupes.json<{ exact: unknown[] }>().exact.length;
    expect(exact).toBe(2);
    expect(status.json<{ status: { counters: { duplicates: number } } }>().status.counters.duplicates).toBe(
      exact,
    );
    const text = await runAlice(['status'], { env: ws.env });
    expect(text.stdout).toContain('index: 2 duplicate groups');
    await agent.stop();
  }, 240_000);
});
