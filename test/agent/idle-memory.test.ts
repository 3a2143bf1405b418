/** The idle agent gives its grown heap back: one full collection after work, none while busy. */
import { describe, expect, it } from 'vitest';
import { IdleTrim, fullGc } from '../../src/adapters/idle-memory.adapter.js';

describe('IdleTrim', () => {
  it('collects after two quiet looks once the heap grew, never while busy, and not again until it grows', () => {
    let busy = true;
    let heap = 40e6;
    let collected = 0;
    const trim = new IdleTrim({
      busy: () => busy,
      heapUsed: () => heap,
      collect: () => {
        collected++;
        heap = 18e6;
      },
    });
    expect(trim.look()).toBe(false);
    expect(trim.look()).toBe(false);
    busy = false;
    expect(trim.look()).toBe(false); // the first quiet look only notes the quiet
    expect(trim.look()).toBe(true);
    expect(collected).toBe(1);
    expect(trim.look()).toBe(false); // nothing grew since
    heap = 20e6;
    expect(trim.look()).toBe(false); // 2 MB is not worth a collection
    heap = 30e6;
    busy = true;
    expect(trim.look()).toBe(false);
    busy = false;
    trim.look();
    expect(trim.look()).toBe(true);
    expect(collected).toBe(2);
  });

  it("Node's full collection is available without --expose-gc and frees garbage", () => {
    const gc = fullGc();
    expect(gc).not.toBeNull();
    let junk: object[] | null = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}` }));
    const before = process.memoryUsage().heapUsed;
    expect(junk.length).toBe(300_000);
    junk = null;
    gc?.();
    expect(process.memoryUsage().heapUsed).toBeLessThan(before - 10e6);
  });
});
