/**
 * Reading events back from whichever backend is configured: `readEvents` (what is there now) and
 * `followEvents` (then everything new until the signal aborts). Backs `alice events tail`.
 */
import path from 'node:path';
import type { RedisStreamPort, StreamEntry } from '../adapters/redis.adapter.js';
import { AliceError, ErrorCode } from '../domain/errors.js';
import { decodeEventLine, decodeEventLines } from './event-line.js';
import type { AliceEvent } from './event.model.js';
import { compileQuery, type EventMatcher, type EventQuery, RecentIds } from './event-query.js';
import type { EventBackend } from './event-settings.js';
import { dayOfFile, eventsDirOf, fileSize, listDayFiles, readCompleteLines } from './file-log.store.js';

/** Where events are read from (a subset of `EventSettings` plus `$ALICE_HOME`). */
export interface EventSource {
  home: string;
  backend: EventBackend;
  redisUrl: string;
  stream: string;
}

/** Options of `followEvents`. */
export interface FollowOptions extends EventQuery {
  signal: AbortSignal;
  /** File backend: how often the log is checked for new lines, ms. Default 250. */
  pollMs?: number | undefined;
}

/** Options of `tailEvents`, the `alice events tail` use case. */
export interface TailOptions extends EventQuery {
  follow?: boolean | undefined;
  /** Required to stop a follow; without it a follow runs until the process ends. */
  signal?: AbortSignal | undefined;
}

const DAY_MS = 86_400_000;
const PAGE = 500;
/** Redis entry ids come from the server clock; start ranges this much early to allow for skew. */
const REDIS_SKEW_MS = 5 * 60_000;

/** `alice events tail`: the matching events, then (with `follow`) new ones as they arrive. */
export function tailEvents(source: EventSource, opts: TailOptions = {}): AsyncGenerator<AliceEvent> {
  if (opts.follow !== true) return readEvents(source, opts);
  return followEvents(source, { ...opts, signal: opts.signal ?? new AbortController().signal });
}

/** The events there are now, oldest first, filtered by `query`, each id once. */
export async function* readEvents(source: EventSource, query: EventQuery = {}): AsyncGenerator<AliceEvent> {
  const matcher = compileQuery(query);
  const recent = new RecentIds();
  if (source.backend !== 'redis') {
    yield* readFileLog(eventsDirOf(source.home), matcher, recent);
    return;
  }
  const redis = await connectReader(source);
  try {
    yield* readStream(redis, source.stream, matcher, recent, { last: undefined });
  } finally {
    await redis.close(true);
  }
}

/**
 * With `since`: the matching events there are, then new ones. Without: only events persisted
 * after the call. Ends when `signal` aborts.
 */
export async function* followEvents(source: EventSource, opts: FollowOptions): AsyncGenerator<AliceEvent> {
  const matcher = compileQuery(opts);
  const recent = new RecentIds();
  if (source.backend !== 'redis') {
    yield* followFileLog(eventsDirOf(source.home), matcher, recent, opts);
    return;
  }
  const redis = await connectReader(source);
  const abort = (): void => void redis.close(true);
  opts.signal.addEventListener('abort', abort, { once: true });
  try {
    yield* followStream(redis, source.stream, matcher, recent, opts);
  } finally {
    opts.signal.removeEventListener('abort', abort);
    await redis.close(true);
  }
}

async function* readFileLog(
  dir: string,
  matcher: EventMatcher,
  recent: RecentIds,
): AsyncGenerator<AliceEvent> {
  const fromDay = startOfDay(matcher.fromMs) - DAY_MS;
  for (const name of await listDayFiles(dir)) {
    if ((dayOfFile(name) ?? 0) < fromDay) continue;
    const file = path.join(dir, name);
    for (let offset = 0; ;) {
      const chunk = await readCompleteLines(file, offset);
      if (chunk.text === '') break;
      for (const event of decodeEventLines(chunk.text).events) {
        if (matcher.matches(event) && recent.add(event.id)) yield event;
      }
      offset = chunk.next;
    }
  }
}

async function* followFileLog(
  dir: string,
  matcher: EventMatcher,
  recent: RecentIds,
  opts: FollowOptions,
): AsyncGenerator<AliceEvent> {
  const hasSince = opts.since !== undefined && opts.since !== '';
  // Yesterday's file stays watched: a batch emitted before midnight can land after it.
  let fromDay = startOfDay(hasSince ? matcher.fromMs : Date.now()) - DAY_MS;
  const offsets = new Map<string, number>();
  if (!hasSince) {
    for (const name of await listDayFiles(dir)) offsets.set(name, await fileSize(path.join(dir, name)));
  }
  while (!opts.signal.aborted) {
    for (const name of await listDayFiles(dir)) {
      if ((dayOfFile(name) ?? 0) < fromDay) continue;
      let offset = offsets.get(name) ?? 0;
      for (;;) {
        const chunk = await readCompleteLines(path.join(dir, name), offset);
        if (chunk.text === '') break;
        for (const event of decodeEventLines(chunk.text).events) {
          if (matcher.matches(event) && recent.add(event.id)) yield event;
        }
        offset = chunk.next;
      }
      offsets.set(name, offset);
    }
    fromDay = Math.max(fromDay, startOfDay(Date.now()) - DAY_MS);
    await sleep(opts.pollMs ?? 250, opts.signal);
  }
}

/** Pages through the stream with XRANGE; records the last entry id seen in `cursor`. */
async function* readStream(
  redis: RedisStreamPort,
  stream: string,
  matcher: EventMatcher,
  recent: RecentIds,
  cursor: { last: string | undefined },
): AsyncGenerator<AliceEvent> {
  let start = matcher.fromMs > 0 ? `${Math.max(0, matcher.fromMs - REDIS_SKEW_MS)}-0` : '-';
  for (;;) {
    const entries = await redis.xrange(stream, start, '+', PAGE);
    for (const entry of entries) {
      cursor.last = entry.streamId;
      const event = decodeEntry(entry);
      if (event !== undefined && matcher.matches(event) && recent.add(event.id)) yield event;
    }
    const last = entries.at(-1);
    if (last === undefined || entries.length < PAGE) return;
    start = `(${last.streamId}`;
  }
}

async function* followStream(
  redis: RedisStreamPort,
  stream: string,
  matcher: EventMatcher,
  recent: RecentIds,
  opts: FollowOptions,
): AsyncGenerator<AliceEvent> {
  const cursor: { last: string | undefined } = { last: undefined };
  if (opts.since !== undefined && opts.since !== '') {
    yield* readStream(redis, stream, matcher, recent, cursor);
  } else {
    cursor.last =
      (await redis.command(['XREVRANGE', stream, '+', '-', 'COUNT', '1']).then(firstEntryId)) ?? '0-0';
  }
  let after =
    cursor.last ?? (matcher.fromMs > 0 ? `${Math.max(0, matcher.fromMs - REDIS_SKEW_MS - 1)}-0` : '0-0');
  while (!opts.signal.aborted) {
    let entries: StreamEntry[];
    try {
      entries = await redis.xread(stream, after, 1000, PAGE);
    } catch {
      // Redis went away: keep following; the client reconnects in the background.
      await sleep(500, opts.signal);
      continue;
    }
    for (const entry of entries) {
      after = entry.streamId;
      const event = decodeEntry(entry);
      if (event !== undefined && matcher.matches(event) && recent.add(event.id)) yield event;
    }
  }
}

function decodeEntry(entry: StreamEntry): AliceEvent | undefined {
  const json = entry.fields['json'];
  return json === undefined ? undefined : decodeEventLine(json);
}

function firstEntryId(reply: unknown): string | undefined {
  const first: unknown = Array.isArray(reply) ? reply[0] : undefined;
  const id: unknown = Array.isArray(first) ? first[0] : undefined;
  return typeof id === 'string' ? id : undefined;
}

async function connectReader(source: EventSource): Promise<RedisStreamPort> {
  const { openRedis } = await import('../adapters/redis.adapter.js');
  const redis = openRedis({ url: source.redisUrl });
  if (await redis.waitReady(3000)) return redis;
  await redis.close(true);
  throw new AliceError(ErrorCode.EVENTS_UNAVAILABLE, `cannot reach Redis at ${source.redisUrl}`, {
    hint: 'start redis-server, fix REDIS_URL, or unset USE_REDIS_EVENTS to read the file log',
  });
}

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
