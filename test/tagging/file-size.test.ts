/**
 * An asset's size is its file's size as it is: once alice embeds tags, the file (an alias of the
 * content first seen) is larger, and search, `--sort size` and the filters on size say so; a
 * rebuild from the files and sidecars gives the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';
import { aliceJson, SLOW } from './helpers.js';

vi.setConfig({ testTimeout: SLOW, hookTimeout: SLOW });

interface Found {
  results: { path: string; file_size: number }[];
}

let ws: Workspace;
let lib: string;

beforeAll(async () => {
  ws = makeWorkspace();
  lib = ws.roots[0] as string;
  await writeImage(path.join(lib, 'small.png'), { seed: 71, size: 32 });
  await writeImage(path.join(lib, 'big.png'), { seed: 72, size: 40 });
  expect((await aliceJson<ScanSummary>(ws, ['index', 'update'])).new).toBe(2);
});

afterAll(() => ws.cleanup());

describe('file size after embedding', () => {
  it('search and --sort size follow the file, before and after a rebuild', async () => {
    const small = path.join(lib, 'small.png');
    const before = fs.statSync(small).size;
    await aliceJson(ws, [
      'tag',
      'add',
      small,
      '--tag',
      'subject:a long tag value that makes the file larger',
    ]);
    const after = fs.statSync(small).size;
    expect(after).toBeGreaterThan(before);
    for (const step of ['after tag', 'after rebuild']) {
      if (step === 'after rebuild') await aliceJson(ws, ['index', 'rebuild']);
      const found = await aliceJson<Found>(ws, ['search', '--sort', 'size']);
      const sizes = Object.fromEntries(found.results.map((r) => [path.basename(r.path), r.file_size]));
      expect(sizes, step).toEqual({
        'small.png': after,
        'big.png': fs.statSync(path.join(lib, 'big.png')).size,
      });
      const order = found.results.map((r) => r.file_size);
      expect(order, step).toEqual([...order].sort((a, b) => b - a));
    }
  });
});
