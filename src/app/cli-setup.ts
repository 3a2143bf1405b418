/**
 * Wires adapters into every in-process container the CLI creates, and registers the commands
 * that later features add. Kept apart from main.ts so features plug in without touching it.
 */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { registerAgentCommands } from '../cli/commands/agent.command.js';
import { registerEventsCommands } from '../cli/commands/events.command.js';
import { registerServiceCommands } from '../cli/commands/service.command.js';
import { registerMcpCommand } from '../cli/commands/mcp.command.js';
import { registerMigrateCommand } from '../cli/commands/migrate.command.js';
import { registerProjectCommands } from '../cli/commands/project.command.js';
import { registerSearchCommands } from '../cli/commands/search.command.js';
import { registerTagCommands } from '../cli/commands/tag.command.js';
import type { Rendered } from '../cli/render.js';

export function setupCli(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  // Features register their commands here.
  registerAgentCommands(program, run);
  registerEventsCommands(program, run);
  registerServiceCommands(program, run);
  registerProjectCommands(program, run);
  registerMigrateCommand(program, run);
  registerMcpCommand(program, run);
  registerSearchCommands(program, run);
  registerTagCommands(program, run);
}
