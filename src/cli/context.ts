/**
 * What every command gets: parsed global options, the configuration, and `invoke`, which runs an
 * operation through the running agent when there is one, or in-process otherwise.
 */
import path from 'node:path';
import type { OperationName, OperationResult } from '../app/operations.js';
import { loadConfig, type Config } from '../config/config.js';
import { isValidCronExpression } from '../domain/cron-expr.js';
import { NO_PROGRESS, type Progress } from '../ports.js';
import { terminalProgress } from './progress.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  progress?: boolean;
}

export class CliContext {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly progress: Progress;
  private cached: Config | undefined;

  constructor(private readonly opts: GlobalOptions) {
    this.json = opts.json === true;
    this.verbose = opts.verbose === true;
    this.progress = this.json || opts.progress === false ? NO_PROGRESS : terminalProgress();
  }

  config(): Config {
    this.cached ??= loadConfig({ configFile: this.opts.config, isValidCron: isValidCronExpression });
    return this.cached;
  }

  /**
   * Runs an operation: through the agent if it is running, else in-process. The result type is
   * the operation's (the agent runs the same table and answers with that value as JSON).
   */
  async invoke<N extends OperationName>(
    op: N,
    params: Record<string, unknown>,
    local: { direct?: boolean } = {},
  ): Promise<OperationResult<N>> {
    const config = this.config();
    // Loaded on demand: the index, image and metadata libraries are slow to import.
    const { callAgent } = await import('../app/agent-client.js');
    const { OPERATIONS, runOperation } = await import('../app/operations.js');
    const { createContainer } = await import('../app/compose.js');
    if (local.direct !== true) {
      const remote = await callAgent(config, op, params, undefined, { confine: false });
      if (remote !== undefined) return remote.result as OperationResult<N>;
    }
    const writes = OPERATIONS[op].writes && params['dryRun'] !== true;
    const container = await createContainer(config, { readOnly: !writes, events: writes });
    try {
      return (await runOperation(
        { container, progress: this.progress, cwd: process.cwd(), remote: false },
        op,
        params,
      )) as OperationResult<N>;
    } finally {
      await container.close();
    }
  }
}

/** Makes a `<file|hash>` argument absolute when it is a path, so the agent resolves it the same way. */
export function absRef(ref: string): string {
  return /^[0-9a-fA-F]{8,64}$/.test(ref) ? ref.toLowerCase() : path.resolve(ref);
}
