/** `alice events tail [--since ID|TIME] [--type TYPE]... [--follow] [--json]`. */
import type { Command } from 'commander';
import { eventSettingsFromEnv } from '../../events/event-settings.js';
import { formatEvent } from '../../events/event.model.js';
import { tailEvents } from '../../events/event-reader.service.js';
import type { CliContext } from '../context.js';
import { printLine, type Rendered } from '../render.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerEventsCommands(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  const events = program
    .command('events')
    .description('the library event log (file backend, or Redis Streams with USE_REDIS_EVENTS=true)');
  events
    .command('tail')
    .description('print events, oldest first; --follow keeps printing new ones until Ctrl-C')
    .option('--since <id|time>', 'only events after this event id or ISO time (e.g. 2026-11-30T10:00:00Z)')
    .option('--type <type>', 'only this type (repeatable; prefixes like asset.* work)', collect, [])
    .option('-f, --follow', 'keep following new events')
    .action((o: { since?: string; type: string[]; follow?: boolean }) =>
      run(async (ctx) => {
        const config = ctx.config();
        const s = eventSettingsFromEnv(process.env, config.settings.events);
        const controller = new AbortController();
        const stop = (): void => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        let count = 0;
        try {
          const source = { home: config.home, backend: s.backend, redisUrl: s.redisUrl, stream: s.stream };
          const opts = {
            ...(o.since === undefined ? {} : { since: o.since }),
            ...(o.type.length === 0 ? {} : { types: o.type }),
            follow: o.follow === true,
            signal: controller.signal,
          };
          for await (const e of tailEvents(source, opts)) {
            printLine(ctx.json ? JSON.stringify(e) : formatEvent(e));
            count++;
          }
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
        return { data: undefined, text: ctx.json || count > 0 ? [] : ['no events'], exitCode: 0 };
      }),
    );
}
