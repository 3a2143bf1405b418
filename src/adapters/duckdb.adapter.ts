/**
 * The only file that imports DuckDB. Exposes a small `Db` port (run, all, transaction, close) and
 * turns DuckDB's raw lock/corruption errors into AliceErrors with a hint.
 *
 * Connections on one instance: writes (and reads inside a transaction) use the write connection,
 * one transaction at a time; reads outside a transaction use read connections of their own, so
 * they see only committed data and are never blocked by a long write. There are two read
 * connections and a read takes the one with fewer reads in flight, so two reads started together
 * (a page's rows and its locations) run at the same time. A read connection keeps the statements
 * it ran with parameters prepared (the last {@link PREPARED_MAX}): running one again binds the new
 * values without parsing and planning it again (DuckDB replans it by itself when a table it reads
 * was replaced).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import {
  DuckDBInstance,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  type DuckDBResultReader,
  type DuckDBValue,
} from '@duckdb/node-api';
import { AliceError, ErrorCode, errorMessage } from '../domain/errors.js';

export type SqlParam = string | number | bigint | boolean | null;
export type Row = Record<string, unknown>;

export interface Db {
  readonly file: string;
  readonly readOnly: boolean;
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  /** Outside a transaction: reads the last committed state (its own connection, never blocked). */
  all<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /**
   * Runs `fn` in a transaction; rolls back and rethrows on error. Calls are serialised; a
   * transaction opened inside `fn` joins the outer one (all or nothing). A `run` outside a
   * transaction waits for the running one to end (queued, never mixed into it). The
   * `beforeCommit` hook runs after `fn` and before COMMIT (see {@link OpenDbOptions}).
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

function mapOpenError(file: string, err: unknown): Error {
  const msg = errorMessage(err);
  if (DISK_FULL_RE.test(msg)) return diskFull(file, err);
  if (/lock/i.test(msg) && /conflicting|could not set lock|resource temporarily unavailable/i.test(msg)) {
    return new AliceError(ErrorCode.INDEX_LOCKED, `the index ${file} is in use by another process`, {
      hint: 'another program (not an alice agent) has the index open: close it, or check `alice status`; commands run while the agent runs go through it',
      cause: err,
    });
  }
  if (
    /not a valid DuckDB database|corrupt|checksum|invalid .*(header|block)|serialization|unable to read|catalog|could not read enough bytes|failure while replaying WAL/i.test(
      msg,
    )
  ) {
    return new AliceError(
      ErrorCode.INDEX_CORRUPT,
      `the index ${file} is damaged (${damageKind(msg)}) and cannot be read`,
      {
        hint: 'start the agent (`alice watch` or `alice service start`): it sets the damaged file aside and rebuilds it; or run `alice index rebuild`. The index is only a cache, recreated from the files and sidecars',
        cause: err,
      },
    );
  }
  return err instanceof Error ? err : new Error(msg);
}

/** DuckDB's message in a few words, without its raw `IO Error: …` text. */
function damageKind(msg: string): string {
  if (/could not read enough bytes/i.test(msg)) return 'the file is shorter than it should be: truncated';
  if (/WAL/.test(msg)) return 'its write-ahead log is torn';
  if (/not a valid DuckDB database/i.test(msg)) return 'not a DuckDB file';
  if (/checksum/i.test(msg)) return 'a block fails its checksum: overwritten';
  return 'unreadable';
}

/**
 * Damage found by a query (a block read after a successful open), as opposed to a bug in SQL: a
 * block whose checksum is wrong (garbage written into the file), a block past the end (a
 * truncated file), a torn WAL.
 */
const DAMAGED_RE =
  /corrupt database file|corrupt WAL|does not match stored checksum|not a valid DuckDB database|could not read enough bytes|failure while replaying WAL/i;

/** DuckDB reports a full disk (ENOSPC, EDQUOT) only in the message text. */
const DISK_FULL_RE = /No space left on device|Disk quota exceeded/i;

function diskFull(file: string, err: unknown): AliceError {
  return new AliceError(ErrorCode.DISK_FULL, `disk full: cannot write the index ${file}`, {
    hint: 'free space on that disk and run the command again; the index is only changed by complete transactions',
    cause: err,
  });
}

function mapRunError(file: string, err: unknown): unknown {
  const msg = errorMessage(err);
  if (DISK_FULL_RE.test(msg)) return diskFull(file, err);
  return DAMAGED_RE.test(msg) ? mapOpenError(file, err) : err;
}

function toValue(p: SqlParam): DuckDBValue {
  return p;
}

/** Prepared statements a read connection keeps, the least recently run dropped first. */
const PREPARED_MAX = 32;

/** A read connection, its reads in flight and the statements it keeps prepared, by SQL text. */
class ReadConn {
  busy = 0;
  private readonly prepared = new Map<string, { ps: DuckDBPreparedStatement; running: boolean }>();

  constructor(readonly conn: DuckDBConnection) {}

  async read(sql: string, values: DuckDBValue[]): Promise<DuckDBResultReader> {
    if (values.length === 0) return this.conn.runAndReadAll(sql);
    let kept = this.prepared.get(sql);
    // Already running for another read of this connection (DuckDB runs them one after the other):
    // this one is prepared on its own.
    if (kept?.running === true) return this.conn.runAndReadAll(sql, values);
    if (kept === undefined) {
      let ps: DuckDBPreparedStatement;
      try {
        ps = await this.conn.prepare(sql);
      } catch {
        // Not one preparable statement: run it as given (a SQL error is then thrown from there).
        return this.conn.runAndReadAll(sql, values);
      }
      kept = this.prepared.get(sql) ?? { ps, running: false };
      if (kept.ps !== ps) ps.destroySync();
    }
    if (kept.running) return this.conn.runAndReadAll(sql, values);
    this.keep(sql, kept);
    kept.running = true;
    try {
      kept.ps.bind(values);
      return await kept.ps.runAndReadAll();
    } finally {
      kept.running = false;
    }
  }

  /** Marks `sql` most recently used; drops the least recently used beyond PREPARED_MAX. */
  private keep(sql: string, kept: { ps: DuckDBPreparedStatement; running: boolean }): void {
    this.prepared.delete(sql);
    this.prepared.set(sql, kept);
    for (const [old, entry] of this.prepared) {
      if (this.prepared.size <= PREPARED_MAX) break;
      if (entry.running) continue;
      this.prepared.delete(old);
      entry.ps.destroySync();
    }
  }
}

class DuckDb implements Db {
  readonly file: string;
  readonly readOnly: boolean;
  private readonly instance: DuckDBInstance;
  private readonly conn: DuckDBConnection;
  private readonly readConns: readonly ReadConn[];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly inside = new AsyncLocalStorage<boolean>();
  private readonly beforeCommit: (() => Promise<void>) | undefined;
  private closed = false;
  private released = false;
  /** Reads in flight on the read connections (close waits for them). */
  private reading = 0;

  constructor(
    file: string,
    readOnly: boolean,
    instance: DuckDBInstance,
    conn: DuckDBConnection,
    readConns: readonly DuckDBConnection[],
    beforeCommit: (() => Promise<void>) | undefined,
  ) {
    this.file = file;
    this.readOnly = readOnly;
    this.beforeCommit = beforeCommit;
    this.instance = instance;
    this.conn = conn;
    this.readConns = readConns.map((c) => new ReadConn(c));
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    if (this.inside.getStore() !== true) {
      // Not ours to join: wait for the running transaction, then run as its own statement (which
      // commits at once: the hook first).
      const next = this.chain.then(async () => {
        await this.beforeCommit?.();
        await this.runNow(sql, params);
      });
      this.chain = next.catch(() => undefined);
      return next;
    }
    return this.runNow(sql, params);
  }

  private async runNow(sql: string, params: readonly SqlParam[]): Promise<void> {
    try {
      await this.conn.run(sql, params.map(toValue));
    } catch (err) {
      throw mapRunError(this.file, err);
    }
    this.ownerOnlyWal();
  }

  private walIno = -1;

  /**
   * DuckDB creates the WAL with the process's default mode (0644 under the usual umask) on the
   * first write after each checkpoint; it holds prompts, paths and tags, so it is made 0600 right
   * after the write that created it (one stat per write; a chmod only for a new WAL).
   */
  private ownerOnlyWal(): void {
    if (this.readOnly || this.file === ':memory:') return;
    try {
      const wal = `${this.file}.wal`;
      const st = fs.statSync(wal);
      if (st.ino === this.walIno && (st.mode & 0o077) === 0) return;
      if ((st.mode & 0o077) !== 0) fs.chmodSync(wal, 0o600);
      this.walIno = st.ino;
    } catch {
      // no WAL right now (checkpointed), or it went between the stat and the chmod
    }
  }

  async all<T extends Row = Row>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    // Inside a transaction a read must see its own writes; outside, only committed data.
    const read = this.inside.getStore() === true ? undefined : this.idleReadConn();
    this.reading++;
    if (read !== undefined) read.busy++;
    try {
      const values = params.map(toValue);
      const reader = await (read === undefined
        ? this.conn.runAndReadAll(sql, values)
        : read.read(sql, values));
      return reader.getRowObjectsJS() as T[];
    } catch (err) {
      throw mapRunError(this.file, err);
    } finally {
      if (read !== undefined) read.busy--;
      this.reading--;
      if (this.closed && this.reading === 0) this.closeNow();
    }
  }

  /** The read connection with the fewest reads in flight (the first of equals). */
  private idleReadConn(): ReadConn | undefined {
    let best: ReadConn | undefined;
    for (const r of this.readConns) if (best === undefined || r.busy < best.busy) best = r;
    return best;
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    // Nested: already inside one of ours on this async path, so it joins the outer transaction
    // (waiting on the chain would deadlock, and DuckDB has no nested BEGIN).
    if (this.inside.getStore() === true) return fn();
    const next = this.chain.then(async () => {
      await this.conn.run('BEGIN TRANSACTION');
      try {
        const out = await this.inside.run(true, fn);
        await this.beforeCommit?.();
        await this.conn.run('COMMIT');
        this.ownerOnlyWal();
        return out;
      } catch (err) {
        await this.conn.run('ROLLBACK').catch(() => undefined);
        throw mapRunError(this.file, err);
      } finally {
        // Transactions run one at a time (the chain), so none is open now. On Node 20 an
        // enabled AsyncLocalStorage keeps promise hooks on for every promise of the process
        // (a few percent of a scan's main thread); the next transaction enables it again.
        this.inside.disable();
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Closes at once, or when the reads in flight finish (a rebuild swaps the file meanwhile). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reading === 0) this.closeNow();
  }

  private closeNow(): void {
    if (this.released) return;
    this.released = true;
    try {
      for (const r of this.readConns) r.conn.closeSync();
      this.conn.closeSync();
    } finally {
      this.instance.closeSync();
    }
  }
}

export interface OpenDbOptions {
  readOnly?: boolean;
  /** DuckDB memory limit, e.g. '512MB', so the agent stays within its RSS budget. */
  memoryLimit?: string;
  threads?: number;
  /**
   * Runs before every commit that changes what readers see (each outermost transaction, and each
   * statement run outside one), while the change is not yet visible. A rejection rolls the change
   * back. The composition root passes the event sink's flush here: the one place that keeps
   * "whoever sees a change in the index can read its event" (docs/DESIGN.md, "Events").
   */
  beforeCommit?: () => Promise<void>;
}

/** chmod 0600, where the file system keeps modes (not on some network shares: ignored there). */
function ownerOnly(file: string): void {
  try {
    fs.chmodSync(file, 0o600);
  } catch {
    // a file system without Unix modes
  }
}

/** Opens (and for writers creates) the DuckDB file. `:memory:` gives a throwaway database. */
export async function openDb(file: string, opts: OpenDbOptions = {}): Promise<Db> {
  const readOnly = opts.readOnly ?? false;
  if (file !== ':memory:' && !readOnly) fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const options: Record<string, string> = {};
  if (readOnly) options['access_mode'] = 'READ_ONLY';
  if (opts.memoryLimit !== undefined) options['memory_limit'] = opts.memoryLimit;
  if (opts.threads !== undefined) options['threads'] = String(opts.threads);
  // DuckDB's allocator (jemalloc) keeps freed memory for reuse until a task peaks past 128 MB;
  // flushing after every task above 4 MB, with jemalloc's background purge threads, hands it back
  // to the OS. An idle agent at 20,000 files: 156 -> 137 MB RSS.
  options['allocator_flush_threshold'] = '4MB';
  options['allocator_background_threads'] = 'true';
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, options);
  } catch (err) {
    throw mapOpenError(file, err);
  }
  try {
    // Owner-only: the index holds prompts, paths and tags (DuckDB creates it 0644).
    if (file !== ':memory:' && !readOnly) ownerOnly(file);
    const conn = await instance.connect();
    const readConns = [await instance.connect(), await instance.connect()];
    return new DuckDb(file, readOnly, instance, conn, readConns, readOnly ? undefined : opts.beforeCommit);
  } catch (err) {
    instance.closeSync();
    throw mapOpenError(file, err);
  }
}
