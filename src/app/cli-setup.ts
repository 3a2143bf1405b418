/**
 * Wires adapters into every in-process container the CLI creates, and registers the commands
 * that later features add. Kept apart from main.ts so features plug in without touching it.
 */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import type { Rendered } from '../cli/render.js';

export function setupCli(
  _program: Command,
  _run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  // Features register their commands here.
}
