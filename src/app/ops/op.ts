/** The shape of a library operation, shared by the CLI (in-process) and the agent (socket). */
import type { z } from 'zod';
import type { Progress } from '../../ports.js';
import type { Container } from '../container.js';

export interface OpContext {
  readonly container: Container;
  readonly progress: Progress;
  /** Working directory of the caller, for relative paths. */
  readonly cwd: string;
  /** True when the caller is a remote client (socket, MCP): paths are confined to the roots. */
  readonly remote: boolean;
}

/** An operation taking parameters `P` (after its schema parsed them) and resolving to `R`. */
export interface Operation<P, R = unknown> {
  readonly params: z.ZodType<P>;
  /** Writes the library: in-process runs need a writable index. */
  readonly writes: boolean;
  run(ctx: OpContext, params: P): Promise<R>;
}

export function op<P, R>(
  params: z.ZodType<P>,
  writes: boolean,
  run: (ctx: OpContext, params: P) => Promise<R>,
): Operation<P, R> {
  return { params, writes, run };
}
