/**
 * What the MCP tools need from the rest of alice, as small ports: the CLI wires them (agent
 * socket or an in-process container per call, sharp thumbnails, the agent's status file), so the
 * tools themselves open nothing and hold nothing between calls.
 */
import type { RootConfig } from '../config/config.js';

/** `mcp.*` settings. */
export interface McpSettings {
  /** Hard cap on results of one search or similarity call. */
  readonly max_results: number;
  /** Most thumbnails returned by one call. */
  readonly thumbnails: number;
  /** Longest side of a thumbnail, in pixels. */
  readonly thumbnail_px: number;
}

/** Where an operation ran: in the running agent, or in this process with its own container. */
export type Via = 'agent' | 'local';

export interface Invoked {
  readonly result: unknown;
  readonly via: Via;
}

/**
 * Runs a library operation as a remote caller (paths confined to the roots): through the agent
 * when it runs, else in-process with a container opened and closed for this one call.
 */
export type Invoke = (op: string, params: Record<string, unknown>) => Promise<Invoked>;

export type ThumbnailMaker = (
  file: string,
  maxSize: number,
) => Promise<{ ok: true; data: Buffer; mime: string } | { ok: false; reason: string }>;

/** The agent's health as `index_status` reports it. */
export interface AgentHealth {
  running: boolean;
  /** Why it is not running: `no_status`, `stopped`, `stale`, `dead`. */
  reason: string | null;
  state: string | null;
  pid: number | null;
  heartbeat_age_s: number | null;
  events_backlog: number | null;
  queue: Record<string, number> | null;
  recent_errors: { at: string; path: string; code: string; message: string }[];
}

export interface McpEnv {
  readonly roots: readonly RootConfig[];
  readonly settings: McpSettings;
  /** Index file, to tell "no index yet" from an empty one. */
  readonly indexExists: () => boolean;
  readonly invoke: Invoke;
  readonly thumbnail: ThumbnailMaker;
  readonly agentHealth: () => Promise<AgentHealth>;
  /** Diagnostics for stderr; stdout is the protocol channel. */
  readonly log: (level: 'debug' | 'warn' | 'error', message: string) => void;
}
