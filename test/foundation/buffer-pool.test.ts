/**
 * Read buffers are reused (adapters/buffer-pool.ts) and the analyser gives its shared read back
 * only once every part has finished with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferPool, sizeClass } from '../../src/adapters/buffer-pool.js';
import { readFileIfAdmitted } from '../../src/adapters/fs.adapter.js';
import { KEEP_BYTES_MAX, sha256FileKeeping } from '../../src/adapters/hash.adapter.js';
import { windowedReader, bytesPositional } from '../../src/adapters/positional.js';
import { mediaInfoFor } from '../../src/domain/media.js';
import { ContentAnalyser } from '../../src/services/scan/analyse.service.js';
import { makeWorkspace, sha256Of, type Workspace } from '../helpers/fixtures.js';

let ws: Workspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

describe('BufferPool', () => {
  it('hands a released buffer out again, keeps at most maxFreeBytes, ignores foreign and repeated releases', () => {
    const pool = new BufferPool(3 * 64 * 1024, 1024 * 1024);
    expect(sizeClass(1)).toBe(64 * 1024);
    expect(sizeClass(64 * 1024 + 1)).toBe(128 * 1024);
    const a = pool.acquire(1000);
    expect(a.length).toBe(1000);
    pool.release(a.subarray(10, 20)); // any view of it gives it back
    expect(pool.idleBytes).toBe(64 * 1024);
    const b = pool.acquire(5000);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.idleBytes).toBe(0);
    pool.release(b);
    pool.release(b); // twice: once only
    expect(pool.idleBytes).toBe(64 * 1024);
    pool.release(Buffer.alloc(100)); // not ours
    expect(pool.idleBytes).toBe(64 * 1024);
    // Over the limit: left to the collector.
    const big = [pool.acquire(100_000), pool.acquire(100_000), pool.acquire(100_000)];
    for (const x of big) pool.release(x);
    expect(pool.idleBytes).toBeLessThanOrEqual(3 * 64 * 1024);
    // Larger than maxBufferBytes: its own buffer, never kept.
    const huge = pool.acquire(2 * 1024 * 1024);
    const before = pool.idleBytes;
    pool.release(huge);
    expect(pool.idleBytes).toBe(before);
  });

  it('drops the kept buffers once none was asked for during idleMs, keeps them while in use', async () => {
    const pool = new BufferPool(1024 * 1024, 1024 * 1024, 40);
    pool.release(pool.acquire(1000));
    expect(pool.idleBytes).toBe(64 * 1024);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 25));
      pool.release(pool.acquire(1000)); // in use: kept
    }
    expect(pool.idleBytes).toBe(64 * 1024);
    // Two checks without a request (the first clears the mark the last request left).
    for (let waited = 0; pool.idleBytes > 0 && waited < 3000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    expect(pool.idleBytes).toBe(0);
    pool.release(pool.acquire(1000)); // and it works again afterwards
    expect(pool.idleBytes).toBe(64 * 1024);
    pool.trim();
  });

  it('a windowed reader with a scratch buffer reads the same bytes as without', async () => {
    ws = makeWorkspace();
    const f = path.join(ws.roots[0] as string, 'x.bin');
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
    fs.writeFileSync(f, data);
    const h = await fs.promises.open(f, 'r');
    try {
      const scratch = new Uint8Array(64 * 1024);
      const read = windowedReader(h, 64 * 1024, scratch);
      const plain = windowedReader(bytesPositional(data), 64 * 1024);
      for (const pos of [0, 8, 65_530, 65_536, 131_000, 299_990, 200_000, 5])
        expect(Buffer.from(await read(pos, 12))).toEqual(Buffer.from(await plain(pos, 12)));
    } finally {
      await h.close();
    }
  });
});

describe('the analyser and its shared read', () => {
  it('gives the bytes back after every part has finished, never while one still reads them', async () => {
    ws = makeWorkspace();
    const f = path.join(ws.roots[0] as string, 'a.png');
    fs.writeFileSync(f, Buffer.alloc(500, 9));
    const events: string[] = [];
    let given: Buffer | undefined;
    const analyser = new ContentAnalyser({
      readSmall: async (file, admit) => (given = await readFileIfAdmitted(file, admit)),
      releaseSmall: (b) => {
        expect(b).toBe(given);
        events.push('released');
      },
      image: async (_file, bytes) => {
        const b = await bytes?.();
        await new Promise((r) => setTimeout(r, 30));
        events.push(`image read ${b?.[0]}`);
        return { ok: false, reason: 'not decoded in this test' };
      },
      pngText: async (_file, bytes) => {
        const b = await bytes?.();
        await new Promise((r) => setTimeout(r, 10));
        events.push(`text read ${b?.[499]}`);
        return { chunks: {}, warnings: [] };
      },
      generation: () => ({ generation: null, warnings: [] }),
    });
    const media = mediaInfoFor('a.png');
    if (media === undefined) throw new Error('png is media');
    await analyser.analyse(f, media);
    await new Promise((r) => setTimeout(r, 0));
    expect(events).toEqual(['image read 9', 'text read 9', 'released']);
  });

  it('takes bytes the rebuild read while hashing: the file is not read again, and they go back after', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const small = path.join(root, 'small.png');
    const big = path.join(root, 'big.png');
    fs.writeFileSync(small, Buffer.alloc(3000, 5));
    fs.writeFileSync(big, Buffer.alloc(KEEP_BYTES_MAX + 1, 6));
    const kept = await sha256FileKeeping(small);
    expect(kept.hash).toBe(sha256Of(small));
    expect(kept.bytes?.equals(fs.readFileSync(small))).toBe(true);
    const streamed = await sha256FileKeeping(big);
    expect(streamed.hash).toBe(sha256Of(big));
    expect(streamed.bytes).toBeUndefined();

    let reads = 0;
    const released: Buffer[] = [];
    let seen: Buffer | undefined;
    const analyser = new ContentAnalyser({
      readSmall: (file, admit) => {
        reads++;
        return readFileIfAdmitted(file, admit);
      },
      releaseSmall: (b) => void released.push(b),
      image: async (_file, bytes) => {
        seen = await bytes?.();
        return { ok: false, reason: 'not decoded in this test' };
      },
    });
    const media = mediaInfoFor('small.png');
    if (media === undefined) throw new Error('png is media');
    await analyser.analyse(small, media, kept.bytes);
    await new Promise((r) => setTimeout(r, 0));
    expect(reads).toBe(0);
    expect(seen).toBe(kept.bytes);
    expect(released).toEqual([kept.bytes]);
  });
});
