#!/usr/bin/env node
/**
 * alice command line. Only this file exits the process. Exit codes: 0 ok, 1 problems found
 * (e.g. `index verify`), 2 error.
 */
import { Command, CommanderError } from 'commander';
import { setupCli } from './commands/register.js';
import { CliContext, type GlobalOptions } from './context.js';
import { print, printError, printNotices, type Rendered } from './render.js';
import { VERSION } from '../version.js';

// A reader that stops early (`alice dupes --json | head -1`) closes the pipe: that ends the command
// quietly, as it does for any Unix tool, instead of an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

const program = new Command();
program
  .name('alice')
  .description(
    'File-first library of AI-generated images and videos: content-addressed sidecars, a rebuildable DuckDB index, a resident agent.',
  )
  .version(VERSION)
  .option(
    '-c, --config <file>',
    'settings file (default: $ALICE_CONFIG, ./settings.yaml, $ALICE_HOME/settings.yaml)',
  )
  .option('--json', 'machine-readable JSON on stdout')
  .option('-v, --verbose', 'more detail, stack traces on errors')
  .option('--no-progress', 'no progress bar')
  .showHelpAfterError('(run with --help for usage)')
  // Every command's --help lists the global options too (--json, --config, --verbose).
  .configureHelp({ showGlobalOptions: true })
  .exitOverride();

async function run(fn: (ctx: CliContext) => Promise<Rendered>): Promise<void> {
  const opts = program.opts<GlobalOptions>();
  const ctx = new CliContext(opts);
  try {
    const result = await fn(ctx);
    printNotices(ctx.notices, ctx.json);
    print(result, ctx.json);
    process.exitCode = result.exitCode ?? 0;
  } catch (err) {
    printError(err, ctx.json, ctx.verbose);
    process.exitCode = 2;
  }
}

setupCli(program, run);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    printError(err, false, true);
    process.exitCode = 2;
  }
}
