/**
 * Talks to the running agent over its control socket; `undefined` when no agent is running.
 * Every call has a deadline: queries must answer within `timeoutMs` (10 s by default); long
 * operations (writes) stream progress and keep-alive messages, and the deadline applies between
 * messages. A stopped or hung agent gives AGENT_NOT_RESPONDING with its pid, heartbeat age and how
 * to restart it.
 */
import {
  AgentTimeoutError,
  callSocket,
  NoAgentError,
  type ProgressMessage,
} from '../adapters/socket.adapter.js';
import type { Config } from '../config/config.js';
import { AliceError, ErrorCode, errorMessage, type ErrorCode as Code } from '../domain/errors.js';
import { readStatus } from '../services/watch/status.service.js';
import { WRITING_OPERATIONS } from './writing-operations.js';

export type { ProgressMessage } from '../adapters/socket.adapter.js';

/** Default deadline for a query (and between two messages of a long operation). */
export const AGENT_DEADLINE_MS = 10_000;

function isCode(code: string): code is Code {
  return Object.values(ErrorCode).includes(code as Code);
}

export interface CallAgentOptions {
  confine?: boolean;
  /** A long operation's progress, as the agent reports it. */
  onProgress?: (msg: ProgressMessage) => void;
}

export interface AgentAnswer {
  result: unknown;
  /** Facts about the answer, e.g. `building` while the agent builds the index. */
  meta?: Record<string, unknown> | undefined;
}

/** AGENT_NOT_RESPONDING, with what the status file says about the agent. */
async function notResponding(config: Config, waited: string): Promise<AliceError> {
  const r = await readStatus(config.paths.status, config.settings.agent.stale_after_s).catch(() => undefined);
  const pid = r?.status?.pid;
  const age = r !== undefined && r.status !== null ? r.age_s : undefined;
  const who = pid === undefined ? 'the agent' : `the agent (pid ${pid})`;
  const beat = age === undefined ? 'no heartbeat found' : `last heartbeat ${age} s ago`;
  const kill = pid === undefined ? 'stop it' : `\`kill ${pid}\` (or \`kill -9 ${pid}\` if it is stopped)`;
  return new AliceError(ErrorCode.AGENT_NOT_RESPONDING, `${who} is not responding: ${waited}`, {
    hint: `${beat}; restart it with \`alice service restart\`, or ${kill} and start \`alice watch\` again`,
  });
}

/** Runs `op` in the agent. Returns undefined when no agent listens; rethrows its errors as AliceErrors. */
export async function callAgent(
  config: Config,
  op: string,
  params: unknown,
  timeoutMs: number = AGENT_DEADLINE_MS,
  opts: CallAgentOptions = {},
): Promise<AgentAnswer | undefined> {
  let res;
  try {
    res = await callSocket(config.paths.socket, op, params, {
      deadlineMs: timeoutMs,
      between: WRITING_OPERATIONS.has(op),
      confine: opts.confine ?? true,
      ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    });
  } catch (err) {
    if (err instanceof NoAgentError) return undefined;
    if (err instanceof AgentTimeoutError) throw await notResponding(config, err.message);
    throw new AliceError(ErrorCode.AGENT_UNAVAILABLE, `the agent did not answer: ${errorMessage(err)}`, {
      hint: 'check `alice status`; restart the agent (`alice service restart`) if its heartbeat is stale',
    });
  }
  if (res.ok) return { result: res.result, meta: res.meta };
  const e = res.error;
  if (isCode(e.code))
    throw new AliceError(e.code, e.message, {
      ...(e.hint === undefined ? {} : { hint: e.hint }),
      details: e.details ?? [],
    });
  throw new Error(`agent: ${e.message}`);
}
