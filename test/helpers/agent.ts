/**
 * Runs the real resident agent (`alice watch`, the built binary) as a child process on a temp
 * workspace, for end-to-end tests: start and wait until its status file says it is watching,
 * stop with SIGTERM (or kill -9) and await the exit, poll for conditions instead of sleeping,
 * and talk to it over its control socket. Every started agent is tracked so `killAllAgents()` in
 * afterEach/afterAll leaves no child behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { callSocket, type SocketResponse } from '../../src/adapters/socket.adapter.js';
import type { StatusDoc } from '../../src/services/watch/status.service.js';
import { ALICE_BIN, REPO_ROOT, assertBuilt } from './cli.js';
import type { Workspace } from './fixtures.js';

/** Settings that keep the agent quick in tests (merged under the test's own settings). */
export const FAST_AGENT_SETTINGS = {
  // Unfinished files (a truncated PNG dropped in) wait 3 s, not 2 min, before they are indexed anyway.
  watch: { debounce_ms: 150, settle_ms: 250, move_grace_s: 2, poll_interval_ms: 300, incomplete_wait_s: 3 },
  agent: { status_interval_s: 1, stale_after_s: 30 },
} as const;

/** Deep-merges plain objects (arrays and scalars of `over` replace those of `base`). */
export function mergeSettings(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> =>
      typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = isObj(b) && isObj(v) ? mergeSettings(b, v) : v;
  }
  return out;
}

export interface Exit {
  /** Exit code, or null when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface AgentProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the agent wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs` and a thrown error). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

const running = new Set<AgentProcess>();

function childEnv(ws: Workspace): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('ALICE_') && k !== 'USE_REDIS_EVENTS' && k !== 'REDIS_URL') env[k] = v;
  return { ...env, ...ws.env, NO_COLOR: '1' };
}

/** Spawns `alice watch` without waiting for anything. */
export function spawnAgent(ws: Workspace, args: readonly string[] = []): AgentProcess {
  assertBuilt();
  const child = spawn(process.execPath, [ALICE_BIN, 'watch', ...args], {
    cwd: REPO_ROOT,
    env: childEnv(ws),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a SIGKILL takes the agent's exiftool children down with it, as a
    // crash of the whole service would, instead of leaving them orphaned after the test.
    detached: true,
  });
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (signal === 'SIGKILL' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      else child.kill(signal);
    } catch {
      child.kill(signal);
    }
  };
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const agent: AgentProcess = {
    pid: child.pid ?? -1,
    child,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<Exit> {
      if (child.exitCode === null && child.signalCode === null) kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
      const res = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (res === 'late') {
        kill('SIGKILL');
        await exited;
        throw new Error(`agent ${agent.pid} did not exit within ${timeoutMs} ms of ${signal}\n${out}`);
      }
      return res;
    },
  };
  running.add(agent);
  void exited.then(() => running.delete(agent));
  return agent;
}

/** Reads `$ALICE_HOME/status.json`; undefined when it is absent or being replaced. */
export function readStatusFile(ws: Workspace): StatusDoc | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(ws.home, 'status.json'), 'utf8')) as StatusDoc;
  } catch {
    return undefined;
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Said in the timeout error, with the last value seen. */
  what?: string;
}

/** Polls `probe` until it returns a truthy value, and returns it; throws after the timeout. */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false && v !== 0 && v !== '') return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${opts.what ?? 'a condition'}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/**
 * Starts `alice watch` on the workspace and resolves once status.json (written by this pid) says
 * `watching` (or `degraded`). Kills the child and throws with its output if it exits or times out.
 */
export async function startAgent(ws: Workspace, opts: { timeoutMs?: number } = {}): Promise<AgentProcess> {
  const agent = spawnAgent(ws);
  let exit: Exit | undefined;
  void agent.exited.then((e) => (exit = e));
  try {
    await waitFor(
      () => {
        if (exit !== undefined) throw new Error(`agent exited early (${JSON.stringify(exit)})`);
        const s = readStatusFile(ws);
        return s?.pid === agent.pid && (s.state === 'watching' || s.state === 'degraded');
      },
      { timeoutMs: opts.timeoutMs ?? 30_000, what: 'the agent to be watching', intervalMs: 100 },
    );
  } catch (err) {
    if (exit === undefined) await agent.stop('SIGKILL').catch(() => undefined);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nagent output:\n${agent.output()}`);
  }
  return agent;
}

/** Kills every agent started by this test file that is still running (afterEach/afterAll). */
export async function killAllAgents(): Promise<void> {
  await Promise.all([...running].map((a) => a.stop('SIGKILL', 5000).catch(() => undefined)));
}

/** One request to the running agent over its control socket (as any other process would). */
export function agentCall(ws: Workspace, op: string, params: unknown = {}): Promise<SocketResponse> {
  return callSocket(path.join(ws.home, 'agent.sock'), op, params, { deadlineMs: 20_000 });
}

/** A parsed line of the agent's events log. */
export interface EventLine {
  type: string;
  payload: Record<string, unknown>;
}

/** Every event in `$ALICE_HOME/events/events-*.jsonl`, oldest first (partial lines skipped). */
export function readEvents(ws: Workspace): EventLine[] {
  const dir = path.join(ws.home, 'events');
  if (!fs.existsSync(dir)) return [];
  const out: EventLine[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (!/^events-.*\.jsonl$/.test(name)) continue;
    for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line) as EventLine);
      } catch {
        // a line being written right now
      }
    }
  }
  return out;
}

/** Events of one type (optionally filtered by payload fields). */
export function eventsOf(ws: Workspace, type: string, match: Record<string, unknown> = {}): EventLine[] {
  return readEvents(ws).filter(
    (e) => e.type === type && Object.entries(match).every(([k, v]) => e.payload[k] === v),
  );
}
