/** The one place commands are registered (in `alice --help` order), so main.ts never changes for a feature. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerAgentCommands } from './agent.command.js';
import { registerCompletionCommand } from './completion.command.js';
import { registerEventsCommands } from './events.command.js';
import { registerIndexCommands } from './index.command.js';
import { registerRootCommands } from './root.command.js';
import { registerServiceCommands } from './service.command.js';
import { registerMcpCommand } from './mcp.command.js';
import { registerMigrateCommand } from './migrate.command.js';
import { registerProjectCommands } from './project.command.js';
import { registerSearchCommands } from './search.command.js';
import { registerServeCommand } from './serve.command.js';
import { registerShowCommand } from './show.command.js';
import { registerTagCommands } from './tag.command.js';
import { registerUnderstandCommand } from './understand.command.js';
import type { Rendered } from '../render.js';

export function setupCli(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  registerIndexCommands(program, run);
  registerRootCommands(program, run);
  registerShowCommand(program, run);
  registerAgentCommands(program, run);
  registerEventsCommands(program, run);
  registerServiceCommands(program, run);
  registerProjectCommands(program, run);
  registerMigrateCommand(program, run);
  registerMcpCommand(program, run);
  registerSearchCommands(program, run);
  registerServeCommand(program, run);
  registerTagCommands(program, run);
  registerUnderstandCommand(program, run);
  // Last: it reads the command tree the others built.
  registerCompletionCommand(program, run);
}
