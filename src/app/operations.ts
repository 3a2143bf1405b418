/**
 * Every library operation by name. The CLI runs them in-process when the agent is not running, and
 * the agent serves the same table over its control socket, so both paths give the same results.
 * Each feature keeps its operations in `ops/<feature>.ops.ts`; add the table to OPERATIONS.
 */
import { AliceError, ErrorCode } from '../domain/errors.js';
import { INDEX_OPS } from './ops/index.ops.js';
import { MCP_OPS } from './ops/mcp.ops.js';
import { MIGRATE_OPS } from './ops/migrate.ops.js';
import { PROJECT_OPS } from './ops/project.ops.js';
import { SEARCH_OPS } from './ops/search.ops.js';
import { SERVE_OPS } from './ops/serve.ops.js';
import { TAG_OPS } from './ops/tag.ops.js';
import { TRASH_OPS } from './ops/trash.ops.js';
import { UNDERSTAND_OPS } from './ops/understand.ops.js';
import type { OpContext, Operation } from './ops/op.js';

export type { OpContext, Operation } from './ops/op.js';

export const OPERATIONS = {
  ...INDEX_OPS,
  ...MCP_OPS,
  ...MIGRATE_OPS,
  ...PROJECT_OPS,
  ...SEARCH_OPS,
  ...SERVE_OPS,
  ...TAG_OPS,
  ...TRASH_OPS,
  ...UNDERSTAND_OPS,
};

export type OperationName = keyof typeof OPERATIONS;

/** What operation `N` resolves to (in-process; through the socket it is the same value as JSON). */
export type OperationResult<N extends OperationName> = Awaited<ReturnType<(typeof OPERATIONS)[N]['run']>>;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(OPERATIONS, name);
}

/** Validates untrusted params and runs the operation. */
export async function runOperation(ctx: OpContext, name: string, rawParams: unknown): Promise<unknown> {
  if (!isOperationName(name)) throw new AliceError(ErrorCode.INVALID_INPUT, `unknown operation ${name}`);
  const operation = OPERATIONS[name] as Operation<unknown>;
  const parsed = operation.params.safeParse(rawParams ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AliceError(
      ErrorCode.INVALID_INPUT,
      `invalid parameters for ${name}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  return operation.run(ctx, parsed.data);
}
