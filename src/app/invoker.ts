/**
 * How a long-running front end (the MCP server, the web page) runs library operations as a remote
 * caller (paths confined to the roots): through the agent's socket when it runs; otherwise in this
 * process, one call at a time, each with a container of its own that is closed afterwards, so the
 * agent can start at any moment and own the index.
 */
import type { AgentHealth } from '../mcp/mcp-env.js';
import { NO_PROGRESS } from '../ports.js';
import type { Config } from '../config/config.js';
import { AliceError, ErrorCode } from '../domain/errors.js';
import { callAgent } from './agent-client.js';
import { readAgentStatus } from './agent-status.js';
import { createContainer } from './compose.js';
import { OPERATIONS, isOperationName, runOperation } from './operations.js';

/** Where an operation ran: in the running agent, or in this process with its own container. */
export type Via = 'agent' | 'local';

export interface Invoked {
  readonly result: unknown;
  readonly via: Via;
  /** Facts about the agent's answer, e.g. `building` while it builds the index. */
  readonly meta?: Record<string, unknown> | undefined;
}

export type Invoke = (op: string, params: Record<string, unknown>) => Promise<Invoked>;

/** Runs one operation in this process as a remote caller, with a container of its own. */
async function runLocal(config: Config, op: string, params: Record<string, unknown>): Promise<unknown> {
  if (!isOperationName(op)) throw new AliceError(ErrorCode.INVALID_INPUT, `unknown operation ${op}`);
  const writes = OPERATIONS[op].writes;
  const container = await createContainer(config, { readOnly: !writes, events: writes });
  try {
    return await runOperation({ container, progress: NO_PROGRESS, cwd: '/', remote: true }, op, params);
  } finally {
    await container.close();
  }
}

/**
 * Agent first; otherwise in-process, one call at a time (two containers of one process must not
 * hold the index at once). The agent is asked again inside the lane, in case it started meanwhile.
 */
export function remoteInvoker(config: Config): { invoke: Invoke; drain: () => Promise<void> } {
  let lane: Promise<unknown> = Promise.resolve();
  const invoke: Invoke = async (op, params) => {
    const remote = await callAgent(config, op, params);
    if (remote !== undefined) return { result: remote.result, via: 'agent', meta: remote.meta };
    const run = lane.then(async () => {
      const late = await callAgent(config, op, params);
      if (late !== undefined) return { result: late.result, via: 'agent' as const, meta: late.meta };
      return { result: await runLocal(config, op, params), via: 'local' as const };
    });
    lane = run.catch(() => undefined);
    return run;
  };
  return { invoke, drain: async () => void (await lane) };
}

export type { AgentHealth };

/** The agent's health, read from its status file (no socket call: it answers while the agent is busy). */
export async function agentHealth(config: Config): Promise<AgentHealth> {
  const r = await readAgentStatus(config);
  const s = r.status;
  return {
    running: r.running,
    reason: r.running ? null : r.reason,
    state: s?.state ?? null,
    pid: s?.pid ?? null,
    heartbeat_age_s: r.status === null ? null : r.age_s,
    events_backlog: s?.events_backlog ?? null,
    queue: s?.queue ?? null,
    recent_errors: s?.last_errors.slice(0, 5) ?? [],
  };
}
