import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventBus, type EventBusOptions } from '../../src/events/event-bus.service.js';
import { readEvents, type EventSource } from '../../src/events/event-reader.service.js';
import { dayFileName } from '../../src/events/file-log.store.js';
import { collect, followAfterStart, makeHome, sleep } from './helpers.js';

const HASH = 'ab'.repeat(32);
const homes: string[] = [];

afterEach(async () => {
  await Promise.all(homes.splice(0).map((h) => fsp.rm(h, { recursive: true, force: true })));
});

async function setup(
  extra: Partial<EventBusOptions> = {},
): Promise<{ opts: EventBusOptions; source: EventSource }> {
  const home = await makeHome();
  homes.push(home);
  const opts: EventBusOptions = {
    home,
    backend: 'file',
    redisUrl: 'redis://127.0.0.1:6379',
    stream: 'unused',
    maxLen: 1000,
    retentionDays: 30,
    ...extra,
  };
  return { opts, source: { home, backend: 'file', redisUrl: opts.redisUrl, stream: opts.stream } };
}

describe('file backend', () => {
  it('persists events emitted one by one without a flush, within moments of the last', async () => {
    const { opts, source } = await setup();
    const bus = await createEventBus(opts);
    try {
      for (let i = 0; i < 30; i++) {
        bus.emit('asset.discovered', {
          content_hash: HASH,
          path: `/lib/${i}.png`,
          root: '/lib',
          media_type: 'image',
          size: i + 1,
        });
        await sleep(2);
      }
      let seen = 0;
      for (let waited = 0; waited < 2000 && seen < 30; waited += 50) {
        await sleep(50);
        seen = (await collect(readEvents(source))).length;
      }
      expect(seen).toBe(30);
      expect(bus.backlog()).toBe(0);
    } finally {
      await bus.close();
    }
  });

  it('writes events in order to the daily file with the documented payloads', async () => {
    const { opts, source } = await setup();
    const bus = await createEventBus(opts);
    bus.emit('asset.discovered', {
      content_hash: HASH,
      path: '/lib/a.png',
      root: '/lib',
      media_type: 'image',
      size: 10,
    });
    bus.emit('asset.moved', {
      content_hash: HASH,
      root: '/lib',
      media_type: 'image',
      old_path: '/lib/a.png',
      new_path: '/lib/b.png',
    });
    bus.emit('asset.updated', {
      content_hash: HASH,
      path: '/lib/b.png',
      root: '/lib',
      media_type: 'image',
      changes: ['tags'],
    });
    await bus.close();

    const file = path.join(opts.home, 'events', dayFileName(Date.now()));
    const lines = (await fsp.readFile(file, 'utf8')).split('\n');
    expect(lines.at(-1)).toBe('');
    const events = await collect(readEvents(source));
    expect(events.map((e) => e.type)).toEqual(['asset.discovered', 'asset.moved', 'asset.updated']);
    expect(events[1]?.payload).toEqual({
      content_hash: HASH,
      root: '/lib',
      media_type: 'image',
      old_path: '/lib/a.png',
      new_path: '/lib/b.png',
    });
    expect(events[0]).toMatchObject({
      pid: process.pid,
      host: expect.any(String),
      time: expect.stringMatching(/Z$/),
    });
    expect([...events.map((e) => e.id)].sort()).toEqual(events.map((e) => e.id));
    const after = await collect(readEvents(source, { since: events[0]!.id, types: ['asset.updated'] }));
    expect(after.map((e) => e.type)).toEqual(['asset.updated']);
  });

  it('keeps ids increasing across a restart within the same millisecond', async () => {
    const { opts, source } = await setup({ now: () => 1_718_000_000_000 });
    const first = await createEventBus(opts);
    for (let i = 0; i < 3; i++) first.emit('root.online', { root: `/r${i}` });
    await first.close();
    const second = await createEventBus(opts);
    for (let i = 3; i < 5; i++) second.emit('root.online', { root: `/r${i}` });
    await second.close();

    const ids = (await collect(readEvents(source))).map((e) => e.id);
    expect(ids).toHaveLength(5);
    expect(ids.every((id) => id.startsWith('1718000000000-'))).toBe(true);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  it('never throws from emit, even for a payload that cannot be encoded or after close', async () => {
    const logged: string[] = [];
    const { opts, source } = await setup({ logger: (_level, msg) => logged.push(msg) });
    const bus = await createEventBus(opts);
    const circular: Record<string, unknown> = { root: '/r' };
    circular['self'] = circular;
    expect(() => bus.emit('root.online', circular as { root: string })).not.toThrow();
    bus.emit('root.online', { root: '/ok' });
    await bus.close();
    expect(() => bus.emit('root.online', { root: '/late' })).not.toThrow();
    expect((await collect(readEvents(source))).map((e) => (e.payload as { root: string }).root)).toEqual([
      '/ok',
    ]);
    expect(logged.some((m) => m.includes('not emitted'))).toBe(true);
  });

  it('deletes daily files older than the retention on start', async () => {
    const { opts } = await setup({ retentionDays: 30 });
    const dir = path.join(opts.home, 'events');
    await fsp.mkdir(dir, { recursive: true });
    const old = dayFileName(Date.now() - 40 * 86_400_000);
    const recent = dayFileName(Date.now() - 5 * 86_400_000);
    await fsp.writeFile(path.join(dir, old), '');
    await fsp.writeFile(path.join(dir, recent), '');
    const bus = await createEventBus(opts);
    await bus.close();
    expect((await fsp.readdir(dir)).sort()).toContain(recent);
    expect(await fsp.readdir(dir)).not.toContain(old);
  });

  it('follow yields an event emitted after it started', async () => {
    const { opts, source } = await setup();
    const seen = await followAfterStart(opts, source, 150, 50);
    expect(seen.map((e) => e.type)).toEqual(['root.offline']);
  });
});

describe('torn lines', () => {
  it('a partial last line is skipped, and an event appended after it is still read', async () => {
    const { opts, source } = await setup();
    const bus = await createEventBus(opts);
    bus.emit('root.online', { root: '/a' });
    await bus.flush();
    const file = path.join(opts.home, 'events', dayFileName(Date.now()));
    await fsp.appendFile(file, '{"id":"1718000000000-000009-dead","type":"root.on');
    expect((await collect(readEvents(source))).map((e) => (e.payload as { root: string }).root)).toEqual([
      '/a',
    ]);
    bus.emit('root.online', { root: '/b' });
    await bus.close();
    expect((await collect(readEvents(source))).map((e) => (e.payload as { root: string }).root)).toEqual([
      '/a',
      '/b',
    ]);
  });

  it('a writer killed mid-append leaves no torn event visible to readers', async () => {
    const { opts, source } = await setup();
    const file = path.join(opts.home, 'events', dayFileName(Date.now()));
    await fsp.mkdir(path.dirname(file), { recursive: true });
    // The child appends large lines in a loop, each in two writes so a kill can land mid-line,
    // and stops itself half-way through line 50 to make the torn line certain.
    const script = `
      const fs = require('node:fs');
      const fd = fs.openSync(process.argv[1], 'a');
      const big = 'x'.repeat(100000);
      for (let i = 0; ; i++) {
        const id = String(1718000000000 + i).padStart(13, '0') + '-000000-c0de';
        const line = JSON.stringify({ id, type: 'root.online', time: new Date().toISOString(), host: 'h', pid: process.pid, payload: { root: '/c' + i, big } }) + '\\n';
        const half = line.length >> 1;
        fs.writeSync(fd, line.slice(0, half));
        if (i === 50) { process.stdout.write('torn\\n'); setInterval(() => {}, 1000); break; }
        fs.writeSync(fd, line.slice(half));
      }`;
    const child = spawn(process.execPath, ['-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;

    const text = await fsp.readFile(file, 'utf8');
    expect(text.endsWith('\n')).toBe(false);
    const events = await collect(readEvents(source));
    expect(events).toHaveLength(50);
    expect(events.map((e) => (e.payload as { root: string }).root)).toEqual(
      Array.from({ length: 50 }, (_, i) => `/c${i}`),
    );

    const bus = await createEventBus(opts);
    bus.emit('root.online', { root: '/after-crash' });
    await bus.close();
    const again = await collect(readEvents(source));
    expect(again).toHaveLength(51);
    expect(again.at(-1)?.payload).toEqual({ root: '/after-crash' });
  });

  it('readers see only complete events while a writer is killed at a random moment', async () => {
    const { opts, source } = await setup();
    const file = path.join(opts.home, 'events', dayFileName(Date.now()));
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const script = `
      const fs = require('node:fs');
      const fd = fs.openSync(process.argv[1], 'a');
      const big = 'y'.repeat(1 << 18);
      for (let i = 0; ; i++) {
        const id = String(1718000000000 + i).padStart(13, '0') + '-000000-beef';
        fs.writeSync(fd, JSON.stringify({ id, type: 'root.online', time: 't', host: 'h', pid: 1, payload: { root: '/' + i, big } }) + '\\n');
        if (i === 3) process.stdout.write('go\\n');
      }`;
    const child = spawn(process.execPath, ['-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await sleep(100);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    const events = await collect(readEvents(source));
    const complete = (await fsp.readFile(file, 'utf8')).split('\n').length - 1;
    expect(events.length).toBe(complete);
    expect(events.length).toBeGreaterThan(3);
    events.forEach((e, i) => expect((e.payload as { root: string }).root).toBe(`/${i}`));
  });
});
