/** Shared helpers for the events tests: temp homes, a private redis-server, polling. */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openRedis, type RedisStreamPort } from '../../src/adapters/redis.adapter.js';
import { createEventBus, type EventBusOptions } from '../../src/events/event-bus.service.js';
import { followEvents, type EventSource } from '../../src/events/event-reader.service.js';
import type { AliceEvent } from '../../src/events/event.model.js';

export async function makeHome(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'alice-events-'));
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `redis-server` on `port` with an fsync-always AOF in `dir`, so a SIGKILL loses no
 * acknowledged write (what the test checks is the producer, not Redis durability).
 */
export async function startRedisServer(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const probe = openRedis({ url: `redis://127.0.0.1:${port}`, maxBackoffMs: 50 });
  try {
    if (!(await probe.waitReady(10_000))) throw new Error(`redis-server on ${port} did not start`);
  } finally {
    await probe.close(true);
  }
  return child;
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** A connected client for raw commands against `url`. */
export async function adminClient(url = 'redis://127.0.0.1:6379'): Promise<RedisStreamPort> {
  const client = openRedis({ url });
  if (!(await client.waitReady(5000))) throw new Error(`no redis at ${url}`);
  return client;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export function uniqueStream(label: string): string {
  return `alice:test:${label}:${process.pid}:${Date.now()}:${Math.random().toString(16).slice(2, 8)}`;
}

/**
 * The "follow sees what comes after it started" scenario, the same for every backend: one event
 * is in before following starts; `settleMs` later `root.offline` for `/after` is emitted. Returns
 * what the follower saw; it stops at its first event.
 */
export async function followAfterStart(
  opts: EventBusOptions,
  source: EventSource,
  settleMs: number,
  pollMs?: number,
): Promise<AliceEvent[]> {
  const bus = await createEventBus(opts);
  bus.emit('root.online', { root: '/before' });
  await bus.flush();
  const controller = new AbortController();
  const seen: AliceEvent[] = [];
  const following = (async () => {
    for await (const e of followEvents(source, { signal: controller.signal, pollMs })) {
      seen.push(e);
      controller.abort();
    }
  })();
  await sleep(settleMs);
  bus.emit('root.offline', { root: '/after', reason: 'unmounted' });
  await bus.flush();
  await following;
  await bus.close();
  return seen;
}
