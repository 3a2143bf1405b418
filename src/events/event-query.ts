/** Which events a reader wants: `--since ID|TIME` and `--type TYPE`. Pure. */
import { AliceError, ErrorCode } from '../domain/errors.js';
import type { AliceEvent } from './event.model.js';
import { eventIdMs, isEventId, lowerBoundId } from './event-id.js';

/** A reader's filter. */
export interface EventQuery {
  /** An event id (events after it, exclusive) or an ISO 8601 time (events at or after it). */
  since?: string | undefined;
  /** Only these types; a value ending in `.*` matches a prefix (`asset.*`). Empty or absent: all. */
  types?: readonly string[] | undefined;
}

/** A parsed query, ready to test events. */
export interface EventMatcher {
  /** The smallest id of interest (ms part usable to skip whole files or stream ranges). */
  readonly fromMs: number;
  matches(event: AliceEvent): boolean;
}

/** Parses a query; a `since` that is neither an id nor a time is an `INVALID_INPUT` error. */
export function compileQuery(query: EventQuery = {}): EventMatcher {
  const since = query.since?.trim();
  let after: ((id: string) => boolean) | undefined;
  let fromMs = 0;
  if (since !== undefined && since !== '') {
    if (isEventId(since)) {
      after = (id) => id > since;
      fromMs = eventIdMs(since);
    } else {
      const ms = Date.parse(since);
      if (Number.isNaN(ms)) {
        throw new AliceError(ErrorCode.INVALID_INPUT, `--since: not an event id or a time: ${since}`, {
          hint: 'use an id like 1718000000000-000000-ab12 or a time like 2024-06-10T08:00:00Z',
        });
      }
      const bound = lowerBoundId(ms);
      after = (id) => id >= bound;
      fromMs = ms;
    }
  }
  const typeTest = compileTypes(query.types ?? []);
  return {
    fromMs,
    matches: (event) => (after === undefined || after(event.id)) && typeTest(event.type),
  };
}

function compileTypes(types: readonly string[]): (type: string) => boolean {
  if (types.length === 0) return () => true;
  const exact = new Set(types.filter((t) => !t.endsWith('.*')));
  const prefixes = types.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1));
  return (type) => exact.has(type) || prefixes.some((p) => type.startsWith(p));
}

/** Remembers the last `size` ids so at-least-once redeliveries are shown once. */
export class RecentIds {
  private readonly seen = new Set<string>();

  constructor(private readonly size = 10_000) {}

  /** True the first time `id` is offered. */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.size) {
      const oldest = this.seen.values().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
    return true;
  }
}
