/**
 * Operations the MCP server needs beyond the CLI's: `index.status`, the index's asset counts. It
 * is an operation (not a direct read) so it goes through the agent while the agent owns the index.
 */
import { z } from 'zod';
import { op } from './op.js';

/** Asset counts of the index (what `index_status` reports next to the agent's health). */
export interface IndexCounts {
  assets: number;
  present: number;
  missing: number;
  locations: number;
  /** Content hashes present at more than one path. */
  duplicates: number;
  /** Files that could not be read or decoded. */
  errors: number;
}

export const MCP_OPS = {
  'index.status': op(z.object({}).strict(), false, async (ctx): Promise<IndexCounts> =>
    (await ctx.container.repo()).counts(
      ctx.container.config.roots.filter((r) => r.kind === 'project').map((r) => r.path),
    ),
  ),
};
