/**
 * Every library operation by name. The CLI runs them in-process when the agent is not running, and
 * the agent serves the same table over its control socket, so both paths give the same results.
 */
import { z } from 'zod';
import { AliceError, ErrorCode } from '../domain/errors.js';
import type { Progress } from '../services/ports.js';
import { indexRebuild, indexUpdate, indexVerify } from '../services/index-ops.js';
import type { Container } from './container.js';

export interface OpContext {
  readonly container: Container;
  readonly progress: Progress;
  /** Working directory of the caller, for relative paths. */
  readonly cwd: string;
  /** True when the caller is a remote client (socket): paths are confined to the roots. */
  readonly remote: boolean;
}

export interface Operation<P> {
  readonly params: z.ZodType<P>;
  /** Writes the library: in-process runs need a writable index. */
  readonly writes: boolean;
  run(ctx: OpContext, params: P): Promise<unknown>;
}

function op<P>(
  params: z.ZodType<P>,
  writes: boolean,
  run: (ctx: OpContext, params: P) => Promise<unknown>,
): Operation<P> {
  return { params, writes, run };
}

export const OPERATIONS = {
  'index.update': op(
    z.object({ dryRun: z.boolean().default(false), allowMassDelete: z.boolean().default(false) }),
    true,
    (ctx, p) => indexUpdate(ctx.container, { ...p, progress: ctx.progress }),
  ),
  'index.rebuild': op(
    z.object({ dryRun: z.boolean().default(false), verify: z.boolean().default(false) }),
    true,
    (ctx, p) => indexRebuild(ctx.container, { ...p, progress: ctx.progress }),
  ),
  'index.verify': op(z.object({ full: z.boolean().default(false) }), false, (ctx, p) =>
    indexVerify(ctx.container, { ...p, progress: ctx.progress }),
  ),
  'asset.show': op(z.object({ ref: z.string().min(1) }), false, async (ctx, p) =>
    (await ctx.container.assetsService()).record(p.ref, ctx.cwd),
  ),
} as const;

export type OperationName = keyof typeof OPERATIONS;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(OPERATIONS, name);
}

/** Validates untrusted params and runs the operation. */
export async function runOperation(ctx: OpContext, name: string, rawParams: unknown): Promise<unknown> {
  if (!isOperationName(name)) throw new Error(`unknown operation ${name}`);
  const operation = OPERATIONS[name] as Operation<unknown>;
  const parsed = operation.params.safeParse(rawParams ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AliceError(
      ErrorCode.INVALID_INPUT,
      `invalid parameters for ${name}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  const params = parsed.data;
  return operation.run(ctx, params);
}
