/**
 * The event bus every producer uses: `emit` never blocks and never throws; one loop persists
 * queued events in order through the configured backend (file log, or Redis with an outbox).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../domain/errors.js';
import { EventIdGenerator } from './event-id.js';
import { encodeEventLine } from './event-line.js';
import type { AliceEvent, EventPayloads, EventType } from './event.model.js';
import type { EventBackend } from './event-settings.js';
import type { EventLogger, EventPublisher, QueuedEvent } from './event-publisher.js';
import { FileSink } from './file-sink.publisher.js';
import { applyRetention, eventsDirOf, readClock, writeClock } from './file-log.store.js';
import { RedisSink } from './redis-sink.publisher.js';

/** Producers' view of the events subsystem. */
export interface EventBus {
  /** Queues an event. Never blocks on I/O and never throws; problems go to the logger. */
  emit<T extends EventType>(type: T, payload: EventPayloads[T]): void;
  /** Resolves once every event emitted before the call is persisted (log, stream or outbox). */
  flush(): Promise<void>;
  /** Flushes, stops timers and closes the backend. Idempotent; later emits are dropped. */
  close(): Promise<void>;
  /** Events not yet where consumers read them: in memory plus the Redis outbox. For status. */
  backlog(): number;
}

/** Options of `createEventBus`. */
export interface EventBusOptions {
  /** `$ALICE_HOME`; events live in `<home>/events`. */
  home: string;
  backend: EventBackend;
  redisUrl: string;
  stream: string;
  maxLen: number;
  retentionDays: number;
  logger?: EventLogger | undefined;
  /** Clock, for tests. Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Events kept in memory at most while the backend is failing; more are dropped (and logged). */
  maxQueue?: number | undefined;
  /** Wait this long for Redis at start before events go to the outbox, ms. Default 1000. */
  redisConnectWaitMs?: number | undefined;
}

const BATCH = 500;
const RETRY_MS = 1000;
/**
 * A new event waits this long for others before the loop persists them: a scan that emits one
 * event per file then writes the clock and the log once per few dozen events, not once per event.
 */
const COALESCE_MS = 25;
const DAY_MS = 86_400_000;

/**
 * Builds the bus: seeds the id clock from `<home>/events/last-id`, applies file retention, and for
 * Redis counts the outbox and connects (waiting up to `redisConnectWaitMs`).
 */
export async function createEventBus(opts: EventBusOptions): Promise<EventBus> {
  const dir = eventsDirOf(opts.home);
  const logger = opts.logger ?? (() => undefined);
  const now = opts.now ?? Date.now;
  const ids = new EventIdGenerator(now, randomBytes(2).toString('hex'));
  ids.seed(await readClock(dir));
  let sink: EventPublisher;
  let retention: (() => Promise<void>) | undefined;
  if (opts.backend === 'redis') {
    // Loaded only for the redis backend: the client library is heavy to import.
    const { openRedis } = await import('../adapters/redis.adapter.js');
    const redis = openRedis({ url: opts.redisUrl, onError: (m) => logger('warn', m) });
    const redisSink = new RedisSink({
      redis,
      stream: opts.stream,
      maxLen: opts.maxLen,
      outboxFile: path.join(dir, 'outbox.jsonl'),
      logger,
    });
    await redisSink.start();
    await redis.waitReady(opts.redisConnectWaitMs ?? 1000);
    sink = redisSink;
  } else {
    sink = new FileSink(dir);
    retention = async () => {
      const removed = await applyRetention(dir, opts.retentionDays, now());
      if (removed.length > 0) logger('info', `events retention removed ${removed.join(', ')}`);
    };
  }
  const bus = new QueuedEventBus({
    sink,
    ids,
    dir,
    now,
    logger,
    maxQueue: opts.maxQueue ?? 1_000_000,
    retention,
  });
  await bus.start();
  return bus;
}

interface BusDeps {
  sink: EventPublisher;
  ids: EventIdGenerator;
  dir: string;
  now: () => number;
  logger: EventLogger;
  maxQueue: number;
  retention: (() => Promise<void>) | undefined;
}

class QueuedEventBus implements EventBus {
  private readonly queue: QueuedEvent[] = [];
  private readonly host = os.hostname();
  private loop: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private lastError: unknown;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private dropped = 0;

  constructor(private readonly deps: BusDeps) {}

  async start(): Promise<void> {
    this.deps.sink.onWake(() => this.kick());
    // While an outbox waits for Redis, try it now and then even if no new event arrives.
    this.timers.push(
      setInterval(() => (this.deps.sink.backlog() > 0 ? this.kick() : undefined), RETRY_MS).unref(),
    );
    const retention = this.deps.retention;
    if (retention !== undefined) {
      await retention().catch((err: unknown) =>
        this.deps.logger('warn', `events retention: ${errorMessage(err)}`),
      );
      const daily = (): void =>
        void retention().catch((err: unknown) =>
          this.deps.logger('warn', `events retention: ${errorMessage(err)}`),
        );
      this.timers.push(setInterval(daily, DAY_MS).unref());
    }
    this.kick();
  }

  emit<T extends EventType>(type: T, payload: EventPayloads[T]): void {
    try {
      if (this.closed) return this.deps.logger('warn', `event ${type} emitted after close: dropped`);
      if (this.queue.length >= this.deps.maxQueue) return this.drop(type);
      const timeMs = this.deps.now();
      const event: AliceEvent = {
        id: this.deps.ids.next(),
        type,
        time: new Date(timeMs).toISOString(),
        host: this.host,
        pid: process.pid,
        payload,
      };
      // Encoding now snapshots the payload: later mutation by the caller cannot change the event.
      this.queue.push({ id: event.id, type, timeMs, line: encodeEventLine(event) });
      this.kick();
    } catch (err) {
      this.deps.logger('error', `event ${type} not emitted: ${errorMessage(err)}`);
    }
  }

  async flush(): Promise<void> {
    const target = this.queue.at(-1)?.id;
    for (;;) {
      const head = this.queue[0];
      if (target === undefined || head === undefined || head.id > target) break;
      if (this.closed) throw new Error(`event bus closed with ${this.queue.length} events not persisted`);
      if (this.retryTimer !== undefined)
        throw new Error(`events not persisted: ${errorMessage(this.lastError)}`);
      this.kick(true);
      await this.loop;
    }
    await this.loop;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } catch (err) {
      this.deps.logger('error', `${this.queue.length} events lost at close: ${errorMessage(err)}`);
    }
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.startTimer);
    clearTimeout(this.retryTimer);
    await this.loop;
    await this.deps.sink.close();
  }

  backlog(): number {
    return this.queue.length + this.deps.sink.backlog();
  }

  /**
   * Starts the loop unless it runs or waits for a retry; a running loop picks up new work. Unless
   * `now`, a few events are given COALESCE_MS to be joined by others first.
   */
  private kick(now = false): void {
    if (this.closed || this.retryTimer !== undefined) return;
    if (this.loop !== undefined) {
      this.again = true;
      return;
    }
    if (!now && this.queue.length < BATCH) {
      this.startTimer ??= setTimeout(() => {
        this.startTimer = undefined;
        this.kick(true);
      }, COALESCE_MS);
      return;
    }
    clearTimeout(this.startTimer);
    this.startTimer = undefined;
    this.again = false;
    this.loop = this.run()
      .catch((err: unknown) => this.deps.logger('error', `event loop: ${errorMessage(err)}`))
      .finally(() => {
        this.loop = undefined;
        if (this.again || this.queue.length > 0) this.kick(true);
      });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, BATCH);
      try {
        const last = batch[batch.length - 1];
        // The clock goes first, so it is never behind an event that reached a log after a crash.
        if (last !== undefined) await writeClock(this.deps.dir, last.id);
        await this.deps.sink.deliver(batch);
        this.queue.splice(0, batch.length);
      } catch (err) {
        return this.scheduleRetry(err);
      }
    }
    await this.deps.sink.idle();
  }

  private scheduleRetry(err: unknown): void {
    this.lastError = err;
    this.deps.logger('error', `events not persisted, retrying in ${RETRY_MS} ms: ${errorMessage(err)}`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  private drop(type: string): void {
    this.dropped += 1;
    // Log the first drop and then every 10,000th, not once per event.
    if (this.dropped % 10_000 === 1)
      this.deps.logger('error', `event queue full: dropped ${this.dropped} events (latest ${type})`);
  }
}
