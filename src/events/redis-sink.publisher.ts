/**
 * The Redis Streams backend with a local outbox.
 *
 * Order rule: while the outbox (`$ALICE_HOME/events/outbox.jsonl`) holds anything, new events are
 * appended behind it; it is drained (oldest first) before any new event goes to Redis. So the
 * stream receives events in emit order even across outages and restarts. A batch whose `EXEC`
 * failed may still have reached Redis (the reply was lost), so it can arrive twice:
 * delivery is at-least-once and consumers drop duplicates by `id`.
 */
import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { RedisStreamPort } from '../adapters/redis.adapter.js';
import { errnoCode, errorMessage } from '../domain/errors.js';
import { decodeEventLine, decodeEventLines, encodeEventLine } from './event-line.js';
import type { EventLogger, EventPublisher, QueuedEvent } from './event-publisher.js';
import { appendLines, readCompleteLines } from './file-log.store.js';

const SEND_BATCH = 200;

/** Options of `RedisSink`. */
export interface RedisSinkOptions {
  redis: RedisStreamPort;
  stream: string;
  maxLen: number;
  outboxFile: string;
  logger: EventLogger;
}

/** The fields of one stream entry: `id`, `type` (for cheap filtering) and the full event `json`. */
type Entry = { id: string; type: string; json: string };

/** XADDs batches; falls back to the outbox file whenever Redis is not there. */
export class RedisSink implements EventPublisher {
  private outboxCount = 0;
  private failing = false;

  constructor(private readonly opts: RedisSinkOptions) {}

  /** Counts what a previous process left in the outbox; it is drained before anything new. */
  async start(): Promise<void> {
    let offset = 0;
    for (;;) {
      const chunk = await readCompleteLines(this.opts.outboxFile, offset);
      if (chunk.text === '') break;
      this.outboxCount += decodeEventLines(chunk.text).events.length;
      offset = chunk.next;
    }
    if (this.outboxCount > 0)
      this.opts.logger('info', `events outbox holds ${this.outboxCount} undelivered events`);
  }

  async deliver(batch: readonly QueuedEvent[]): Promise<void> {
    if (this.outboxCount > 0) await this.drain();
    const entries = batch.map((e) => ({ id: e.id, type: e.type, json: e.line.trimEnd() }));
    if (this.outboxCount === 0 && (await this.send(entries))) return;
    await appendLines(
      this.opts.outboxFile,
      batch.map((e) => e.line),
    );
    this.outboxCount += batch.length;
  }

  async idle(): Promise<void> {
    if (this.outboxCount > 0) await this.drain();
  }

  backlog(): number {
    return this.outboxCount;
  }

  onWake(listener: () => void): void {
    this.opts.redis.onReady(listener);
  }

  async close(): Promise<void> {
    await this.opts.redis.close();
  }

  /** Sends the outbox in order while Redis stays up; keeps whatever could not be sent. */
  private async drain(): Promise<void> {
    let offset = 0;
    while (this.opts.redis.isReady()) {
      const chunk = await readCompleteLines(this.opts.outboxFile, offset);
      if (chunk.text === '') {
        await fsp.rm(this.opts.outboxFile, { force: true });
        this.outboxCount = 0;
        this.opts.logger('info', 'events outbox delivered to redis');
        return;
      }
      const sent = await this.sendLines(chunk.text);
      if (sent < chunk.text.length) {
        await this.keepFrom(offset + Buffer.byteLength(chunk.text.slice(0, sent)));
        return;
      }
      offset = chunk.next;
    }
    await this.keepFrom(offset);
  }

  /** Sends complete lines in batches; returns how many characters of `text` were delivered. */
  private async sendLines(text: string): Promise<number> {
    const lines = text.split('\n').slice(0, -1);
    let done = 0;
    for (let i = 0; i < lines.length; i += SEND_BATCH) {
      const group = lines.slice(i, i + SEND_BATCH);
      const entries: Entry[] = [];
      for (const line of group) {
        const event = decodeEventLine(line);
        if (event !== undefined)
          entries.push({ id: event.id, type: event.type, json: encodeEventLine(event).trimEnd() });
      }
      if (entries.length > 0 && !(await this.send(entries))) return done;
      this.outboxCount = Math.max(0, this.outboxCount - entries.length);
      done += group.reduce((n, line) => n + line.length + 1, 0);
    }
    return done;
  }

  /** Drops the delivered head of the outbox (bytes before `offset`) with an atomic rename. */
  private async keepFrom(offset: number): Promise<void> {
    if (offset === 0) return;
    let rest: Buffer;
    try {
      rest = (await fsp.readFile(this.opts.outboxFile)).subarray(offset);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    const tmp = `${this.opts.outboxFile}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
    await fsp.mkdir(path.dirname(tmp), { recursive: true, mode: 0o700 });
    await fsp.writeFile(tmp, rest, { mode: 0o600 });
    await fsp.rename(tmp, this.opts.outboxFile);
  }

  private async send(entries: readonly Entry[]): Promise<boolean> {
    if (!this.opts.redis.isReady()) return this.fail('not connected');
    try {
      await this.opts.redis.xaddBatch(this.opts.stream, this.opts.maxLen, entries);
      if (this.failing) this.opts.logger('info', `redis events stream ${this.opts.stream} reachable again`);
      this.failing = false;
      return true;
    } catch (err) {
      return this.fail(errorMessage(err));
    }
  }

  private fail(reason: string): false {
    if (!this.failing)
      this.opts.logger('warn', `redis events unavailable (${reason}); keeping events in the outbox`);
    this.failing = true;
    return false;
  }
}
