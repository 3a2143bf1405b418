/**
 * `alice watch`: catches up with what changed while stopped, watches every root, settles and
 * coalesces changes into batches, processes them through the scan service in one index lane,
 * holds deletions for a grace window (so a move is a move), and keeps roots' online state.
 */
import type { LocationRow } from '../../adapters/index/rows.js';
import type { RootConfig } from '../../config/config.js';
import { isInside } from '../../config/paths.js';
import {
  coalesce,
  isRelevantPath,
  scanTargets,
  type Change,
  type ChangeKind,
} from '../../domain/change-set.js';
import { errnoCode, errorMessage } from '../../domain/errors.js';
import { Debouncer } from '../../pipeline/debouncer.js';
import { mapLimit } from '../../pipeline/map-limit.js';
import { Priority, type Lane } from '../../pipeline/queue.js';
import type { HashResult } from '../../adapters/hash.adapter.js';
import type { EventSink, Logger, Progress, StatPort, Timers } from '../../ports.js';
import { INOTIFY_HINT, glanceRoot, rootStatus, type RootWatch, type WatchHandlePort } from './root-watch.js';
import { ROOT_MARKER, type RootCheck } from '../scan/root-identity.js';
import type { EarlyAnalyses } from '../scan/early-analyses.js';
import type { ScanService, ScanSummary } from '../scan/scan.service.js';
import type { StatusService } from './status.service.js';

const TRANSIENT = new Set(['EFILECHANGED', 'EBUSY', 'EAGAIN', 'EMFILE', 'ENFILE']);
const MAX_RETRIES = 5;
/** Paths whose stat and structure check run at once while a batch settles. */
const SETTLE_CONCURRENCY = 16;
/**
 * A flush with at least this many paths the watcher reported is a burst, after which the touched
 * roots are swept (stat only) for files whose events were dropped: inotify drops events silently
 * when its queue overflows (@parcel/watcher ignores IN_Q_OVERFLOW), FSEvents coalesces them.
 */
const BURST_SWEEP_MIN = 50;
/** A root is swept at most this often while a burst goes on; one sweep always follows its end. */
const SWEEP_GAP_MS = 5000;

/** The tick: deletions past the grace window expire, roots going and coming are noticed. */
const TICK_MS = 1000;

export interface WatchSettings {
  backend: 'auto' | 'native' | 'poll';
  pollPaths: readonly string[];
  pollIntervalMs: number;
  debounceMs: number;
  settleMs: number;
  /** How long a settled file that is not complete yet (PNG without IEND, …) is waited for. */
  incompleteWaitMs: number;
  moveGraceS: number;
  batchSize: number;
}

export interface WatchDeps {
  roots: readonly RootConfig[];
  settings: WatchSettings;
  scanner: () => Promise<ScanService>;
  lane: Lane;
  watchTree: (
    root: string,
    onEvents: (e: Change[]) => void,
    onError: (err: Error) => void,
    backend: 'native' | 'poll',
  ) => Promise<WatchHandlePort>;
  isNetworkRoot: (root: string) => Promise<boolean>;
  status: StatusService;
  events: EventSink;
  logger: Logger;
  /** The clock and timers for debouncing, grace windows, retries, sweeps and the tick. */
  timers: Timers;
  /** stat for settling files, probing roots and re-checking deletions. */
  files: StatPort;
  /** Null when a file looks whole (or has no rule), else why it looks unfinished (no decode). */
  completeness?: (file: string) => Promise<string | null>;
  /**
   * Content hash of a settled file, taken while the batch before is indexed so its pass does not
   * wait for it (the pass re-reads a file that changed since). Without it the pass hashes.
   */
  hash?: (file: string) => Promise<HashResult>;
  /** Files hashed at once while settling. Default 2. */
  hashConcurrency?: number;
}

/** A settled batch: the paths ready to index, and the content hashes taken of its files. */
interface Settled {
  ready: Map<string, ChangeKind>;
  hashed: Map<string, HashResult>;
  /** Analyses of its new content, started as soon as it was hashed (ScanService.analyseAhead). */
  early?: EarlyAnalyses;
}

export class WatchService {
  private readonly pending = new Map<string, ChangeKind>();
  private readonly pendingDeletes = new Map<string, { row: LocationRow; since: number }>();
  private readonly retries = new Map<string, number>();
  /** Paths a sweep put into `pending` (they do not count towards another burst). */
  private readonly swept = new Set<string>();
  /** Roots with a sweep scheduled, and when each root was last swept. */
  private readonly sweepScheduled = new Set<string>();
  private readonly lastSweep = new Map<string, number>();
  /** Paths whose last processing failed: a sweep does not bring them back until they change. */
  private readonly failed = new Set<string>();
  /** Settled paths that did not look complete yet, and when that was first seen. */
  private readonly incompleteSince = new Map<string, number>();
  private readonly watches: RootWatch[];
  private readonly debouncer: Debouncer;
  private healthTimer: unknown;
  private stopped = false;
  /**
   * The catch-up scan's progress: shows in the status document (x of y, rate, ETA), and throws
   * once stopping, so a long catch-up ends at its next file.
   */
  private shown: Progress | undefined;
  private readonly catchUpProgress: Progress = {
    start: (label, total) => {
      this.throwIfStopped();
      (this.shown ??= this.deps.status.progress(() => this.deps.timers.now())).start(label, total);
    },
    tick: (n, detail) => {
      this.throwIfStopped();
      this.shown?.tick(n, detail);
    },
    done: () => this.shown?.done(),
  };

  private throwIfStopped(): void {
    if (this.stopped) throw new Error('stop requested');
  }

  constructor(private readonly deps: WatchDeps) {
    this.watches = deps.roots.map((root) => ({
      root,
      handle: undefined,
      online: false,
      dev: undefined,
      degraded: undefined,
    }));
    this.debouncer = new Debouncer(
      deps.settings.debounceMs,
      deps.settings.debounceMs * 10,
      () => this.flush(),
      deps.timers,
    );
  }

  async start(): Promise<void> {
    const { status } = this.deps;
    status.setState('scanning');
    for (const w of this.watches) await this.startRoot(w, false);
    if (this.stopped) {
      // stop() ran while roots were being subscribed: close what it could not see yet.
      for (const w of this.watches) await w.handle?.close().catch(() => undefined);
      return;
    }
    this.updateRootStatus();
    await this.deps.lane.run(() => this.catchUp());
    if (this.stopped) return;
    this.scheduleTick();
    status.setState(this.watches.some((w) => w.degraded !== undefined) ? 'degraded' : 'watching');
  }

  /** Full stat-only update: files unchanged since the index last saw them are not read. */
  async catchUp(): Promise<ScanSummary> {
    const scan = await this.deps.scanner();
    const summary = await scan
      .run({
        mode: 'update',
        dryRun: false,
        allowMassDelete: false,
        progress: this.catchUpProgress,
      })
      .finally(() => this.shown?.done());
    this.account(summary, 'all');
    return summary;
  }

  /** Judges the root's identity (marker, device, contents; see root-identity.ts). */
  private async judge(w: RootWatch): Promise<RootCheck> {
    w.lastSeen = await glanceRoot(w.root.path, ROOT_MARKER);
    return (await this.deps.scanner()).checkRoot(w.root.path);
  }

  private async startRoot(w: RootWatch, announce: boolean): Promise<void> {
    const probe = await this.judge(w);
    w.online = probe.online;
    w.dev = probe.dev;
    w.ino = probe.ino;
    w.reason = probe.reason;
    // The marker may have been written just now (claimed): what the glance sees from here on.
    w.lastSeen = await glanceRoot(w.root.path, ROOT_MARKER);
    if (!w.online) {
      const reason = probe.reason ?? 'offline';
      this.deps.logger.warn('root offline: nothing under it is marked missing', {
        root: w.root.path,
        reason,
      });
      this.deps.events.emit('root.offline', { root: w.root.path, reason });
      return;
    }
    if (announce) this.deps.events.emit('root.online', { root: w.root.path });
    const s = this.deps.settings;
    const forcedPoll =
      s.backend === 'poll' || s.pollPaths.some((p) => isInside(w.root.path, p) || isInside(p, w.root.path));
    const poll = forcedPoll || (s.backend === 'auto' && (await this.deps.isNetworkRoot(w.root.path)));
    try {
      w.handle = await this.deps.watchTree(
        w.root.path,
        (e) => this.onEvents(w.root, e),
        (err) => this.onWatchError(w, err),
        poll ? 'poll' : 'native',
      );
    } catch (err) {
      if ((err as { code?: string }).code !== 'EWATCHLIMIT') throw err;
      await this.degrade(w, err);
    }
  }

  private async degrade(w: RootWatch, err: unknown): Promise<void> {
    w.degraded = INOTIFY_HINT;
    this.deps.logger.warn(INOTIFY_HINT, { root: w.root.path, error: errorMessage(err) });
    this.deps.events.emit('watcher.degraded', {
      root: w.root.path,
      reason: errorMessage(err),
      fallback: 'poll',
      hint: INOTIFY_HINT,
    });
    this.deps.status.doc.notes = [...new Set([...this.deps.status.doc.notes, INOTIFY_HINT])];
    await w.handle?.close().catch(() => undefined);
    w.handle = await this.deps.watchTree(
      w.root.path,
      (e) => this.onEvents(w.root, e),
      (e2) => this.onWatchError(w, e2),
      'poll',
    );
    this.deps.status.setState('degraded');
    this.updateRootStatus();
  }

  private onWatchError(w: RootWatch, err: Error): void {
    if ((err as { code?: string }).code === 'EWATCHLIMIT' && w.degraded === undefined) {
      this.deps.lane.submit(() => this.degrade(w, err), Priority.HIGH);
      return;
    }
    this.deps.logger.warn('watcher error', { root: w.root.path, error: err.message });
  }

  private onEvents(root: RootConfig, events: Change[]): void {
    // A file that changes again is worth another try, even if it failed before.
    for (const e of events) this.failed.delete(e.path);
    this.enqueue(root, events);
  }

  private enqueue(root: RootConfig, events: Change[]): void {
    if (this.stopped) return;
    const relevant = events.filter((e) => isRelevantPath(e.path, root.path));
    if (relevant.length === 0) return;
    coalesce(this.pending, relevant);
    this.deps.status.doc.queue.pending_paths = this.pending.size;
    this.debouncer.touch();
  }

  /** Takes the pending change set; paths still being written go back to wait. */
  private flush(): void {
    if (this.pending.size === 0 || this.stopped) return;
    const batch = new Map(this.pending);
    this.pending.clear();
    const reported = [...batch.keys()].filter((p) => !this.swept.has(p));
    for (const p of batch.keys()) this.swept.delete(p);
    this.deps.lane.submit(async () => {
      // Settled a batch at a time, the next while this one is indexed: a burst's first files are
      // indexed while the rest are still checked.
      const size = this.deps.settings.batchSize;
      const entries = [...batch];
      const settle = (i: number): Promise<Settled> => this.settle(new Map(entries.slice(i, i + size)));
      let settling = settle(0);
      for (let i = 0; i < entries.length; i += size) {
        const { ready, hashed, early } = await settling;
        if (i + size < entries.length) settling = settle(i + size);
        const targets = scanTargets(ready);
        // The analyses started ahead go to the batch's (first) pass, which settles them.
        if (targets.length === 0) await early?.settle();
        for (let j = 0; j < targets.length; j += size)
          await this.processBatch(targets.slice(j, j + size), hashed, j === 0 ? early : undefined);
      }
      if (reported.length >= BURST_SWEEP_MIN) {
        const roots = new Set(reported.map((p) => this.rootOf(p)));
        for (const root of roots) if (root !== undefined) this.scheduleSweep(root);
      }
    });
    this.deps.status.doc.queue.pending_paths = 0;
  }

  /** Sweeps `root` once the gap since its last sweep has passed (at most one scheduled per root). */
  private scheduleSweep(root: RootConfig): void {
    if (this.sweepScheduled.has(root.path) || this.stopped) return;
    this.sweepScheduled.add(root.path);
    const { timers } = this.deps;
    const last = this.lastSweep.get(root.path);
    const wait = last === undefined ? 0 : Math.max(0, last + SWEEP_GAP_MS - timers.now());
    timers.setTimeout(() => {
      this.deps.lane.submit(async () => {
        this.sweepScheduled.delete(root.path);
        this.lastSweep.set(root.path, timers.now());
        await this.sweep(root);
      }, Priority.LOW);
    }, wait);
  }

  /** Files under `root` the index lacks and no event named: they go through the normal path. */
  private async sweep(root: RootConfig): Promise<void> {
    if (this.stopped || !this.watches.some((w) => w.online && w.root.path === root.path)) return;
    const found = (await (await this.deps.scanner()).unindexedUnder(root.path)).filter(
      (p) => !this.pending.has(p) && !this.failed.has(p),
    );
    if (found.length === 0) return;
    this.deps.logger.warn('sweep after a burst found files the watcher did not report', {
      root: root.path,
      files: found.length,
    });
    this.deps.status.doc.counters.recovered += found.length;
    for (const p of found) this.swept.add(p);
    this.enqueue(
      root,
      found.map((p) => ({ kind: 'create', path: p })),
    );
  }

  /**
   * Paths ready to index: unchanged for the settle time, and whole (a PNG that reached IEND, a JPEG
   * with its end marker, an MP4 with its moov box). The rest go back to wait; a file that stays
   * unfinished past `incompleteWaitMs` is indexed anyway (as damaged if it does not decode).
   */
  private async settle(batch: Map<string, ChangeKind>): Promise<Settled> {
    const ready = new Map<string, ChangeKind>();
    const files: string[] = [];
    const now = this.deps.timers.now();
    const cutoff = now - this.deps.settings.settleMs;
    const entries = [...batch];
    // The stats and structure checks of a burst overlap (one at a time took 5 s per 1,000 files).
    const checks = await mapLimit(entries, SETTLE_CONCURRENCY, async ([p]) => {
      // Gone (undefined) or unreadable: the scan compares it with the index and reports errors.
      const st = await this.deps.files.stat(p).catch((err: unknown) => {
        this.deps.logger.debug('cannot stat a changed path', { path: p, code: errnoCode(err) });
        return undefined;
      });
      const file = st?.isFile === true;
      return { file, wait: file && (st.mtimeMs > cutoff || (await this.stillWritten(p, now))) };
    });
    for (const [i, [p, kind]] of entries.entries()) {
      if (checks[i]?.wait === true) {
        coalesce(this.pending, [{ kind, path: p }]);
        this.debouncer.touch();
        continue;
      }
      this.incompleteSince.delete(p);
      ready.set(p, kind);
      if (checks[i]?.file === true) files.push(p);
    }
    const hashed = await this.hashSettled(files);
    // The new content's decodes start now, while the batch before is still being indexed.
    if (hashed.size === 0 || this.stopped) return { ready, hashed };
    // A scanner that cannot be had now (the index being set aside) leaves the analyses to the pass.
    const scan = await this.deps.scanner().catch(() => undefined);
    return scan === undefined ? { ready, hashed } : { ready, hashed, early: scan.analyseAhead(hashed) };
  }

  /** Content hashes of settled files; one that cannot be hashed now is left to the pass. */
  private async hashSettled(files: readonly string[]): Promise<Map<string, HashResult>> {
    const out = new Map<string, HashResult>();
    const hash = this.deps.hash;
    if (hash === undefined || this.stopped) return out;
    await mapLimit(files, this.deps.hashConcurrency ?? 2, async (p) => {
      if (this.stopped) return;
      const r = await hash(p).catch(() => undefined);
      if (r !== undefined) out.set(p, r);
    });
    return out;
  }

  /** True while a settled file looks unfinished and has not waited past the limit. */
  private async stillWritten(p: string, now: number): Promise<boolean> {
    const check = this.deps.completeness;
    if (check === undefined) return false;
    const why = await check(p).catch((err: unknown) => {
      this.deps.logger.debug('cannot check whether a file is complete', { path: p, code: errnoCode(err) });
      return null;
    });
    if (why === null) return false;
    const since = this.incompleteSince.get(p) ?? now;
    this.incompleteSince.set(p, since);
    if (now - since < this.deps.settings.incompleteWaitMs) return true;
    this.deps.logger.warn('indexing a file that never completed', {
      path: p,
      reason: why,
      waited_s: Math.round((now - since) / 1000),
    });
    return false;
  }

  private async processBatch(
    targets: string[],
    hashed?: ReadonlyMap<string, HashResult>,
    early?: EarlyAnalyses,
  ): Promise<void> {
    const live = targets.filter((t) => this.watches.some((w) => w.online && isInside(t, w.root.path)));
    if (live.length === 0) {
      await early?.settle();
      return;
    }
    const scan = await this.deps.scanner();
    // The batch's x of y, rate and ETA show in the status document while it runs.
    const shown = (this.shown ??= this.deps.status.progress(() => this.deps.timers.now()));
    let summary: ScanSummary;
    try {
      summary = await scan.run({
        mode: 'update',
        dryRun: false,
        allowMassDelete: false,
        progress: shown,
        targets: live,
        pendingVanished: [...this.pendingDeletes.values()].map((d) => d.row),
        deferMissing: true,
        ...(hashed === undefined ? {} : { hashed }),
        ...(early === undefined ? {} : { early }),
      });
    } finally {
      shown.done();
    }
    const now = this.deps.timers.now();
    const next = new Map<string, { row: LocationRow; since: number }>();
    for (const row of summary.vanished_pending)
      next.set(row.path, { row, since: this.pendingDeletes.get(row.path)?.since ?? now });
    this.pendingDeletes.clear();
    for (const [k, v] of next) this.pendingDeletes.set(k, v);
    this.account(summary, live);
    this.retryTransient(summary);
  }

  private retryTransient(summary: ScanSummary): void {
    for (const e of summary.errors) {
      if (!TRANSIENT.has(e.code)) continue;
      const n = (this.retries.get(e.path) ?? 0) + 1;
      if (n > MAX_RETRIES) {
        this.retries.delete(e.path);
        continue;
      }
      this.retries.set(e.path, n);
      const delay = Math.min(30_000, 250 * 2 ** n);
      this.deps.timers.setTimeout(
        () =>
          this.onEvents(this.rootOf(e.path) ?? (this.deps.roots[0] as RootConfig), [
            { kind: 'update', path: e.path },
          ]),
        delay,
      );
    }
  }

  private rootOf(p: string): RootConfig | undefined {
    return this.deps.roots.find((r) => isInside(p, r.path));
  }

  /** `covers`: the paths the pass looked at ('all': every online root). */
  private account(s: ScanSummary, covers: readonly string[] | 'all'): void {
    const { status } = this.deps;
    const c = status.doc.counters;
    c.indexed += s.new + s.modified;
    c.moved += s.moved;
    c.missing += s.missing;
    c.duplicates = s.duplicates;
    c.damaged = s.damaged;
    c.batches++;
    if (this.failed.size > 100_000) this.failed.clear();
    // A skipped file the pass covered and did not report again was indexed, or is gone.
    const reported = new Set(s.errors.map((e) => e.path));
    const covered = (p: string): boolean =>
      covers === 'all'
        ? !s.offline_roots.some((r) => isInside(p, r))
        : covers.some((t) => p === t || isInside(p, t));
    for (const p of status.skippedPaths()) if (!reported.has(p) && covered(p)) status.clearSkip(p);
    for (const e of s.errors) {
      this.failed.add(e.path);
      status.recordError({ path: e.path, code: e.code, message: e.message });
      status.recordSkip({ path: e.path, code: e.code, message: e.message });
    }
    for (const b of s.mass_delete_blocked) {
      status.recordError({
        path: b.root,
        code: 'MASS_DELETE',
        message: `refused to mark ${b.would_mark} of ${b.present} files missing; run \`alice index update --allow-mass-delete\` if they are really gone`,
      });
    }
    status.doc.queue.pending_deletes = this.pendingDeletes.size;
    status.changed();
  }

  /** Once a second: expire deletions past the grace window, and watch roots come and go. */
  private ticking = false;

  private scheduleTick(): void {
    if (this.stopped) return;
    this.healthTimer = this.deps.timers.setTimeout(async () => {
      await this.tick();
      this.scheduleTick();
    }, TICK_MS);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    try {
      await this.tickOnce();
    } catch (err) {
      this.deps.logger.error('health check failed', { error: errorMessage(err) });
    } finally {
      this.ticking = false;
    }
  }

  private async tickOnce(): Promise<void> {
    const { status, lane } = this.deps;
    status.doc.queue.batches = lane.waiting;
    status.doc.queue.in_flight = lane.inFlight;
    const graceMs = this.deps.settings.moveGraceS * 1000;
    const now = this.deps.timers.now();
    const due = [...this.pendingDeletes.values()].filter((d) => now - d.since >= graceMs);
    if (due.length > 0) {
      for (const d of due) this.pendingDeletes.delete(d.row.path);
      lane.submit(async () => {
        const rows: LocationRow[] = [];
        for (const { row } of due) {
          if (!this.watches.some((w) => w.online && row.root === w.root.path)) continue;
          // Re-created at the same path within the window: its own event decides, not the timer.
          // Unreadable (EACCES, EIO) is not gone either: nothing is marked missing on a doubt.
          const st = await this.deps.files.lstat(row.path).catch(() => 'unknown' as const);
          if (st !== undefined) continue;
          rows.push(row);
        }
        if (rows.length === 0) return;
        const summary = await (await this.deps.scanner()).markMissingNow(rows, false);
        this.account(
          summary,
          rows.map((r) => r.path),
        );
      });
    }
    await this.checkRoots();
  }

  /**
   * Every second: a glance at each root (stat of the folder and of its marker). Only when what
   * it sees changed is the root judged again: gone offline (unmounted, marker gone, emptied), back
   * online, or replaced by another folder at the same path (new inode or device), in which case
   * its watcher is re-armed and a catch-up scan finds what no event reported. So no root stays
   * deaf while the status says `watching`.
   */
  private async checkRoots(): Promise<void> {
    let changed = false;
    for (const w of this.watches) {
      if (this.stopped) return;
      const seen = await glanceRoot(w.root.path, ROOT_MARKER);
      if (seen === w.lastSeen) continue;
      const probe = await this.judge(w);
      if (w.online && !probe.online) {
        changed = true;
        w.online = false;
        w.reason = probe.reason;
        await w.handle?.close().catch(() => undefined);
        w.handle = undefined;
        for (const [p, d] of this.pendingDeletes)
          if (d.row.root === w.root.path) this.pendingDeletes.delete(p);
        const reason = probe.reason ?? 'offline';
        this.deps.logger.warn('root went offline: nothing under it is marked missing', {
          root: w.root.path,
          reason,
        });
        this.deps.events.emit('root.offline', { root: w.root.path, reason });
      } else if (w.online && (probe.dev !== w.dev || probe.ino !== w.ino)) {
        changed = true;
        this.deps.logger.warn('root folder replaced: watching the new one and catching up', {
          root: w.root.path,
        });
        await w.handle?.close().catch(() => undefined);
        w.handle = undefined;
        await this.startRoot(w, false);
        this.deps.lane.submit(() => this.processBatch([w.root.path]));
      } else if (!w.online && probe.online) {
        changed = true;
        await this.startRoot(w, true);
        this.deps.lane.submit(() => this.processBatch([w.root.path]));
      } else if (!w.online) {
        w.reason = probe.reason;
        changed = true;
      }
    }
    if (changed) this.updateRootStatus();
  }

  private updateRootStatus(): void {
    this.deps.status.doc.roots = this.watches.map(rootStatus);
    this.deps.status.changed();
  }

  /** Stops watching and drains the lane (bounded); unprocessed paths are found by the next catch-up. */
  async stop(timeoutMs: number): Promise<boolean> {
    if (this.stopped) return true;
    this.stopped = true;
    if (this.healthTimer !== undefined) this.deps.timers.clearTimeout(this.healthTimer);
    this.debouncer.stop();
    for (const w of this.watches) await w.handle?.close().catch(() => undefined);
    const drained = await this.deps.lane.drain(timeoutMs);
    if (!drained) this.deps.lane.clear();
    return drained;
  }
}
