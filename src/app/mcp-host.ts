/**
 * The host side of `alice mcp`: serves the library to an AI assistant over the Model Context Protocol (stdio).
 * Operations go through the running agent's control socket; without an agent each tool call opens
 * its own container (and the index) and closes it afterwards, so the agent can start at any time
 * and own the index. stdout carries only protocol messages: diagnostics go to stderr.
 */
import fs from 'node:fs';
import { thumbnail } from '../adapters/sharp.adapter.js';
import type { Config } from '../config/config.js';
import { AliceError, ErrorCode } from '../domain/errors.js';
import type { AgentHealth, Invoke, McpEnv } from '../mcp/mcp-env.js';
import { NO_PROGRESS } from '../ports.js';
import { callAgent } from './agent-client.js';
import { readAgentStatus } from './agent-status.js';
import { createContainer } from './compose.js';
import { OPERATIONS, isOperationName, runOperation } from './operations.js';

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
export function mcpInvoker(config: Config): { invoke: Invoke; drain: () => Promise<void> } {
  let lane: Promise<unknown> = Promise.resolve();
  const invoke: Invoke = async (op, params) => {
    const remote = await callAgent(config, op, params);
    if (remote !== undefined) return { result: remote.result, via: 'agent' };
    const run = lane.then(async () => {
      const late = await callAgent(config, op, params);
      if (late !== undefined) return { result: late.result, via: 'agent' as const };
      return { result: await runLocal(config, op, params), via: 'local' as const };
    });
    lane = run.catch(() => undefined);
    return run;
  };
  return { invoke, drain: async () => void (await lane) };
}

/** The agent's health from its status file (no socket call: it must answer while the agent is busy). */
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

/** Everything the MCP tools need, wired to the real adapters. */
export function mcpEnv(config: Config, invoke: Invoke, verbose: boolean): McpEnv {
  return {
    roots: config.roots,
    settings: config.settings.mcp,
    indexExists: () => fs.existsSync(config.searchDb),
    invoke,
    thumbnail: async (file, px) => {
      const t = await thumbnail(file, px);
      return t.ok ? { ok: true, data: t.data, mime: t.mime } : { ok: false, reason: t.reason };
    },
    agentHealth: () => agentHealth(config),
    log: (level, message) => {
      if (level !== 'debug' || verbose) process.stderr.write(`alice mcp: ${level}: ${message}\n`);
    },
  };
}
