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
  /** Facts about the answers (e.g. the agent is still building the index), printed after them. */
  readonly notices: string[] = [];
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
    // Through a running agent only the socket client is loaded (not the operations behind it).
    const { callAgent } = await import('../app/agent-client.js');
    if (local.direct !== true) {
      const remote = await callAgent(config, op, params, undefined, {
        confine: false,
        onProgress: (m) => {
          // The agent's progress, drawn by the same bar as an in-process run.
          if (m.kind === 'start') this.progress.start(m.label, m.total);
          else if (m.kind === 'tick') this.progress.tick(m.n, m.detail);
          else this.progress.done();
        },
      });
      if (remote !== undefined) {
        const notice = buildingNotice(remote.meta);
        if (notice !== undefined) this.notices.push(notice);
        return remote.result as OperationResult<N>;
      }
    }
    const { OPERATIONS, runOperation } = await import('../app/operations.js');
    const { createContainer } = await import('../app/compose.js');
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

/** "index is being built: 1,234 of 5,000 files, results may be incomplete" from an answer's meta. */
export function buildingNotice(meta: Record<string, unknown> | undefined): string | undefined {
  const b = meta?.['building'];
  if (typeof b !== 'object' || b === null) return undefined;
  const { phase, done, total } = b as { phase?: unknown; done?: unknown; total?: unknown };
  const n = (v: number): string => v.toLocaleString('en-US');
  const of =
    typeof done !== 'number'
      ? ''
      : typeof total === 'number'
        ? `: ${n(done)} of ${n(total)} files`
        : `: ${n(done)} files`;
  const what = typeof phase === 'string' && of !== '' ? ` (${phase})` : '';
  return `index is being built${of}${what}, results may be incomplete`;
}

/** Makes a `<file|hash>` argument absolute when it is a path, so the agent resolves it the same way. */
export function absRef(ref: string): string {
  return /^[0-9a-fA-F]{8,64}$/.test(ref) ? ref.toLowerCase() : path.resolve(ref);
}
