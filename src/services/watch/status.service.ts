/**
 * The agent's status file (`$ALICE_HOME/status.json`, owner-only), rewritten atomically every few
 * seconds and on state changes, and how `alice status` reads it.
 */
import fs from 'node:fs/promises';
import process from 'node:process';
import { errnoCode } from '../../domain/errors.js';
import type { Progress } from '../../ports.js';

export type AgentState = 'starting' | 'scanning' | 'watching' | 'degraded' | 'stopping' | 'stopped';
export type RootState = 'watching' | 'polling' | 'offline';

export interface RootStatus {
  path: string;
  kind: string;
  state: RootState;
  backend: 'native' | 'poll' | null;
  note?: string;
  /** Why an offline root is offline (marker gone, another device, empty folder, unreachable). */
  reason?: string;
}

export interface ErrorEntry {
  at: string;
  path: string;
  code: string;
  message: string;
}

/** Why a file was skipped: what `alice status` says of it. */
export type SkipReason = 'bad_name' | 'unreadable' | 'vanished' | 'empty' | 'changing' | 'failed';

/** A file the agent did not index, and why; kept until it is indexed or removed. */
export interface SkippedEntry extends ErrorEntry {
  reason: SkipReason;
}

/** How many skipped files are named in the status (the count covers them all). */
export const SKIPPED_SHOWN = 50;

export function skipReason(code: string): SkipReason {
  if (code === 'EBADNAME') return 'bad_name';
  if (code === 'ENOENT') return 'vanished';
  if (code === 'EEMPTY') return 'empty';
  if (code === 'EFILECHANGED') return 'changing';
  if (['EACCES', 'EPERM', 'ELOOP', 'EIO', 'EISDIR', 'ENAMETOOLONG'].includes(code)) return 'unreadable';
  return 'failed';
}

export interface VerificationStatus {
  at: string;
  checked: number;
  problems: number;
  elapsed_ms: number;
  kind: 'integrity' | 'consistency';
}

/** What a long pass (the first build, a catch-up scan, an ingest) is doing right now. */
export interface ProgressDoc {
  /** e.g. 'hashing', 'indexing'. */
  phase: string;
  done: number;
  total: number | null;
  rate_per_s: number;
  eta_s: number | null;
  started_at: string;
}

export interface StatusDoc {
  pid: number;
  version: string;
  started_at: string;
  heartbeat: string;
  state: AgentState;
  home: string;
  socket: string;
  index: string;
  roots: RootStatus[];
  queue: { pending_paths: number; batches: number; in_flight: number; pending_deletes: number };
  counters: {
    indexed: number;
    moved: number;
    duplicates: number;
    /** Present assets whose content is damaged, after the last batch. */
    damaged: number;
    missing: number;
    errors: number;
    batches: number;
    /** Files the watcher never reported, found by the sweep that follows a burst. */
    recovered: number;
  };
  last_errors: ErrorEntry[];
  /**
   * Files the agent skipped (bad name, unreadable, vanished, …) and has not indexed since:
   * `count` of them all, `files` the latest SKIPPED_SHOWN. A file leaves it once it is indexed
   * or removed.
   */
  skipped: { count: number; files: SkippedEntry[] };
  last_verification: VerificationStatus | null;
  last_consistency: VerificationStatus | null;
  events_backlog: number;
  notes: string[];
  /** The running pass's phase, x of y, rate and ETA; null when idle. */
  progress: ProgressDoc | null;
  /** The agent process's memory in MB at the last heartbeat (null before the first). */
  memory: MemoryDoc | null;
}

/** process.memoryUsage() in MB: rss is what the OS counts; heap and external are V8's share. */
export interface MemoryDoc {
  rss_mb: number;
  heap_used_mb: number;
  heap_total_mb: number;
  external_mb: number;
}

export function memoryDoc(m: NodeJS.MemoryUsage = process.memoryUsage()): MemoryDoc {
  const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10;
  return {
    rss_mb: mb(m.rss),
    heap_used_mb: mb(m.heapUsed),
    heap_total_mb: mb(m.heapTotal),
    external_mb: mb(m.external),
  };
}

export type WriteFile = (file: string, data: string, mode: number) => Promise<void>;

export class StatusService {
  readonly doc: StatusDoc;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly write: WriteFile,
    init: Omit<
      StatusDoc,
      | 'heartbeat'
      | 'state'
      | 'roots'
      | 'queue'
      | 'counters'
      | 'last_errors'
      | 'skipped'
      | 'last_verification'
      | 'last_consistency'
      | 'events_backlog'
      | 'notes'
      | 'progress'
      | 'memory'
    >,
    private readonly sampler: (doc: StatusDoc) => void = () => undefined,
  ) {
    this.doc = {
      ...init,
      heartbeat: init.started_at,
      state: 'starting',
      roots: [],
      queue: { pending_paths: 0, batches: 0, in_flight: 0, pending_deletes: 0 },
      counters: {
        indexed: 0,
        moved: 0,
        duplicates: 0,
        damaged: 0,
        missing: 0,
        errors: 0,
        batches: 0,
        recovered: 0,
      },
      last_errors: [],
      skipped: { count: 0, files: [] },
      last_verification: null,
      last_consistency: null,
      events_backlog: 0,
      notes: [],
      progress: null,
      memory: null,
    };
  }

  /**
   * A Progress that shows in this document: phase, x of y, rate and ETA. Ticks only update the
   * document (written with the next heartbeat, or read live over the socket).
   */
  progress(now: () => number = Date.now): Progress {
    let started = 0;
    return {
      start: (phase, total) => {
        started = now();
        this.doc.progress = {
          phase,
          done: 0,
          total: total ?? null,
          rate_per_s: 0,
          eta_s: null,
          started_at: new Date(started).toISOString(),
        };
        this.changed();
      },
      tick: (n = 1) => {
        const p = this.doc.progress;
        if (p === null) return;
        p.done += n;
        const secs = Math.max(now() - started, 1) / 1000;
        p.rate_per_s = Math.round((p.done / secs) * 10) / 10;
        p.eta_s =
          p.total === null || p.rate_per_s <= 0 ? null : Math.round((p.total - p.done) / p.rate_per_s);
      },
      done: () => {
        this.doc.progress = null;
        this.changed();
      },
    };
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  setState(state: AgentState): void {
    if (this.doc.state === state) return;
    this.doc.state = state;
    this.changed();
  }

  recordError(e: Omit<ErrorEntry, 'at'>): void {
    this.doc.counters.errors++;
    this.doc.last_errors.unshift({ at: new Date().toISOString(), ...e });
    this.doc.last_errors.length = Math.min(this.doc.last_errors.length, 20);
    this.changed();
  }

  private readonly skips = new Map<string, SkippedEntry>();

  /** A file the agent skipped (replaces an earlier entry for the same path). */
  recordSkip(e: Omit<ErrorEntry, 'at'>): void {
    this.skips.delete(e.path);
    this.skips.set(e.path, { at: new Date().toISOString(), ...e, reason: skipReason(e.code) });
    // Bounded: the oldest entries go first once far more files were skipped than are shown.
    for (const k of this.skips.keys()) {
      if (this.skips.size <= 100 * SKIPPED_SHOWN) break;
      this.skips.delete(k);
    }
    this.showSkips();
  }

  /** Paths skipped so far (to see which a batch covered). */
  skippedPaths(): string[] {
    return [...this.skips.keys()];
  }

  /** The file was indexed or removed since it was skipped. */
  clearSkip(p: string): void {
    if (this.skips.delete(p)) this.showSkips();
  }

  private showSkips(): void {
    const all = [...this.skips.values()];
    this.doc.skipped = { count: all.length, files: all.slice(-SKIPPED_SHOWN).reverse() };
    this.changed();
  }

  /** Marks the document changed; it is written within a moment. */
  changed(): void {
    this.dirty = true;
    setImmediate(() => {
      if (this.dirty) void this.flush();
    });
  }

  flush(): Promise<void> {
    this.dirty = false;
    this.sampler(this.doc);
    this.doc.memory = memoryDoc();
    this.doc.heartbeat = new Date().toISOString();
    const text = `${JSON.stringify(this.doc, null, 2)}\n`;
    this.writing = this.writing.then(() => this.write(this.file, text, 0o600)).catch(() => undefined);
    return this.writing;
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

export type StatusReading =
  | { running: false; reason: 'no_status'; status: null }
  | { running: false; reason: 'stopped' | 'stale' | 'dead'; status: StatusDoc; age_s: number }
  | { running: true; status: StatusDoc; age_s: number };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** Reads the status file and judges whether the agent is really running. */
export async function readStatus(
  file: string,
  staleAfterS: number,
  now = Date.now(),
): Promise<StatusReading> {
  let doc: StatusDoc;
  try {
    doc = JSON.parse(await fs.readFile(file, 'utf8')) as StatusDoc;
  } catch {
    return { running: false, reason: 'no_status', status: null };
  }
  const age = (now - Date.parse(doc.heartbeat)) / 1000;
  const age_s = Math.round(age * 10) / 10;
  if (doc.state === 'stopped') return { running: false, reason: 'stopped', status: doc, age_s };
  if (!pidAlive(doc.pid)) return { running: false, reason: 'dead', status: doc, age_s };
  if (age > staleAfterS) return { running: false, reason: 'stale', status: doc, age_s };
  return { running: true, status: doc, age_s };
}
