/**
 * The DuckDB adapter's transactions: serialised, all or nothing, and a transaction opened inside
 * another joins it (a scan pass wraps the repository's own transactions in one).
 */
import { executionAsyncId } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/adapters/duckdb.adapter.js';

let db: Db | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

async function fresh(): Promise<Db> {
  db = await openDb(':memory:');
  await db.run('CREATE TABLE t (v INTEGER)');
  return db;
}

const values = async (d: Db): Promise<number[]> =>
  (await d.all<{ v: number }>('SELECT v FROM t ORDER BY v')).map((r) => Number(r.v));

describe('Db.transaction', () => {
  it('a nested transaction joins the outer one: a later failure undoes the inner writes too', async () => {
    const d = await fresh();
    const err = await d
      .transaction(async () => {
        await d.transaction(() => d.run('INSERT INTO t VALUES (1)'));
        await d.transaction(() => d.run('INSERT INTO t VALUES (2)'));
        throw new Error('crash after the inner writes');
      })
      .catch((e: unknown) => e);
    expect(String(err)).toContain('crash after the inner writes');
    expect(await values(d)).toEqual([]);
  });

  it('a nested transaction commits with the outer one', async () => {
    const d = await fresh();
    const out = await d.transaction(async () => {
      await d.transaction(() => d.run('INSERT INTO t VALUES (1)'));
      await d.run('INSERT INTO t VALUES (2)');
      return 'done';
    });
    expect(out).toBe('done');
    expect(await values(d)).toEqual([1, 2]);
  });

  it('separate transactions started together run one after the other, each atomic', async () => {
    const d = await fresh();
    const slow = d.transaction(async () => {
      await d.run('INSERT INTO t VALUES (1)');
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('first fails');
    });
    const second = d.transaction(() => d.run('INSERT INTO t VALUES (2)'));
    await expect(slow).rejects.toThrow('first fails');
    await second;
    expect(await values(d)).toEqual([2]);
  });

  it('leaves no promise hooks on once transactions end (each promise would pay for them)', async () => {
    // With promise hooks on, a promise continuation runs under an async id of its own; off, 0.
    const continuationId = (): Promise<number> => Promise.resolve().then(() => executionAsyncId());
    expect(await continuationId()).toBe(0);
    const d = await fresh();
    const inner = await d.transaction(async () => {
      await d.run('INSERT INTO t VALUES (1)');
      return continuationId();
    });
    expect(inner).toBeGreaterThan(0);
    expect(await continuationId()).toBe(0);
    await d.transaction(() => d.run('INSERT INTO t VALUES (2)')).catch(() => undefined);
    expect(await continuationId()).toBe(0);
    expect(await values(d)).toEqual([1, 2]);
  });
});

describe('Db reads are isolated from a running transaction', () => {
  it('a reader never sees a write that was rolled back, and is not blocked while it is pending', async () => {
    const d = await fresh();
    await d.run('INSERT INTO t VALUES (1)');
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let wrote: () => void = () => undefined;
    const written = new Promise<void>((resolve) => (wrote = resolve));
    const tx = d
      .transaction(async () => {
        await d.run('INSERT INTO t VALUES (2)');
        // Inside the transaction its own write is visible.
        expect(await values(d)).toEqual([1, 2]);
        wrote();
        await held;
        throw new Error('scan pass failed');
      })
      .catch((e: unknown) => e);
    await written;
    // A reader on another async path while the write is uncommitted: the committed state only.
    expect(await values(d)).toEqual([1]);
    release();
    expect(String(await tx)).toContain('scan pass failed');
    expect(await values(d)).toEqual([1]);
  });

  it('a reader sees a write once it commits; a plain write waits for the running transaction', async () => {
    const d = await fresh();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let wrote: () => void = () => undefined;
    const written = new Promise<void>((resolve) => (wrote = resolve));
    const tx = d.transaction(async () => {
      await d.run('INSERT INTO t VALUES (1)');
      wrote();
      await held;
      throw new Error('rolled back');
    });
    await written;
    // Queued behind the transaction, not mixed into it: it survives the rollback.
    const plain = d.run('INSERT INTO t VALUES (5)');
    release();
    await expect(tx).rejects.toThrow('rolled back');
    await plain;
    expect(await values(d)).toEqual([5]);
  });
});

describe('Db reads started together', () => {
  it('run on two read connections (one after the other share one); inside a transaction, on the write connection', async () => {
    const d = await fresh();
    const conn = async (): Promise<bigint> =>
      (await d.all<{ c: bigint }>('SELECT current_connection_id() AS c'))[0]?.c ?? -1n;
    const together = await Promise.all([conn(), conn()]);
    expect(new Set(together).size).toBe(2);
    const alone = [await conn(), await conn()];
    expect(alone[0]).toBe(alone[1]);
    expect(together).toContain(alone[0]);
    const inside = await d.transaction(() => Promise.all([conn(), conn()]));
    expect(inside[0]).toBe(inside[1]);
    expect(together).not.toContain(inside[0]);
  });
});

describe('Db reads keep their statements prepared', () => {
  it('a read run again after its table was replaced (as sorting the search tables does) reads the new table', async () => {
    const d = await fresh();
    await d.run('INSERT INTO t VALUES (1), (2), (3)');
    const atLeast = async (v: number): Promise<number[]> =>
      (await d.all<{ v: number }>('SELECT v FROM t WHERE v >= ? ORDER BY v', [v])).map((r) => Number(r.v));
    expect(await atLeast(2)).toEqual([2, 3]);
    await d.transaction(async () => {
      await d.run('CREATE TABLE t_sorted (v INTEGER, extra VARCHAR)');
      await d.run(`INSERT INTO t_sorted SELECT v * 10, 'x' FROM t ORDER BY v DESC`);
      await d.run('DROP TABLE t');
      await d.run('ALTER TABLE t_sorted RENAME TO t');
    });
    expect(await atLeast(2)).toEqual([10, 20, 30]);
    await d.run('DROP TABLE t');
    await expect(atLeast(2)).rejects.toThrow(/t does not exist/);
    await d.run('CREATE TABLE t (v BIGINT)');
    await d.run('INSERT INTO t VALUES (7)');
    expect(await atLeast(2)).toEqual([7]);
  });

  it('the same read started several times at once, and more reads than are kept, each give their own answer', async () => {
    const d = await fresh();
    await d.run('INSERT INTO t SELECT range FROM range(100)');
    const one = async (v: number): Promise<number> =>
      Number((await d.all<{ v: number }>('SELECT v FROM t WHERE v = ?', [v]))[0]?.v);
    expect(await Promise.all([1, 2, 3, 4, 5, 6].map(one))).toEqual([1, 2, 3, 4, 5, 6]);
    for (let k = 0; k < 80; k++) {
      const rows = await d.all<{ n: bigint }>(`SELECT count(*) AS n FROM t WHERE v < ? AND ${k} >= 0`, [k]);
      expect(rows[0]?.n).toBe(BigInt(k));
    }
    expect(await Promise.all([7, 8].map(one))).toEqual([7, 8]);
  });
});

describe('Db beforeCommit hook', () => {
  /**
   * A database whose hook records, each time it runs, what a reader sees then (committed data
   * only), and fails while `fail` is set.
   */
  async function hooked(): Promise<{ d: Db; seen: number[][]; fail: { on: boolean } }> {
    const seen: number[][] = [];
    const fail = { on: false };
    let armed = false;
    const d: Db = await openDb(':memory:', {
      beforeCommit: async () => {
        if (!armed) return;
        seen.push(await values(d));
        if (fail.on) throw new Error('event log down');
      },
    });
    db = d;
    await d.run('CREATE TABLE t (v INTEGER)');
    armed = true;
    return { d, seen, fail };
  }

  it('runs once per outermost transaction, after its writes and before a reader can see them', async () => {
    const { d, seen } = await hooked();
    await d.transaction(async () => {
      await d.run('INSERT INTO t VALUES (1)');
      await d.transaction(() => d.run('INSERT INTO t VALUES (2)'));
    });
    expect(seen).toEqual([[]]);
    expect(await values(d)).toEqual([1, 2]);
  });

  it('runs before a plain write outside a transaction (it commits at once), not for reads', async () => {
    const { d, seen } = await hooked();
    await d.run('INSERT INTO t VALUES (3)');
    await d.all('SELECT 1');
    expect(seen).toEqual([[]]);
    expect(await values(d)).toEqual([3]);
  });

  it('a hook that fails rolls the transaction back', async () => {
    const { d, fail } = await hooked();
    fail.on = true;
    const err = await d.transaction(() => d.run('INSERT INTO t VALUES (1)')).catch((e: unknown) => e);
    expect(String(err)).toContain('event log down');
    fail.on = false;
    expect(await values(d)).toEqual([]);
  });
});

describe('openDb memory settings', () => {
  it('hands freed memory back: allocator flush at 4 MB with background purge threads, and the given limit', async () => {
    db = await openDb(':memory:', { memoryLimit: '64MB' });
    const [row] = await db.all<{ f: string; b: boolean; m: string }>(
      "SELECT current_setting('allocator_flush_threshold') AS f, current_setting('allocator_background_threads') AS b, current_setting('memory_limit') AS m",
    );
    expect(row).toEqual({ f: '3.8 MiB', b: true, m: '61.0 MiB' });
  });
});
