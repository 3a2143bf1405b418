/**
 * trash.move / trash.undo on a real library: files move into `<root>/.alice-trash/<date>/` (never
 * deleted), the index marks them missing, undo puts exactly those files back and the index sees
 * them present again; files in project roots and files alice does not index are refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runOperation } from '../../src/app/operations.js';
import type { TrashResult, UndoResult } from '../../src/services/trash/trash.service.js';
import { NO_PROGRESS } from '../../src/ports.js';
import { makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readIndex, rebuild, withContainer } from '../helpers/library.js';

let ws: Workspace;
let lib: string;
let projects: string;

beforeEach(async () => {
  ws = makeWorkspace({ settings: { storage: { project_paths: ['projects'] } } });
  lib = ws.roots[0] ?? '';
  projects = path.join(ws.dir, 'projects');
  fs.mkdirSync(path.join(projects, 'p1'), { recursive: true });
  await writeImage(path.join(lib, 'a/keep.png'), { seed: 1 });
  await writeImage(path.join(lib, 'a/other.png'), { seed: 2 });
  await writeImage(path.join(lib, 'b/third.png'), { seed: 3 });
  await writeImage(path.join(projects, 'p1/chosen.png'), { seed: 4 });
  await rebuild(ws);
}, 60_000);

afterEach(() => ws.cleanup());

function run<T>(op: string, params: unknown): Promise<T> {
  return withContainer(
    ws,
    async (container) =>
      (await runOperation({ container, progress: NO_PROGRESS, cwd: ws.dir, remote: true }, op, params)) as T,
  );
}

describe('trash', () => {
  it('moves exactly the given files into the trash, the index follows, undo restores them', async () => {
    const other = path.join(lib, 'a/other.png');
    const third = path.join(lib, 'b/third.png');
    const hashes = [sha256Of(other), sha256Of(third)];
    const res = await run<TrashResult>('trash.move', { paths: [other, third] });
    expect(res.skipped).toEqual([]);
    expect(res.moved.map((m) => m.from).sort()).toEqual([other, third]);
    for (const m of res.moved) {
      expect(fs.existsSync(m.from)).toBe(false);
      expect(m.to).toMatch(new RegExp(`^${lib}/\\.alice-trash/\\d{4}-\\d{2}-\\d{2}/`));
      expect(sha256Of(m.to)).toBe(m.content_hash);
    }
    expect(fs.existsSync(path.join(lib, 'a/keep.png'))).toBe(true);
    let view = await readIndex(ws.searchDb);
    expect(view.locations[other]?.present).toBe(false);
    expect(view.locations[third]?.present).toBe(false);
    expect(view.locations[path.join(lib, 'a/keep.png')]?.present).toBe(true);
    expect(Object.keys(view.locations).some((p) => p.includes('.alice-trash'))).toBe(false);

    const undo = await run<UndoResult>('trash.undo', { batch: res.batch });
    expect(undo.restored.map((m) => m.from).sort()).toEqual([other, third]);
    expect([sha256Of(other), sha256Of(third)]).toEqual(hashes);
    view = await readIndex(ws.searchDb);
    expect(view.locations[other]?.present).toBe(true);
    expect(view.locations[third]?.present).toBe(true);
    await expect(run('trash.undo', { batch: res.batch })).rejects.toThrow(/already undone/);
  }, 60_000);

  it('never touches files in project folders, outside the roots or not indexed', async () => {
    const chosen = path.join(projects, 'p1/chosen.png');
    const outside = path.join(ws.dir, 'outside.png');
    await writeImage(outside, { seed: 9 });
    const fresh = path.join(lib, 'new.png');
    await writeImage(fresh, { seed: 10 });
    const res = await run<TrashResult>('trash.move', { paths: [chosen, outside, fresh] });
    expect(res.batch).toBeNull();
    expect(res.moved).toEqual([]);
    expect(Object.fromEntries(res.skipped.map((s) => [s.path, s.reason]))).toEqual({
      [chosen]: 'inside a project folder: projects are never touched',
      [outside]: 'outside the asset roots',
      [fresh]: 'not an indexed file',
    });
    for (const f of [chosen, outside, fresh]) expect(fs.existsSync(f)).toBe(true);
  }, 60_000);
});
