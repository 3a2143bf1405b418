import type { ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStreamPort } from '../../src/adapters/redis.adapter.js';
import { createEventBus, type EventBusOptions } from '../../src/events/event-bus.service.js';
import { readEvents, type EventSource } from '../../src/events/event-reader.service.js';
import type { AliceEvent } from '../../src/events/event.model.js';
import {
  adminClient,
  collect,
  followAfterStart,
  freePort,
  killHard,
  makeHome,
  sleep,
  startRedisServer,
  uniqueStream,
  waitFor,
} from './helpers.js';

const URL = 'redis://127.0.0.1:6379';
const HASH = 'cd'.repeat(32);
const cleanup: Array<() => Promise<unknown>> = [];
let admin: RedisStreamPort;

beforeAll(async () => {
  admin = await adminClient(URL);
});
afterAll(async () => {
  await admin.close();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(url = URL): Promise<{ opts: EventBusOptions; source: EventSource }> {
  const home = await makeHome();
  const stream = uniqueStream('bus');
  cleanup.push(() => fsp.rm(home, { recursive: true, force: true }));
  if (url === URL) cleanup.push(() => admin.command(['DEL', stream]));
  const opts: EventBusOptions = {
    home,
    backend: 'redis',
    redisUrl: url,
    stream,
    maxLen: 100_000,
    retentionDays: 30,
  };
  return { opts, source: { home, backend: 'redis', redisUrl: url, stream } };
}

function rootOf(e: AliceEvent): string {
  return (e.payload as { root: string }).root;
}

describe('redis backend', () => {
  it('XADDs events in order with the documented fields; a consumer group reads and acks them', async () => {
    const { opts, source } = await setup();
    const bus = await createEventBus(opts);
    bus.emit('asset.discovered', {
      content_hash: HASH,
      path: '/lib/a.mp4',
      root: '/lib',
      media_type: 'video',
      size: 99,
    });
    bus.emit('asset.moved', {
      content_hash: HASH,
      root: '/lib',
      media_type: 'video',
      old_path: '/lib/a.mp4',
      new_path: '/lib/x/a.mp4',
    });
    bus.emit('metadata.embedded', {
      content_hash: HASH,
      path: '/lib/x/a.mp4',
      root: '/lib',
      media_type: 'video',
      state: 'written',
      changes: ['keywords'],
    });
    await bus.flush();
    expect(bus.backlog()).toBe(0);
    await bus.close();

    const events = await collect(readEvents(source));
    expect(events.map((e) => e.type)).toEqual(['asset.discovered', 'asset.moved', 'metadata.embedded']);
    expect(events[1]?.payload).toEqual({
      content_hash: HASH,
      root: '/lib',
      media_type: 'video',
      old_path: '/lib/a.mp4',
      new_path: '/lib/x/a.mp4',
    });
    expect([...events.map((e) => e.id)].sort()).toEqual(events.map((e) => e.id));

    const group = 'g';
    await admin.command(['XGROUP', 'CREATE', opts.stream, group, '0', 'MKSTREAM']);
    const reply = await admin.command([
      'XREADGROUP',
      'GROUP',
      group,
      'c1',
      'COUNT',
      '100',
      'STREAMS',
      opts.stream,
      '>',
    ]);
    const entries = streamEntries(reply, opts.stream);
    expect(entries.map((e) => e.fields['type'])).toEqual([
      'asset.discovered',
      'asset.moved',
      'metadata.embedded',
    ]);
    expect(entries.map((e) => e.fields['id'])).toEqual(events.map((e) => e.id));
    expect(JSON.parse(entries[2]!.fields['json']!)).toEqual(events[2]);
    expect(pendingCount(await admin.command(['XPENDING', opts.stream, group]))).toBe(3);
    await admin.command(['XACK', opts.stream, group, ...entries.map((e) => e.streamId)]);
    expect(pendingCount(await admin.command(['XPENDING', opts.stream, group]))).toBe(0);
  });

  it('follow yields an event emitted after it started', async () => {
    const { opts, source } = await setup();
    const seen = await followAfterStart(opts, source, 300);
    expect(seen.map(rootOf)).toEqual(['/after']);
  });

  it('loses nothing and keeps the order when its redis-server is killed and restarted mid-stream', async () => {
    const port = await freePort();
    const dataDir = await makeHome();
    cleanup.push(() => fsp.rm(dataDir, { recursive: true, force: true }));
    let server: ChildProcess = await startRedisServer(port, dataDir);
    cleanup.push(() => killHard(server));
    const { opts, source } = await setup(`redis://127.0.0.1:${port}`);
    const bus = await createEventBus(opts);

    let maxBacklog = 0;
    let outboxDuringOutage = 0;
    const total = 120;
    for (let i = 0; i < total; i++) {
      bus.emit('root.online', { root: `/r${i}` });
      if (i === 40) await killHard(server);
      if (i === 89)
        outboxDuringOutage = await fsp
          .stat(path.join(opts.home, 'events', 'outbox.jsonl'))
          .then((st) => st.size);
      if (i === 90) server = await startRedisServer(port, dataDir);
      maxBacklog = Math.max(maxBacklog, bus.backlog());
      await sleep(i > 40 && i < 90 ? 10 : 3);
    }
    expect(maxBacklog).toBeGreaterThan(0);
    expect(outboxDuringOutage).toBeGreaterThan(0);
    await waitFor(() => bus.backlog() === 0, 15_000, 'the outbox to drain');
    await bus.close();
    await expect(fsp.stat(path.join(opts.home, 'events', 'outbox.jsonl'))).rejects.toThrow();

    const events = await collect(readEvents(source));
    expect(events.map(rootOf)).toEqual(Array.from({ length: total }, (_, i) => `/r${i}`));
    for (let i = 1; i < events.length; i++) expect(events[i]!.id > events[i - 1]!.id).toBe(true);
  });

  it(
    'a redis-server frozen (SIGSTOP) for 20 s under load, then resumed: every event id is in the stream once',
    { timeout: 90_000 },
    async () => {
      const port = await freePort();
      const dataDir = await makeHome();
      cleanup.push(() => fsp.rm(dataDir, { recursive: true, force: true }));
      const server: ChildProcess = await startRedisServer(port, dataDir);
      cleanup.push(() => killHard(server));
      const { opts, source } = await setup(`redis://127.0.0.1:${port}`);
      const bus = await createEventBus(opts);
      const total = 60;
      const emitSome = async (from: number, to: number): Promise<void> => {
        for (let i = from; i < to; i++) {
          bus.emit('root.online', { root: `/f${i}` });
          await sleep(20);
        }
      };
      await emitSome(0, 20);
      await bus.flush();
      server.kill('SIGSTOP');
      // While frozen the client times out (5 s) and the outbox resends the same batch several
      // times; every copy sits in redis-server's socket buffer until it resumes.
      const frozen = Date.now();
      await emitSome(20, 40);
      await sleep(Math.max(0, 20_000 - (Date.now() - frozen)));
      server.kill('SIGCONT');
      await emitSome(40, total);
      await waitFor(() => bus.backlog() === 0, 30_000, 'the outbox to drain');
      await bus.close();

      // The raw stream (readers deduplicate by id; the stream itself must not hold copies).
      const raw = await adminClient(`redis://127.0.0.1:${port}`);
      const entries = streamEntries(
        { [opts.stream]: await raw.command(['XRANGE', opts.stream, '-', '+']) },
        opts.stream,
      );
      await raw.close();
      const ids = entries.map((e) => e.fields['id']);
      expect(ids.length - new Set(ids).size, 'duplicate stream entries').toBe(0);
      expect(ids).toHaveLength(total);
      const events = await collect(readEvents(source));
      expect(events.map(rootOf)).toEqual(Array.from({ length: total }, (_, i) => `/f${i}`));
    },
  );

  it('drains an outbox left by a previous process before new events', async () => {
    const port = await freePort();
    const dataDir = await makeHome();
    cleanup.push(() => fsp.rm(dataDir, { recursive: true, force: true }));
    const { opts, source } = await setup(`redis://127.0.0.1:${port}`);
    const offline = await createEventBus({ ...opts, redisConnectWaitMs: 50 });
    for (let i = 0; i < 5; i++) offline.emit('root.online', { root: `/old${i}` });
    await offline.flush();
    expect(offline.backlog()).toBe(5);
    await offline.close();

    const server = await startRedisServer(port, dataDir);
    cleanup.push(() => killHard(server));
    const online = await createEventBus(opts);
    expect(online.backlog()).toBe(5);
    online.emit('root.online', { root: '/new' });
    await waitFor(() => online.backlog() === 0, 10_000, 'the outbox to drain');
    await online.close();
    expect((await collect(readEvents(source))).map(rootOf)).toEqual([
      '/old0',
      '/old1',
      '/old2',
      '/old3',
      '/old4',
      '/new',
    ]);
  });
});

interface RawEntry {
  streamId: string;
  fields: Record<string, string>;
}

function streamEntries(reply: unknown, stream: string): RawEntry[] {
  const perStream: unknown = Array.isArray(reply)
    ? (reply as unknown[][]).find((r) => r[0] === stream)?.[1]
    : (reply as Record<string, unknown>)[stream];
  return (perStream as [string, string[]][]).map(([streamId, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return { streamId, fields };
  });
}

function pendingCount(reply: unknown): number {
  return Number((reply as unknown[])[0]);
}
