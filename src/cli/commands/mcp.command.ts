/** `alice mcp`: the Model Context Protocol server over stdio (host wiring in app/mcp-host.ts). */
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
        const { mcpEnv, mcpInvoker } = await import('../../app/mcp-host.js');
        const { serveStdio } = await import('../../mcp/server.js');
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

/** Anything a library prints with console.log would corrupt the protocol: send it to stderr. */
export function keepStdoutForProtocol(): void {
  const toStderr = (...args: unknown[]): void => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}
