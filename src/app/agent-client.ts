/** Talks to the running agent over its control socket; `undefined` when no agent is running. */
import { callSocket, NoAgentError } from '../adapters/socket.adapter.js';
import type { Config } from '../config/config.js';
import { AliceError, ErrorCode, type ErrorCode as Code } from '../domain/errors.js';

function isCode(code: string): code is Code {
  return Object.values(ErrorCode).includes(code as Code);
}

/** Runs `op` in the agent. Returns undefined when no agent listens; rethrows its errors as AliceErrors. */
export async function callAgent(
  config: Config,
  op: string,
  params: unknown,
  timeoutMs?: number,
  opts: { confine?: boolean } = {},
): Promise<{ result: unknown } | undefined> {
  let res;
  try {
    res = await callSocket(config.paths.socket, op, params, timeoutMs, opts.confine ?? true);
  } catch (err) {
    if (err instanceof NoAgentError) return undefined;
    throw new AliceError(
      ErrorCode.AGENT_UNAVAILABLE,
      `the agent did not answer: ${err instanceof Error ? err.message : String(err)}`,
      {
        hint: 'check `alice status`; restart the agent if its heartbeat is stale',
      },
    );
  }
  if (res.ok) return { result: res.result };
  const e = res.error;
  if (isCode(e.code))
    throw new AliceError(e.code, e.message, {
      ...(e.hint === undefined ? {} : { hint: e.hint }),
      details: e.details ?? [],
    });
  throw new Error(`agent: ${e.message}`);
}
