/**
 * insertRows sends each column's values as one JSON array; every kind of value must arrive as
 * it was (text with quotes, newlines, NUL and emoji, 64-bit integers, doubles, booleans, nulls,
 * JSON and timestamps through a column's SQL, derived columns).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db, type SqlParam } from '../../src/adapters/duckdb.adapter.js';
import { insertRows, type Column } from '../../src/adapters/index/rows.js';

let db: Db | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

interface R {
  s: string | null;
  n: number | null;
  d: number;
  b: boolean | null;
  u: bigint;
  j: string | null;
  t: string | null;
  list: string[];
}

const COLUMNS: readonly Column<R>[] = [
  { name: 's', value: (r) => r.s },
  { name: 'n', value: (r) => r.n },
  { name: 'd', value: (r) => r.d },
  { name: 'b', value: (r) => r.b },
  { name: 'u', value: (r) => r.u, sql: '?::UBIGINT' },
  { name: 'j', value: (r) => r.j, sql: '?::JSON' },
  { name: 't', value: (r) => r.t, sql: 'TRY_CAST(? AS TIMESTAMP)' },
  { name: 'list', value: (r): SqlParam => JSON.stringify(r.list), sql: '?::JSON::VARCHAR[]' },
];

describe('insertRows', () => {
  it('stores every kind of value as it was, in row order, across chunks', async () => {
    db = await openDb(':memory:');
    await db.run(
      `CREATE TABLE t (s VARCHAR, n BIGINT, d DOUBLE, b BOOLEAN, u UBIGINT, j JSON, t TIMESTAMP,
       list VARCHAR[], s_len INTEGER)`,
    );
    const rows: R[] = [
      {
        s: 'a"b\n\\ é 🐱 \u0000 x',
        n: 9007199254740991,
        d: 0.1 + 0.2,
        b: true,
        u: 18446744073709551615n,
        j: '{"x":[1,"y"]}',
        t: '2024-01-02T03:04:05.678Z',
        list: ['one', 'two "2"'],
      },
      { s: null, n: -5, d: 1e-7, b: false, u: 0n, j: null, t: null, list: [] },
      {
        s: '',
        n: null,
        d: -1.5e300,
        b: null,
        u: 12345678901234567890n,
        j: '"str"',
        t: 'nonsense',
        list: ['x'],
      },
    ];
    await insertRows(db, 't', COLUMNS, rows, {
      chunk: 2,
      derived: [{ name: 's_len', sql: 'length(v.s)' }],
    });
    const got = await db.all<Record<string, unknown>>(
      `SELECT s, n, d, b, u, j::VARCHAR AS j, strftime(t, '%Y-%m-%d %H:%M:%S.%g') AS t, list, s_len
       FROM t ORDER BY rowid`,
    );
    expect(got.map((r) => r['s'])).toEqual(rows.map((r) => r.s));
    expect(got.map((r) => (r['n'] === null ? null : Number(r['n'])))).toEqual([9007199254740991, -5, null]);
    expect(got.map((r) => r['d'])).toEqual([0.1 + 0.2, 1e-7, -1.5e300]);
    expect(got.map((r) => r['b'])).toEqual([true, false, null]);
    expect(got.map((r) => BigInt(r['u'] as bigint))).toEqual(rows.map((r) => r.u));
    expect(got.map((r) => r['j'])).toEqual(['{"x":[1,"y"]}', null, '"str"']);
    expect(got.map((r) => r['t'])).toEqual(['2024-01-02 03:04:05.678', null, null]);
    expect(got.map((r) => r['list'])).toEqual([['one', 'two "2"'], [], ['x']]);
    expect(got.map((r) => r['s_len'])).toEqual([13, null, 0]);
  });
});
