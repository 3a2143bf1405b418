/**
 * Near-duplicate grouping of 64-bit perceptual hashes: every pair within Hamming distance `t`,
 * and the connected components of those pairs. Pure: no I/O.
 *
 * Fast path: multi-index hashing. Split the 64 bits into `t + 1` blocks; two hashes within `t`
 * differ in at most `t` blocks, so by pigeonhole they are equal in at least one. Bucket the hashes
 * by each block's value, compare only hashes that share a bucket, and count a pair only in the
 * first block where it matches (so each pair is verified once). Exact duplicates are collapsed
 * first, so 10,000 copies of one black image cost nothing. See docs/perceptual-hashes.md.
 */
import { hammingHalves, popcount32, toHalves } from './perceptual-hash.js';

/** One hash to group; `id` is whatever the caller needs back (content hash, path). */
export interface HashItem {
  readonly id: string;
  readonly hash: bigint;
  /**
   * pHashes of the item's centred crops (sidecar `perceptual.phash_crops`). When present, two
   * items are also near when one's crop hash is within the threshold of the other's full hash:
   * that is how a cropped copy finds its original.
   */
  readonly crops?: readonly bigint[];
}

/** Two items within the threshold; `a` comes before `b` in the input. */
export interface NearPair {
  readonly a: string;
  readonly b: string;
  readonly distance: number;
}

export interface NearDuplicateResult {
  /** Components with two or more items, largest first; ids in input order. */
  readonly groups: string[][];
  /** Pairs by distance, then input order; at most `maxPairs`. */
  readonly pairs: NearPair[];
  /** True when more than `maxPairs` pairs exist (groups are complete regardless). */
  readonly pairsTruncated: boolean;
}

export interface NearDuplicateOptions {
  /** Largest Hamming distance that counts as near (0–63). */
  readonly threshold?: number;
  /** Cap on returned pairs: a clique of k identical images has k(k-1)/2 of them. */
  readonly maxPairs?: number;
}

export const DEFAULT_NEAR_DUPLICATE_OPTIONS = Object.freeze({ threshold: 6, maxPairs: 100_000 });

interface Resolved {
  readonly threshold: number;
  readonly maxPairs: number;
}

function resolve(opts: NearDuplicateOptions): Resolved {
  const threshold = opts.threshold ?? DEFAULT_NEAR_DUPLICATE_OPTIONS.threshold;
  const maxPairs = opts.maxPairs ?? DEFAULT_NEAR_DUPLICATE_OPTIONS.maxPairs;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > 63) {
    throw new Error(`threshold must be an integer in 0..63, got ${threshold}`);
  }
  if (!(maxPairs >= 0)) throw new Error(`maxPairs must be >= 0, got ${maxPairs}`);
  return { threshold, maxPairs };
}

/** Union-find with path halving and union by size over `n` nodes. */
class DisjointSets {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;

  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
    this.size = new Int32Array(n).fill(1);
  }

  find(x: number): number {
    let i = x;
    while (this.parent[i] !== i) {
      const grand = this.parent[this.parent[i] ?? i] ?? i;
      this.parent[i] = grand;
      i = grand;
    }
    return i;
  }

  union(a: number, b: number): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if ((this.size[ra] ?? 0) < (this.size[rb] ?? 0)) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra] = (this.size[ra] ?? 0) + (this.size[rb] ?? 0);
  }
}

/** Distinct hashes as 32-bit halves, and which input items carry each. */
interface Distinct {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly members: number[][];
}

function collapse(items: readonly HashItem[]): Distinct {
  const index = new Map<bigint, number>();
  const members: number[][] = [];
  const his: number[] = [];
  const los: number[] = [];
  items.forEach((item, i) => {
    const key = BigInt.asUintN(64, item.hash);
    const u = index.get(key);
    if (u !== undefined) {
      members[u]?.push(i);
      return;
    }
    index.set(key, members.length);
    members.push([i]);
    const { hi, lo } = toHalves(key);
    his.push(hi);
    los.push(lo);
  });
  return { hi: Uint32Array.from(his), lo: Uint32Array.from(los), members };
}

/** Bit ranges [start, start + width) counted from the most significant bit, as even as possible. */
export function blockLayout(blocks: number): { start: number; width: number }[] {
  const layout: { start: number; width: number }[] = [];
  let start = 0;
  for (let b = 0; b < blocks; b++) {
    const width = Math.floor(64 / blocks) + (b < 64 % blocks ? 1 : 0);
    layout.push({ start, width });
    start += width;
  }
  return layout;
}

function blockKey(hi: number, lo: number, start: number, width: number): number {
  const end = start + width;
  if (end <= 32) return (hi >>> (32 - end)) & (2 ** width - 1);
  if (start >= 32) return (lo >>> (64 - end)) & (2 ** width - 1);
  const loBits = end - 32;
  const hiPart = hi & (2 ** (32 - start) - 1);
  return hiPart * 2 ** loBits + (lo >>> (32 - loBits));
}

/** Node indices ordered by key, with bucket boundaries (counting sort; sort for wide keys). */
function bucketsOf(keys: Uint32Array, width: number): { order: Uint32Array; bounds: number[] } {
  const n = keys.length;
  const order = new Uint32Array(n);
  if (width <= 20) {
    const counts = new Uint32Array(2 ** width + 1);
    for (const k of keys) counts[k + 1] = (counts[k + 1] ?? 0) + 1;
    for (let i = 1; i < counts.length; i++) counts[i] = (counts[i] ?? 0) + (counts[i - 1] ?? 0);
    const next = counts.slice();
    keys.forEach((k, i) => {
      const at = next[k] ?? 0;
      order[at] = i;
      next[k] = at + 1;
    });
  } else {
    const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => (keys[a] ?? 0) - (keys[b] ?? 0));
    order.set(idx);
  }
  const bounds = [0];
  for (let i = 1; i < n; i++) if (keys[order[i] ?? 0] !== keys[order[i - 1] ?? 0]) bounds.push(i);
  bounds.push(n);
  return { order, bounds };
}

/** Pairs of distinct nodes as flat triples [u, v, d, u, v, d, …]. */
function multiIndexPairs(d: Distinct, t: number): number[] {
  const n = d.hi.length;
  const layout = blockLayout(t + 1);
  const keys = layout.map(({ start, width }) => {
    const k = new Uint32Array(n);
    for (let i = 0; i < n; i++) k[i] = blockKey(d.hi[i] ?? 0, d.lo[i] ?? 0, start, width);
    return k;
  });
  const out: number[] = [];
  // Scratch copies of the hashes in bucket order: the inner loop then reads contiguous memory.
  const sortedHi = new Uint32Array(n);
  const sortedLo = new Uint32Array(n);
  layout.forEach(({ width }, b) => {
    const { order, bounds } = bucketsOf(keys[b] ?? new Uint32Array(0), width);
    for (let i = 0; i < n; i++) {
      sortedHi[i] = d.hi[order[i] ?? 0] ?? 0;
      sortedLo[i] = d.lo[order[i] ?? 0] ?? 0;
    }
    for (let s = 0; s + 1 < bounds.length; s++) {
      const to = bounds[s + 1] ?? 0;
      for (let i = bounds[s] ?? 0; i < to - 1; i++) {
        const found = scanBucket(sortedHi, sortedLo, i, to, t);
        for (let f = 0; f < found.length; f += 2) {
          const u = order[i] ?? 0;
          const v = order[found[f] ?? 0] ?? 0;
          if (firstSharedBlock(keys, u, v) === b) out.push(u, v, found[f + 1] ?? 0);
        }
      }
    }
  });
  return out;
}

const NONE: readonly number[] = [];

/** [j, distance, …] for positions j in (i, to) within `t` of position i: the hot loop. */
function scanBucket(hi: Uint32Array, lo: Uint32Array, i: number, to: number, t: number): readonly number[] {
  const uh = hi[i] ?? 0;
  const ul = lo[i] ?? 0;
  let found: number[] | undefined;
  for (let j = i + 1; j < to; j++) {
    const dh = popcount32(uh ^ (hi[j] ?? 0));
    if (dh > t) continue;
    const dist = dh + popcount32(ul ^ (lo[j] ?? 0));
    if (dist <= t) (found ??= []).push(j, dist);
  }
  return found ?? NONE;
}

function firstSharedBlock(keys: readonly Uint32Array[], u: number, v: number): number {
  for (let b = 0; b < keys.length; b++) if (keys[b]?.[u] === keys[b]?.[v]) return b;
  return -1;
}

/** Expands node pairs to item pairs (closest first) up to the cap; builds components. */
function finish(
  items: readonly HashItem[],
  d: Distinct,
  triples: number[],
  maxPairs: number,
): NearDuplicateResult {
  const sets = new DisjointSets(d.members.length);
  const nodePairs: [number, number, number][] = [];
  for (let i = 0; i < triples.length; i += 3) {
    const u = triples[i] ?? 0;
    const v = triples[i + 1] ?? 0;
    sets.union(u, v);
    nodePairs.push([u, v, triples[i + 2] ?? 0]);
  }
  // Exact duplicates are distance-0 "pairs" of a node with itself.
  d.members.forEach((m, u) => m.length > 1 && nodePairs.push([u, u, 0]));
  nodePairs.sort((x, y) => x[2] - y[2]);
  const raw: [number, number, number][] = [];
  let truncated = false;
  for (const [u, v, dist] of nodePairs) {
    truncated = !expandPair(d.members[u] ?? [], d.members[v] ?? [], u === v, dist, raw, maxPairs);
    if (truncated) break;
  }
  raw.sort((x, y) => x[2] - y[2] || x[0] - y[0] || x[1] - y[1]);
  const pairs = raw.map(([a, b, distance]) => ({ a: items[a]?.id ?? '', b: items[b]?.id ?? '', distance }));
  return { groups: groupsOf(items, d, sets), pairs, pairsTruncated: truncated };
}

/** Appends item pairs for two nodes; false when the cap was hit first. */
function expandPair(
  mu: number[],
  mv: number[],
  same: boolean,
  dist: number,
  out: [number, number, number][],
  cap: number,
): boolean {
  for (let i = 0; i < mu.length; i++) {
    for (let j = same ? i + 1 : 0; j < mv.length; j++) {
      if (out.length >= cap) return false;
      const a = mu[i] ?? 0;
      const b = mv[j] ?? 0;
      out.push(a < b ? [a, b, dist] : [b, a, dist]);
    }
  }
  return true;
}

function groupsOf(items: readonly HashItem[], d: Distinct, sets: DisjointSets): string[][] {
  const byRoot = new Map<number, number[]>();
  d.members.forEach((m, u) => {
    const root = sets.find(u);
    const list = byRoot.get(root);
    if (list === undefined) byRoot.set(root, [...m]);
    else list.push(...m);
  });
  const groups = [...byRoot.values()].filter((g) => g.length > 1).map((g) => g.sort((a, b) => a - b));
  groups.sort((x, y) => y.length - x.length || (x[0] ?? 0) - (y[0] ?? 0));
  return groups.map((g) => g.map((i) => items[i]?.id ?? ''));
}

/**
 * Distance of two items: the Hamming distance of their full hashes, or, when smaller, of one's
 * crop hash to the other's full hash (crop against crop is not compared: it adds nothing the full
 * hashes do not say).
 */
export function nearDistance(a: HashItem, b: HashItem): number {
  let d = hamming(a.hash, b.hash);
  for (const c of a.crops ?? []) d = Math.min(d, hamming(c, b.hash));
  for (const c of b.crops ?? []) d = Math.min(d, hamming(a.hash, c));
  return d;
}

function hamming(a: bigint, b: bigint): number {
  const x = toHalves(BigInt.asUintN(64, a));
  const y = toHalves(BigInt.asUintN(64, b));
  return hammingHalves(x.hi, x.lo, y.hi, y.lo);
}

/**
 * Node pairs of `d` (distinct full hashes) whose full hashes, or one's crop hash and the other's
 * full hash, are within `t`. Each node's crops are those of its first item (identical full
 * hashes are already one node). Every full and crop hash goes into one multi-index search; a
 * found pair of two full hashes or of a crop and a full hash of different nodes counts.
 */
function cropTolerantPairs(items: readonly HashItem[], d: Distinct, t: number): number[] {
  const owner: number[] = [];
  const isCrop: boolean[] = [];
  const flat: HashItem[] = [];
  d.members.forEach((m, u) => {
    const first = items[m[0] ?? 0];
    flat.push({ id: '', hash: BigInt(d.hi[u] ?? 0) * 2n ** 32n + BigInt(d.lo[u] ?? 0) });
    owner.push(u);
    isCrop.push(false);
    for (const c of first?.crops ?? []) {
      flat.push({ id: '', hash: c });
      owner.push(u);
      isCrop.push(true);
    }
  });
  const e = collapse(flat);
  const best = new Map<number, number>();
  const n = d.members.length;
  const note = (x: number, y: number, dist: number): void => {
    const u = owner[x] ?? 0;
    const v = owner[y] ?? 0;
    if (u === v || (isCrop[x] === true && isCrop[y] === true)) return;
    const key = u < v ? u * n + v : v * n + u;
    const had = best.get(key);
    if (had === undefined || dist < had) best.set(key, dist);
  };
  const triples = t === 0 ? [] : multiIndexPairs(e, t);
  for (let i = 0; i < triples.length; i += 3) {
    const dist = triples[i + 2] ?? 0;
    for (const x of e.members[triples[i] ?? 0] ?? []) {
      for (const y of e.members[triples[i + 1] ?? 0] ?? []) note(x, y, dist);
    }
  }
  // Equal hashes from different nodes (a crop hash equal to another image's full hash).
  for (const m of e.members) {
    for (let i = 0; i < m.length; i++) for (let j = i + 1; j < m.length; j++) note(m[i] ?? 0, m[j] ?? 0, 0);
  }
  const out: number[] = [];
  for (const [key, dist] of best) out.push(Math.floor(key / n), key % n, dist);
  return out;
}

/**
 * Near-duplicate pairs and groups by multi-index hashing: about a second for 100,000 pHashes at
 * t = 6 on one core (see bench). Items with `crops` are also compared crop-to-full
 * ({@link nearDistance}). Results equal {@link findNearDuplicatesBruteForce}.
 */
export function findNearDuplicates(
  items: readonly HashItem[],
  opts: NearDuplicateOptions = {},
): NearDuplicateResult {
  const { threshold, maxPairs } = resolve(opts);
  const distinct = collapse(items);
  const withCrops = items.some((i) => (i.crops?.length ?? 0) > 0);
  const triples = withCrops
    ? cropTolerantPairs(items, distinct, threshold)
    : threshold === 0
      ? []
      : multiIndexPairs(distinct, threshold);
  return finish(items, distinct, triples, maxPairs);
}

/** O(n²) reference: compares every pair of distinct hashes. For tests and benchmarks. */
export function findNearDuplicatesBruteForce(
  items: readonly HashItem[],
  opts: NearDuplicateOptions = {},
): NearDuplicateResult {
  const { threshold, maxPairs } = resolve(opts);
  const d = collapse(items);
  const withCrops = items.some((i) => (i.crops?.length ?? 0) > 0);
  const triples: number[] = [];
  for (let u = 0; u < d.hi.length; u++) {
    for (let v = u + 1; v < d.hi.length; v++) {
      const a = items[d.members[u]?.[0] ?? 0];
      const b = items[d.members[v]?.[0] ?? 0];
      const dist =
        withCrops && a !== undefined && b !== undefined
          ? nearDistance(a, b)
          : hammingHalves(d.hi[u] ?? 0, d.lo[u] ?? 0, d.hi[v] ?? 0, d.lo[v] ?? 0);
      if (dist <= threshold) triples.push(u, v, dist);
    }
  }
  return finish(items, d, triples, maxPairs);
}

/** Items within `threshold` of `query`, closest first (ties in input order), at most `limit`. */
export function nearestWithin(
  query: bigint,
  items: readonly HashItem[],
  threshold: number,
  limit: number,
): { id: string; distance: number }[] {
  const q = toHalves(BigInt.asUintN(64, query));
  const hits: { id: string; distance: number; at: number }[] = [];
  items.forEach((item, at) => {
    const h = toHalves(BigInt.asUintN(64, item.hash));
    const distance = hammingHalves(q.hi, q.lo, h.hi, h.lo);
    if (distance <= threshold) hits.push({ id: item.id, distance, at });
  });
  hits.sort((x, y) => x.distance - y.distance || x.at - y.at);
  return hits.slice(0, Math.max(0, limit)).map(({ id, distance }) => ({ id, distance }));
}
