/**
 * Disk full: a root (sidecars) and, separately, the index live on a small tmpfs the test mounts and
 * fills to the last byte. Writes fail with a clear `DISK_FULL` error (per file for sidecars, for the
 * command for the index), no sidecar is ever left truncated, the previous sidecars and index stay
 * intact, and once space is freed the next run completes and leaves no temp files behind.
 *
 * Needs root and permission to mount (true in the project's container); skipped with a message
 * where the mount fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import { runAlice } from '../helpers/cli.js';
import { findFiles, sha256Of, snapshotTree, writeImage, type Workspace } from '../helpers/fixtures.js';
import {
  cleanupWorkspaces,
  expectIndexExactly,
  expectSidecarsValid,
  fillDisk,
  mountTmpfs,
  unmountAll,
  unparsableSidecars,
  workspace,
} from './helpers.js';

afterEach(() => unmountAll());
afterAll(() => cleanupWorkspaces());

interface ErrorJson {
  error: { code: string; message: string; hint: string | null };
}

async function alice(ws: Workspace, args: string[]): Promise<ReturnType<typeof runAlice>> {
  return runAlice([...args, '--json'], { env: ws.env, timeoutMs: 120_000 });
}

async function writeImages(dir: string, from: number, count: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = from; i < from + count; i++) {
    const f = path.join(dir, `img-${i}.png`);
    await writeImage(f, { seed: 7000 + i, size: 48 });
    files.push(f);
  }
  return files;
}

/** The sidecar files (not the shard folders, which a failed write may leave empty) and their bytes. */
function sidecarFiles(lib: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(snapshotTree(path.join(lib, '.metadata'))).filter(([, v]) => v !== 'dir'),
  );
}

/** Temp files alice may have left: sidecar temps, and a half-built index. */
function leftovers(dir: string): string[] {
  return findFiles(dir).filter((f) => /alice-tmp|\.rebuilding/.test(f));
}

describe('disk full', () => {
  it('a full root: new sidecars fail per file with DISK_FULL, old ones stay whole, the next run completes', async (ctx) => {
    const ws = workspace(['lib']);
    const [lib] = ws.roots as [string];
    const skip = mountTmpfs(lib, '2m');
    if (skip !== undefined) {
      console.warn(`disk-full test skipped: ${skip}`);
      ctx.skip();
    }
    const first = await writeImages(lib, 0, 8);
    const ok = await alice(ws, ['index', 'update']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json<ScanSummary>().sidecars_written).toBe(8);
    const before = sidecarFiles(lib);

    const later = await writeImages(lib, 8, 6);
    const fillers = fillDisk(lib);
    const full = await alice(ws, ['index', 'update']);
    expect(full.code, full.stdout + full.stderr).toBe(0);
    const summary = full.json<ScanSummary>();
    expect(summary.errors.map((e) => [e.path, e.code]).sort()).toEqual(
      later.map((f) => [f, 'DISK_FULL']).sort(),
    );
    for (const e of summary.errors) expect(e.message).toMatch(/disk full/i);
    // Nothing torn, nothing half-written left, the earlier sidecars untouched.
    expect(unparsableSidecars(lib)).toEqual([]);
    expect(leftovers(lib)).toEqual([]);
    expect(sidecarFiles(lib)).toEqual(before);

    // A user edit of an existing sidecar on the full disk fails clearly and keeps the old one.
    const tag = await alice(ws, ['tag', 'add', first[0] as string, '--tag', 'subject:full-disk']);
    expect(tag.code, tag.stdout + tag.stderr).not.toBe(0);
    expect(tag.stdout + tag.stderr).toMatch(/DISK_FULL|disk full/i);
    expect(sidecarFiles(lib)).toEqual(before);

    for (const f of fillers) fs.rmSync(f);
    const again = await alice(ws, ['index', 'update']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<ScanSummary>().errors).toEqual([]);
    const all = [...first, ...later];
    expectSidecarsValid(lib, all.map(sha256Of));
    expect(leftovers(lib)).toEqual([]);
    await expectIndexExactly(ws, all);
  });

  it('a full index disk: update and rebuild fail with DISK_FULL and a hint; the old index survives; the next rebuild cleans up', async (ctx) => {
    const ws = workspace(['lib']);
    const [lib] = ws.roots as [string];
    const data = path.dirname(ws.searchDb);
    const skip = mountTmpfs(data, '16m');
    if (skip !== undefined) {
      console.warn(`disk-full test skipped: ${skip}`);
      ctx.skip();
    }
    const first = await writeImages(lib, 100, 10);
    const ok = await alice(ws, ['index', 'rebuild']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);

    const later = await writeImages(lib, 110, 5);
    const fillers = fillDisk(data);
    for (const args of [
      ['index', 'update'],
      ['index', 'rebuild'],
    ]) {
      const r = await alice(ws, args);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
      const err = r.json<ErrorJson>().error;
      expect(err.code, err.message).toBe('DISK_FULL');
      expect(err.message).toMatch(/disk full|no space/i);
      expect(err.hint ?? '').toMatch(/free/i);
    }
    expect(unparsableSidecars(lib)).toEqual([]);
    expect(leftovers(lib)).toEqual([]);

    // The index from before the disk filled up still answers.
    fs.rmSync(fillers[0] as string);
    const found = await alice(ws, ['search', '--limit', '100']);
    expect(found.code, found.stderr).toBe(0);
    expect(found.json<{ total: number }>().total).toBe(first.length);

    for (const f of fillers.slice(1)) fs.rmSync(f);
    const again = await alice(ws, ['index', 'rebuild']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.json<{ summary: ScanSummary }>().summary.errors).toEqual([]);
    expect(leftovers(data)).toEqual([]);
    const all = [...first, ...later];
    await expectIndexExactly(ws, all);
    expectSidecarsValid(lib, all.map(sha256Of));
  });
});
