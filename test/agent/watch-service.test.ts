/**
 * WatchService with a fake clock and a fake watcher, over a real library (real files, real scan,
 * real DuckDB index): bursts, the settle window, the move grace window, retries of transient
 * errors and roots going offline are replayed by advancing the clock, never by sleeping.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NODE_STAT } from '../../src/adapters/fs.adapter.js';
import { Container } from '../../src/app/container.js';
import type { Change } from '../../src/domain/change-set.js';
import { Lane } from '../../src/pipeline/queue.js';
import type { EventSink, Timers } from '../../src/ports.js';
import type { ScanService } from '../../src/services/scan/scan.service.js';
import { StatusService } from '../../src/services/watch/status.service.js';
import { WatchService, type WatchDeps } from '../../src/services/watch/watch.service.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';
import { configOf } from '../helpers/library.js';

const DEBOUNCE_MS = 100;
const SETTLE_MS = 300;
const GRACE_S = 5;

/** Timers that only move when the test advances them. */
class FakeTimers implements Timers {
  private t: number;
  private seq = 0;
  private readonly due = new Map<number, { at: number; fn: () => unknown }>();

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => unknown, ms: number): unknown {
    this.seq++;
    this.due.set(this.seq, { at: this.t + Math.max(0, ms), fn });
    return this.seq;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** Moves time forward, running each timer that falls due in order and awaiting the work it starts. */
  async advance(ms: number, idle: () => Promise<void>): Promise<void> {
    const end = this.t + ms;
    await idle();
    for (;;) {
      const next = [...this.due.entries()]
        .filter(([, x]) => x.at <= end)
        .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (next === undefined) break;
      this.due.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      await next[1].fn();
      await idle();
    }
    this.t = end;
  }
}

interface Rig {
  ws: Workspace;
  root: string;
  container: Container;
  watch: WatchService;
  status: StatusService;
  clock: FakeTimers;
  events: { type: string; payload: Record<string, unknown> }[];
  /** What the fake native watcher reports for the root. */
  report(changes: Change[]): void;
  advance(ms: number): Promise<void>;
  /** Paths of the root's locations in the index, present or missing. */
  located(): Promise<{ present: string[]; missing: string[] }>;
}

let rig: Rig | undefined;

async function makeRig(
  wrapScan: (s: ScanService) => ScanService = (s) => s,
  extra: { batchSize?: number; completeness?: WatchDeps['completeness'] } = {},
): Promise<Rig> {
  const ws = makeWorkspace();
  const root = ws.roots[0] as string;
  const events: Rig['events'] = [];
  const sink: EventSink = { emit: (type, payload) => events.push({ type, payload: { ...payload } }) };
  const container = new Container(configOf(ws), { events: sink });
  const clock = new FakeTimers(Date.now());
  const lane = new Lane('index', 1, (_name, err) => {
    throw err;
  });
  const status = new StatusService(path.join(ws.home, 'status.json'), () => Promise.resolve(), {
    pid: process.pid,
    version: 'test',
    started_at: new Date(clock.now()).toISOString(),
    home: ws.home,
    socket: path.join(ws.home, 'agent.sock'),
    index: ws.searchDb,
  });
  const subscribers = new Map<string, (e: Change[]) => void>();
  const deps: WatchDeps = {
    roots: container.config.roots,
    settings: {
      backend: 'native',
      pollPaths: [],
      pollIntervalMs: 1000,
      debounceMs: DEBOUNCE_MS,
      settleMs: SETTLE_MS,
      incompleteWaitMs: 60_000,
      moveGraceS: GRACE_S,
      batchSize: extra.batchSize ?? 500,
    },
    ...(extra.completeness === undefined ? {} : { completeness: extra.completeness }),
    scanner: async () => wrapScan(container.scanService(await container.repo())),
    lane,
    watchTree: (r, onEvents) => {
      subscribers.set(r, onEvents);
      return Promise.resolve({ backend: 'native', close: () => Promise.resolve(void subscribers.delete(r)) });
    },
    isNetworkRoot: () => Promise.resolve(false),
    status,
    events: sink,
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    timers: clock,
    files: NODE_STAT,
  };
  const watch = new WatchService(deps);
  const idle = async (): Promise<void> => {
    expect(await lane.drain(120_000)).toBe(true);
  };
  await watch.start();
  return {
    ws,
    root,
    container,
    watch,
    status,
    clock,
    events,
    report: (changes) => {
      const fn = subscribers.get(root);
      if (fn === undefined) throw new Error('the root is not being watched');
      fn(changes);
    },
    advance: (ms) => clock.advance(ms, idle),
    located: async () => {
      const rows = await container
        .index()
        .then((db) =>
          db.all<{ path: string; present: boolean }>(
            'SELECT path, present FROM locations WHERE root = ? ORDER BY path',
            [root],
          ),
        );
      return {
        present: rows.filter((r) => r.present).map((r) => r.path),
        missing: rows.filter((r) => !r.present).map((r) => r.path),
      };
    },
  };
}

/** Writes an image whose modification time is `msAgo` before the fake clock's now. */
async function image(r: Rig, name: string, seed: number, msAgo = 60_000): Promise<string> {
  const file = path.join(r.root, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeImage(file, { seed, size: 16 });
  const at = new Date(r.clock.now() - msAgo);
  fs.utimesSync(file, at, at);
  return file;
}

const created = (files: string[]): Change[] => files.map((p) => ({ kind: 'create', path: p }));

beforeEach(() => {
  rig = undefined;
});

afterEach(async () => {
  if (rig === undefined) return;
  await rig.watch.stop(10_000);
  await rig.container.close();
  rig.ws.cleanup();
});

describe('WatchService (fake clock, fake watcher, real library)', () => {
  it('settles a burst a batch at a time, checking files together, and indexes a batch while the next is checked', async () => {
    const log: string[] = [];
    let checking = 0;
    let most = 0;
    const r = (rig = await makeRig(
      (s) => {
        const run = s.run.bind(s);
        return Object.assign(Object.create(s) as ScanService, {
          run: (opts: Parameters<ScanService['run']>[0]) => {
            log.push('scan');
            return run(opts);
          },
        });
      },
      {
        batchSize: 10,
        completeness: async () => {
          log.push('check');
          most = Math.max(most, ++checking);
          await new Promise((done) => setTimeout(done, 5));
          checking--;
          return null; // whole
        },
      },
    ));
    const files: string[] = [];
    for (let i = 0; i < 30; i++) files.push(await image(r, `b/${i}.png`, 300 + i));
    r.report(created(files));
    await r.advance(DEBOUNCE_MS);
    expect((await r.located()).present).toEqual([...files].sort());
    expect(log.filter((e) => e === 'check')).toHaveLength(30);
    expect(most).toBeGreaterThan(1);
    // The first batch was indexed before the last batch's files were all checked.
    expect(log.indexOf('scan')).toBeLessThan(log.lastIndexOf('check'));
    expect(log.filter((e) => e === 'scan').length).toBeGreaterThanOrEqual(3);
  });

  it('debounces a burst into one flush, holds a file still being written, and sweeps for unreported files', async () => {
    const r = (rig = await makeRig());
    const reported: string[] = [];
    for (let i = 0; i < 50; i++) reported.push(await image(r, `burst/${i}.png`, i + 1));
    const unreported: string[] = [];
    for (let i = 0; i < 3; i++) unreported.push(await image(r, `dropped/${i}.png`, 100 + i));
    const fresh = await image(r, 'fresh.png', 200, 0); // modified "now": still being written
    const batchesBefore = r.status.doc.counters.batches;

    r.report(created([...reported.slice(0, 25)]));
    await r.advance(DEBOUNCE_MS / 2);
    r.report(created([...reported.slice(25), fresh]));
    await r.advance(DEBOUNCE_MS - 1);
    // Each report restarted the quiet period: nothing flushed yet.
    expect(r.status.doc.counters.batches).toBe(batchesBefore);
    expect((await r.located()).present).toEqual([]);

    await r.advance(1);
    // One flush: the 50 settled files indexed in one batch; the fresh one waits; a sweep after
    // the burst found the 3 files the watcher never reported and queued them.
    expect(r.status.doc.counters.batches).toBe(batchesBefore + 1);
    expect((await r.located()).present).toEqual([...reported].sort());
    expect(r.status.doc.counters.recovered).toBe(3);

    await r.advance(SETTLE_MS + DEBOUNCE_MS);
    expect((await r.located()).present).toEqual([...reported, ...unreported, fresh].sort());
    expect(r.events.filter((e) => e.type === 'asset.discovered')).toHaveLength(54);
  });

  it('marks a deleted file missing only after the grace window; a move inside it is a move', async () => {
    const r = (rig = await makeRig());
    const a = await image(r, 'a.png', 1);
    const b = await image(r, 'b.png', 2);
    r.report(created([a, b]));
    await r.advance(DEBOUNCE_MS);
    expect((await r.located()).present).toEqual([a, b]);

    fs.rmSync(a);
    const moved = path.join(r.root, 'sub', 'b.png');
    fs.mkdirSync(path.dirname(moved));
    fs.renameSync(b, moved);
    r.report([{ kind: 'delete', path: a }]);
    await r.advance(DEBOUNCE_MS);
    expect(r.status.doc.queue.pending_deletes).toBe(1);
    await r.advance(GRACE_S * 1000 - 1500);
    // Still inside the window: not missing, and the move arrives late but in time.
    expect((await r.located()).missing).toEqual([]);
    r.report([
      { kind: 'delete', path: b },
      { kind: 'create', path: moved },
    ]);
    await r.advance(DEBOUNCE_MS);
    expect(r.events.filter((e) => e.type === 'asset.moved').map((e) => e.payload['new_path'])).toEqual([
      moved,
    ]);

    // The window ends 5 s after the flush that saw the deletion; the next tick marks it missing.
    await r.advance(2500);
    const after = await r.located();
    expect(after.missing).toEqual([a]);
    expect(after.present).toEqual([moved]);
    expect(r.events.filter((e) => e.type === 'asset.missing').map((e) => e.payload['path'])).toEqual([a]);
  });

  it('retries a path that failed with a transient error, with backoff', async () => {
    let failures = 2;
    const busy = { path: '' };
    const r = (rig = await makeRig((scan) => {
      const run = scan.run.bind(scan);
      // A file another program holds open (EBUSY) for the first two attempts.
      scan.run = async (opts) => {
        const targets = opts.targets ?? [];
        if (failures === 0 || !targets.includes(busy.path)) return run(opts);
        failures--;
        const summary = await run({ ...opts, targets: targets.filter((t) => t !== busy.path) });
        summary.errors.push({
          path: busy.path,
          root: path.dirname(busy.path),
          code: 'EBUSY',
          message: 'busy',
        });
        return summary;
      };
      return scan;
    }));
    busy.path = await image(r, 'busy.png', 7);
    r.report(created([busy.path]));
    await r.advance(DEBOUNCE_MS);
    expect(failures).toBe(1);
    // First retry after 500 ms (250 · 2¹), then its debounce.
    await r.advance(499);
    expect(failures).toBe(1);
    await r.advance(1 + DEBOUNCE_MS);
    expect(failures).toBe(0);
    expect((await r.located()).present).toEqual([]);
    // Second retry after 1000 ms (250 · 2²): now it goes through.
    await r.advance(1000 + DEBOUNCE_MS);
    expect((await r.located()).present).toEqual([busy.path]);
  });

  it('a root that goes offline marks nothing missing; when it returns it is scanned again', async () => {
    const r = (rig = await makeRig());
    const a = await image(r, 'a.png', 1);
    r.report(created([a]));
    await r.advance(DEBOUNCE_MS);
    expect((await r.located()).present).toEqual([a]);

    const away = `${r.root}.away`;
    fs.renameSync(r.root, away);
    await r.advance(1000);
    expect(r.events.filter((e) => e.type === 'root.offline')).toEqual([
      { type: 'root.offline', payload: { root: r.root, reason: 'the folder does not exist' } },
    ]);
    expect(r.status.doc.roots.map((s) => s.state)).toEqual(['offline']);
    await r.advance(GRACE_S * 1000 * 3);
    expect((await r.located()).missing).toEqual([]);

    await writeImage(path.join(away, 'while-away.png'), { seed: 9, size: 16 });
    fs.renameSync(away, r.root);
    await r.advance(1000);
    expect(r.events.filter((e) => e.type === 'root.online')).toHaveLength(1);
    expect(r.status.doc.roots.map((s) => s.state)).toEqual(['watching']);
    expect((await r.located()).present).toEqual([a, path.join(r.root, 'while-away.png')]);
  });
});
