/**
 * User-facing errors carry a stable code and a hint; bugs stay plain `Error`.
 * The CLI maps codes to exit codes and prints the hint.
 */
export const ErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_NOT_FOUND: 'CONFIG_NOT_FOUND',
  INDEX_LOCKED: 'INDEX_LOCKED',
  INDEX_CORRUPT: 'INDEX_CORRUPT',
  INDEX_MISSING: 'INDEX_MISSING',
  NOT_FOUND: 'NOT_FOUND',
  OUTSIDE_ROOTS: 'OUTSIDE_ROOTS',
  INVALID_INPUT: 'INVALID_INPUT',
  AGENT_UNAVAILABLE: 'AGENT_UNAVAILABLE',
  AGENT_RUNNING: 'AGENT_RUNNING',
  /** The agent's socket accepted the call but nothing came back before the deadline (stopped, hung). */
  AGENT_NOT_RESPONDING: 'AGENT_NOT_RESPONDING',
  MASS_DELETE: 'MASS_DELETE',
  PROJECT_INVALID: 'PROJECT_INVALID',
  PROJECT_NOT_FOUND: 'PROJECT_NOT_FOUND',
  EMBED_FAILED: 'EMBED_FAILED',
  DISK_FULL: 'DISK_FULL',
  UNSUPPORTED: 'UNSUPPORTED',
  /** The configured event backend (Redis) cannot be reached for reading. */
  EVENTS_UNAVAILABLE: 'EVENTS_UNAVAILABLE',
  /** A file could not be indexed: an unexpected error while reading or recording it (per file). */
  EINDEX: 'EINDEX',
  /** A file's bytes no longer match their recorded hash though size and mtime did (bit rot). */
  HASH_MISMATCH: 'HASH_MISMATCH',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AliceError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; details?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AliceError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details ?? [];
  }
}

export function isAliceError(err: unknown): err is AliceError {
  return err instanceof AliceError;
}

/** The errno code of a Node.js system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
