import { describe, expect, it } from 'vitest';
import {
  blockLayout,
  findNearDuplicates,
  findNearDuplicatesBruteForce,
  nearDistance,
  nearestWithin,
  type HashItem,
  type NearDuplicateResult,
} from '../../src/domain/near-duplicates.js';
import { rng } from './fixtures.js';

function random64(r: () => number): bigint {
  return (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
}

function flip(r: () => number, h: bigint, bits: number): bigint {
  let out = h;
  const used = new Set<number>();
  while (used.size < bits) used.add(Math.floor(r() * 64));
  for (const b of used) out ^= 1n << BigInt(b);
  return out;
}

/** Random hashes plus planted near copies (1..10 bits away), exact copies and chains. */
function corpus(n: number, seed: number): HashItem[] {
  const r = rng(seed);
  const items: HashItem[] = Array.from({ length: n }, (_, i) => ({ id: `r${i}`, hash: random64(r) }));
  for (let i = 0; i < n / 10; i++) {
    const src = items[Math.floor(r() * items.length)]!;
    const bits = Math.floor(r() * 11);
    items.push({ id: `n${i}`, hash: flip(r, src.hash, bits) });
  }
  return items;
}

function popcount(x: bigint): number {
  return [...x.toString(2)].filter((c) => c === '1').length;
}

/** A third, independent reference: every item pair with BigInt arithmetic, as `a|b|d`. */
function naiveDistances(items: readonly HashItem[]): { key: string; d: number }[] {
  const out: { key: string; d: number }[] = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const d = popcount(BigInt.asUintN(64, items[i]!.hash ^ items[j]!.hash));
      if (d <= 10) out.push({ key: `${items[i]!.id}|${items[j]!.id}|${d}`, d });
    }
  }
  return out;
}

function pairKeys(res: NearDuplicateResult): string[] {
  return res.pairs.map((p) => `${p.a}|${p.b}|${p.distance}`).sort();
}

describe('blockLayout', () => {
  it.each([1, 2, 3, 7, 9, 17, 64])('covers all 64 bits with %i contiguous blocks', (m) => {
    const layout = blockLayout(m);
    expect(layout).toHaveLength(m);
    expect(layout.reduce((s, b) => s + b.width, 0)).toBe(64);
    layout.forEach((b, i) => i > 0 && expect(b.start).toBe(layout[i - 1]!.start + layout[i - 1]!.width));
  });
});

describe('findNearDuplicates', () => {
  it('equals the independent naive pair list on 800 items', () => {
    const items = corpus(800, 11);
    const all = naiveDistances(items);
    for (const t of [0, 1, 4, 6, 10]) {
      const res = findNearDuplicates(items, { threshold: t, maxPairs: Infinity });
      const expected = all.filter((p) => p.d <= t).map((p) => p.key);
      expect(pairKeys(res), `t=${t}`).toEqual(expected.sort());
    }
  });

  it('equals brute force on 5,000 items with planted near pairs (groups and pairs)', () => {
    const items = corpus(5000, 12);
    for (const t of [3, 6, 8]) {
      const fast = findNearDuplicates(items, { threshold: t, maxPairs: Infinity });
      const slow = findNearDuplicatesBruteForce(items, { threshold: t, maxPairs: Infinity });
      expect(fast.groups, `t=${t}`).toEqual(slow.groups);
      expect(fast.pairs, `t=${t}`).toEqual(slow.pairs);
      expect(fast.pairs.length).toBeGreaterThan(100);
    }
  });

  it('joins chains into one component even when the ends are far apart', () => {
    const a = 0n;
    const b = 0b111111n; // 6 from a
    const c = 0b111111111111n; // 6 from b, 12 from a
    const res = findNearDuplicates([
      { id: 'c', hash: c },
      { id: 'x', hash: 0xffff_0000_ffff_0000n },
      { id: 'a', hash: a },
      { id: 'b', hash: b },
    ]);
    expect(res.groups).toEqual([['c', 'a', 'b']]);
    expect(res.pairs).toEqual([
      { a: 'c', b: 'b', distance: 6 },
      { a: 'a', b: 'b', distance: 6 },
    ]);
  });

  it('treats negative (signed 64-bit) and unsigned forms of the same bits alike', () => {
    const res = findNearDuplicates([
      { id: 'u', hash: 0xffffffffffffffffn },
      { id: 's', hash: -2n },
    ]);
    expect(res.pairs).toEqual([{ a: 'u', b: 's', distance: 1 }]);
  });

  it('collapses exact duplicates and caps pairs without losing group members', () => {
    const items: HashItem[] = Array.from({ length: 300 }, (_, i) => ({ id: `black${i}`, hash: 0n }));
    items.push({ id: 'almost-black', hash: 1n }, { id: 'far', hash: -1n });
    const res = findNearDuplicates(items, { maxPairs: 1000 });
    expect(res.pairsTruncated).toBe(true);
    expect(res.pairs).toHaveLength(1000);
    expect(res.pairs.every((p) => p.distance === 0)).toBe(true);
    expect(res.groups).toHaveLength(1);
    expect(res.groups[0]).toHaveLength(301);
    const all = findNearDuplicates(items, { maxPairs: Infinity });
    expect(all.pairsTruncated).toBe(false);
    expect(all.pairs).toHaveLength((300 * 299) / 2 + 300);
  });

  it('rejects thresholds outside 0..63', () => {
    expect(() => findNearDuplicates([], { threshold: 64 })).toThrow();
    expect(() => findNearDuplicates([], { threshold: -1 })).toThrow();
    expect(findNearDuplicates([])).toEqual({ groups: [], pairs: [], pairsTruncated: false });
  });

  // Its speed (≤ 10 s at 100,000) is a bench row (bench/search.bench.mjs --near), not a timed test.
  it('finds every planted pair among 100,000 pHashes at t=6', () => {
    const r = rng(99);
    const items: HashItem[] = Array.from({ length: 100_000 }, (_, i) => ({ id: `i${i}`, hash: random64(r) }));
    for (let i = 0; i < 1000; i++)
      items.push({ id: `p${i}`, hash: flip(r, items[i * 50]!.hash, 1 + (i % 6)) });
    const res = findNearDuplicates(items, { threshold: 6 });
    expect(res.groups.length).toBeGreaterThanOrEqual(1000);
    expect(res.pairs.filter((p) => p.b.startsWith('p'))).toHaveLength(1000);
  });
});

describe('nearestWithin', () => {
  it('returns items within t, closest first, ties in input order, at most limit', () => {
    const items: HashItem[] = [
      { id: 'd3', hash: 0b111n },
      { id: 'd1a', hash: 0b1n },
      { id: 'd9', hash: 0b111111111n },
      { id: 'd0', hash: 0n },
      { id: 'd1b', hash: 0b10n },
    ];
    expect(nearestWithin(0n, items, 6, 10)).toEqual([
      { id: 'd0', distance: 0 },
      { id: 'd1a', distance: 1 },
      { id: 'd1b', distance: 1 },
      { id: 'd3', distance: 3 },
    ]);
    expect(nearestWithin(0n, items, 6, 2).map((h) => h.id)).toEqual(['d0', 'd1a']);
  });
});

describe('findNearDuplicates with crop hashes', () => {
  /** Random items with two crop hashes each, plus "crops": items whose full hash is near another's crop hash. */
  function cropCorpus(n: number, seed: number): HashItem[] {
    const r = rng(seed);
    const items: HashItem[] = Array.from({ length: n }, (_, i) => ({
      id: `r${i}`,
      hash: random64(r),
      crops: [random64(r), random64(r)],
    }));
    for (let i = 0; i < n / 10; i++) {
      const src = items[Math.floor(r() * n)]!;
      const crop = src.crops![Math.floor(r() * 2)]!;
      items.push({
        id: `c${i}`,
        hash: flip(r, crop, Math.floor(r() * 9)),
        crops: [random64(r), random64(r)],
      });
    }
    // Identical full hashes, and an item without crops.
    items.push({ id: 'dup', hash: items[0]!.hash, crops: items[0]!.crops! });
    items.push({ id: 'bare', hash: flip(r, items[1]!.crops![0]!, 2) });
    return items;
  }

  it.each([0, 3, 6, 8])('equals brute force at t=%i (pairs, distances and groups)', (t) => {
    const items = cropCorpus(1500, 41 + t);
    const fast = findNearDuplicates(items, { threshold: t });
    const slow = findNearDuplicatesBruteForce(items, { threshold: t });
    expect(pairKeys(fast)).toEqual(pairKeys(slow));
    expect(fast.groups).toEqual(slow.groups);
    if (t >= 6) expect(fast.pairs.some((p) => p.a === 'r1' && p.b === 'bare')).toBe(true);
  });

  it('a crop hash near a full hash joins; two crop hashes alone do not', () => {
    const full = 0x0123456789abcdefn;
    const a: HashItem = { id: 'a', hash: full, crops: [0xffff0000ffff0000n] };
    const b: HashItem = { id: 'b', hash: full ^ 0xff00ff00ff00ff00n, crops: [a.hash ^ 0b111n] };
    const c: HashItem = { id: 'c', hash: 0x5555aaaa5555aaaan, crops: [0xffff0000ffff0001n] };
    expect(nearDistance(a, b)).toBe(3);
    expect(nearDistance(a, c)).toBeGreaterThan(6);
    const res = findNearDuplicates([a, b, c], { threshold: 6 });
    expect(res.groups).toEqual([['a', 'b']]);
    expect(res.pairs).toEqual([{ a: 'a', b: 'b', distance: 3 }]);
  });
});
