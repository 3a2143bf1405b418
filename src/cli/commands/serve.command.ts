/**
 * `alice serve`: the web page in the foreground (search, look, compare and curate). Operations go
 * through the running agent when there is one, else in-process per request, like every command.
 */
import type { Command } from 'commander';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import type { CliContext } from '../context.js';
import { printLine, type Rendered } from '../render.js';

interface ServeFlags {
  port?: string;
  host?: string;
  open?: boolean;
}

function portOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new AliceError(ErrorCode.INVALID_INPUT, `--port: not a port number: ${v}`, {
      hint: 'give 1-65535, or 0 for any free port',
    });
  return n;
}

export function registerServeCommand(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  program
    .command('serve')
    .description(
      'serve the library as a local web page: search, asset pages, duplicates, trash, projects, status',
    )
    .option('--port <n>', 'port to listen on (default: serve.port, 7878; 0 picks a free one)')
    .option(
      '--host <address>',
      'listen on this address instead of 127.0.0.1 and ::1 (needs the token of serve.token_env)',
    )
    .option('--open', 'open the page in the browser')
    .action((flags: ServeFlags) =>
      run(async (ctx) => {
        const { openInBrowser, startWebServer } = await import('../../app/web-server.js');
        const { remoteInvoker } = await import('../../app/invoker.js');
        const config = ctx.config();
        const invoker = remoteInvoker(config);
        const port = portOf(flags.port);
        const server = await startWebServer(config, invoker.invoke, {
          ...(port === undefined ? {} : { port }),
          ...(flags.host === undefined ? {} : { host: flags.host }),
          log: (level, message) => {
            if (level !== 'info' || ctx.verbose) printLine(`alice serve: ${level}: ${message}`);
          },
        });
        const url = server.url;
        if (ctx.json) printLine(JSON.stringify({ url, port: server.port }));
        else printLine(`alice serve: ${url} (Ctrl-C stops)`);
        if (flags.open === true && !(await openInBrowser(url)))
          printLine(`alice serve: could not open a browser; open ${url} yourself`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
        await invoker.drain();
        return { data: undefined, text: [] };
      }),
    );
}
