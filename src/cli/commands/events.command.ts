/** `alice events tail [-n N] [--since ID|TIME] [--type TYPE]... [--follow] [--json]`. */
import { InvalidArgumentError, type Command } from 'commander';
import { eventSettingsFromEnv } from '../../events/event-settings.js';
import { formatEvent } from '../../events/event.model.js';
import { readEvents, tailEvents } from '../../events/event-reader.service.js';
import type { AliceEvent } from '../../events/event.model.js';
import type { CliContext } from '../context.js';
import { printLine, type Rendered } from '../render.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function count(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return Number(value);
}

/** The last `n` of the events there are now (a ring of `n`, so a long log is never held whole). */
async function lastEvents(events: AsyncIterable<AliceEvent>, n: number): Promise<AliceEvent[]> {
  const ring: AliceEvent[] = [];
  if (n === 0) return ring;
  for await (const e of events) {
    ring.push(e);
    if (ring.length > n) ring.shift();
  }
  return ring;
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
    .option('-n, --lines <n>', 'only the last N events (then new ones with --follow)', count)
    .option('-f, --follow', 'keep following new events')
    .action((o: { since?: string; type: string[]; follow?: boolean; lines?: number }) =>
      run(async (ctx) => {
        const config = ctx.config();
        const s = eventSettingsFromEnv(process.env, config.settings.events);
        const controller = new AbortController();
        const stop = (): void => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        let shown = 0;
        try {
          const source = { home: config.home, backend: s.backend, redisUrl: s.redisUrl, stream: s.stream };
          const opts = {
            ...(o.since === undefined ? {} : { since: o.since }),
            ...(o.type.length === 0 ? {} : { types: o.type }),
            follow: o.follow === true,
            signal: controller.signal,
          };
          const print = (e: AliceEvent): void => {
            printLine(ctx.json ? JSON.stringify(e) : formatEvent(e));
            shown++;
          };
          if (o.lines === undefined) {
            for await (const e of tailEvents(source, opts)) print(e);
          } else {
            const last = await lastEvents(readEvents(source, opts), o.lines);
            last.forEach(print);
            if (opts.follow) {
              // Follow from the last event there was (the ones before it were skipped on purpose).
              const since =
                last.at(-1)?.id ?? (await lastEvents(readEvents(source, opts), 1))[0]?.id ?? o.since;
              const rest = { ...opts, ...(since === undefined ? {} : { since }) };
              for await (const e of tailEvents(source, rest)) print(e);
            }
          }
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
        return { data: undefined, text: ctx.json || shown > 0 ? [] : ['no events'], exitCode: 0 };
      }),
    );
}
