/** `alice mcp`: the Model Context Protocol server over stdio (implementation in mcp-run.ts). */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { Rendered } from '../render.js';

export function registerMcpCommand(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  program
    .command('mcp')
    .description(
      'serve the library to an AI assistant over the Model Context Protocol (stdio): search, similar, tags, projects, status',
    )
    .action(() =>
      run(async (ctx) => {
        // The MCP SDK and the index libraries load only for this command.
        const { keepStdoutForProtocol, mcpEnv, mcpInvoker, serveStdio } = await import('./mcp-run.js');
        keepStdoutForProtocol();
        const config = ctx.config();
        const invoker = mcpInvoker(config);
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await serveStdio(mcpEnv(config, invoker.invoke, ctx.verbose), { stop: stop.signal });
          await invoker.drain();
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        return { data: undefined, text: [] };
      }),
    );
}
