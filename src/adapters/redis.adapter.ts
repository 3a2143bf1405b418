/**
 * The only importer of `redis` (node-redis). Exposes a small stream port, never the client.
 *
 * The client is built to fail fast: the offline queue is off, so a command sent while the
 * connection is down rejects at once (the caller falls back to its outbox) instead of waiting in
 * memory; the socket reconnects in the background with capped exponential backoff; `error` events
 * are handled so a lost server never crashes the process.
 */
import { createClient } from 'redis';

/** One stream entry: the Redis entry id and its field/value pairs. */
export interface StreamEntry {
  readonly streamId: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** What the events subsystem needs from Redis. */
export interface RedisStreamPort {
  /** True while connected and usable. */
  isReady(): boolean;
  /** Resolves true once ready, false after `timeoutMs` without a connection. */
  waitReady(timeoutMs: number): Promise<boolean>;
  /**
   * `XADD stream MAXLEN ~ maxLen * …` for each entry, in order, atomically (one script); an entry
   * whose `id` field was added before (within a week) is skipped, so a resent batch lands once.
   */
  xaddBatch(stream: string, maxLen: number, entries: readonly Record<string, string>[]): Promise<void>;
  /** `XRANGE stream start end COUNT count`. */
  xrange(stream: string, start: string, end: string, count: number): Promise<StreamEntry[]>;
  /** `XREAD COUNT count BLOCK blockMs STREAMS stream afterId`; empty on timeout. */
  xread(stream: string, afterId: string, blockMs: number, count: number): Promise<StreamEntry[]>;
  /** Any other command, raw reply (admin and tests: XGROUP, XREADGROUP, XACK, DEL …). */
  command(args: readonly string[]): Promise<unknown>;
  /** Calls `listener` each time the connection becomes ready (again). */
  onReady(listener: () => void): void;
  /** Closes gracefully (waits for pending replies) or, with `force`, drops the socket. Idempotent. */
  close(force?: boolean): Promise<void>;
}

/** Options of `openRedis`. */
export interface RedisOptions {
  url: string;
  /** Reported for connection problems; never throws into the client. */
  onError?: (message: string) => void;
  /** Upper bound of the reconnect backoff, ms. Default 2000. */
  maxBackoffMs?: number;
  /** A command that has no reply after this long is failed, ms. Default 5000. */
  commandTimeoutMs?: number;
}

/**
 * Exactly once in the stream: a batch the client gave up on (a reply later than the command
 * timeout, e.g. a frozen redis-server) is sent again, and Redis may run both copies once it
 * resumes. Each entry carrying an `id` first claims the key `<stream>:sent:<id>` (SET NX, kept
 * `SENT_TTL_S`); only the copy that claims it is added. ARGV: maxlen, ttl, then per entry the
 * number of field pairs, the id ('' for none: always added) and the pairs.
 */
const XADD_ONCE_LUA = `
local stream, maxlen, ttl = KEYS[1], ARGV[1], ARGV[2]
local i, added = 3, 0
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local id = ARGV[i + 1]
  if id == '' or redis.call('SET', stream .. ':sent:' .. id, '1', 'NX', 'EX', ttl) then
    local cmd = { 'XADD', stream, 'MAXLEN', '~', maxlen, '*' }
    for j = 1, n * 2 do cmd[#cmd + 1] = ARGV[i + 1 + j] end
    redis.call(unpack(cmd))
    added = added + 1
  end
  i = i + 2 + n * 2
end
return added`;

/** How long an event id is remembered as sent (longer than any outbox resend could take). */
const SENT_TTL_S = 7 * 24 * 3600;

/** Connects in the background and returns at once; see `RedisStreamPort.waitReady`. */
export function openRedis(opts: RedisOptions): RedisStreamPort {
  const maxBackoff = opts.maxBackoffMs ?? 2000;
  const timeoutMs = opts.commandTimeoutMs ?? 5000;
  const client = createClient({
    url: opts.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, maxBackoff) },
  });
  let lastError = '';
  client.on('error', (err: unknown) => {
    // One report per distinct problem; reconnect attempts repeat the same error many times.
    const message = err instanceof Error ? err.message : String(err);
    if (message !== lastError) opts.onError?.(`redis ${opts.url}: ${message}`);
    lastError = message;
  });
  client.on('ready', () => {
    lastError = '';
  });
  let closed = false;
  client.connect().catch((err: unknown) => {
    if (!closed) opts.onError?.(`redis ${opts.url}: ${err instanceof Error ? err.message : String(err)}`);
  });
  const timed = <T>(p: Promise<T>): Promise<T> => withTimeout(p, timeoutMs);
  return {
    isReady: () => client.isReady,
    waitReady: (ms) => waitReady(client, ms),
    async xaddBatch(stream, maxLen, entries) {
      // One script per batch, atomic in Redis: an entry whose `id` was added before is skipped.
      const args = [String(maxLen), String(SENT_TTL_S)];
      for (const fields of entries) {
        const flat = Object.entries(fields).flat();
        args.push(String(flat.length / 2), fields['id'] ?? '', ...flat);
      }
      await timed(client.sendCommand(['EVAL', XADD_ONCE_LUA, '1', stream, ...args]));
    },
    async xrange(stream, start, end, count) {
      return parseEntries(
        await timed(client.sendCommand(['XRANGE', stream, start, end, 'COUNT', String(count)])),
      );
    },
    async xread(stream, afterId, blockMs, count) {
      const args = ['XREAD', 'COUNT', String(count), 'BLOCK', String(blockMs), 'STREAMS', stream, afterId];
      return parseReadReply(await withTimeout(client.sendCommand(args), blockMs + timeoutMs), stream);
    },
    command: (args) => timed(client.sendCommand([...args])),
    onReady(listener) {
      client.on('ready', listener);
    },
    async close(force = false) {
      if (closed) return;
      closed = true;
      if (client.isReady && !force) await client.close().catch(() => client.destroy());
      else if (client.isOpen) {
        try {
          client.destroy();
        } catch {
          // Already closed by node-redis itself: nothing left to release.
        }
      }
    },
  };
}

/** The part of the client `waitReady` needs (the full generic client type does not widen). */
interface ReadyEmitter {
  readonly isReady: boolean;
  on(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

function waitReady(client: ReadyEmitter, ms: number): Promise<boolean> {
  if (client.isReady) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), ms);
    client.on('ready', onReady);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis command timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `[[id, [f, v, …]], …]` → entries. Tolerates null (empty) replies. */
function parseEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const item of reply as unknown[]) {
    if (!Array.isArray(item)) continue;
    const [id, flat] = item as unknown[];
    if (typeof id !== 'string' || !Array.isArray(flat)) continue;
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
    entries.push({ streamId: id, fields });
  }
  return entries;
}

/** XREAD replies come as `[[key, entries]]` or, depending on the protocol, `{ key: entries }`. */
function parseReadReply(reply: unknown, stream: string): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    for (const item of reply as unknown[]) {
      if (Array.isArray(item) && item[0] === stream) return parseEntries(item[1]);
    }
    return [];
  }
  if (reply instanceof Map) return parseEntries(reply.get(stream));
  if (typeof reply === 'object') return parseEntries((reply as Record<string, unknown>)[stream]);
  return [];
}
