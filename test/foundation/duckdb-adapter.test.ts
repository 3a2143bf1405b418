/**
 * The DuckDB adapter's transactions: serialised, all or nothing, and a transaction opened inside
 * another joins it (a scan pass wraps the repository's own transactions in one).
 */
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
});
