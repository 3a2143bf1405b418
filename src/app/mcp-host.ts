/**
 * The host side of `alice mcp`: serves the library to an AI assistant over the Model Context Protocol (stdio).
 * Operations go through the running agent's control socket; without an agent each tool call opens
 * its own container (and the index) and closes it afterwards, so the agent can start at any time
 * and own the index. stdout carries only protocol messages: diagnostics go to stderr.
 */
import fs from 'node:fs';
import { thumbnail } from '../adapters/sharp.adapter.js';
import type { Config } from '../config/config.js';
import type { Invoke, McpEnv } from '../mcp/mcp-env.js';
import { agentHealth, remoteInvoker } from './invoker.js';

export { agentHealth };

/** The MCP server's invoker: the shared agent-or-local path of every long-running front end. */
export const mcpInvoker = remoteInvoker;

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
