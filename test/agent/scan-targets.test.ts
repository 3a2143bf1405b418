/**
 * The agent's targeted scans (real files, real index): a deletion is held rather than marked
 * missing, a held path that appears elsewhere is a move, and a held path that exists again
 * (deleted and re-created within the grace window) is no longer held.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocationRow } from '../../src/adapters/index/rows.js';
import { NO_PROGRESS } from '../../src/ports.js';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import { makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readIndex, rebuild, withContainer } from '../helpers/library.js';

let ws: Workspace;
let lib: string;

beforeEach(async () => {
  ws = makeWorkspace({ roots: ['lib'] });
  [lib] = ws.roots as [string];
  await writeImage(path.join(lib, 'a.png'), { seed: 1, size: 16 });
  await writeImage(path.join(lib, 'b.png'), { seed: 2, size: 16 });
  await rebuild(ws);
});
afterEach(() => ws.cleanup());

function targeted(targets: string[], pendingVanished: LocationRow[] = []): Promise<ScanSummary> {
  return withContainer(ws, async (c) =>
    c.scanService(await c.repo()).run({
      mode: 'update',
      dryRun: false,
      allowMassDelete: false,
      progress: NO_PROGRESS,
      targets,
      pendingVanished,
      deferMissing: true,
    }),
  );
}

describe('ScanService with targets and held deletions', () => {
  it('holds a deleted path instead of marking it missing', async () => {
    const a = path.join(lib, 'a.png');
    fs.rmSync(a);
    const s = await targeted([a]);
    expect(s.vanished_pending.map((r) => r.path)).toEqual([a]);
    expect(s.missing).toBe(0);
    expect((await readIndex(ws.searchDb)).locations[a]?.present).toBe(true);
  });

  it('turns a held path and a new path with the same content into one move', async () => {
    const a = path.join(lib, 'a.png');
    const hash = sha256Of(a);
    fs.rmSync(a, { force: true });
    const held = (await targeted([a])).vanished_pending;
    await writeImage(path.join(lib, 'moved', 'a.png'), { seed: 1, size: 16 });
    const s = await targeted([path.join(lib, 'moved')], held);
    expect(s.moves).toEqual([{ content_hash: hash, from: a, to: path.join(lib, 'moved', 'a.png') }]);
    expect(s.vanished_pending).toEqual([]);
  });

  it('drops a held path that exists again, with the same or with new content', async () => {
    const a = path.join(lib, 'a.png');
    const b = path.join(lib, 'b.png');
    const bytesA = fs.readFileSync(a);
    fs.rmSync(a);
    fs.rmSync(b);
    const held = (await targeted([a, b])).vanished_pending;
    expect(held.map((r) => r.path).sort()).toEqual([a, b]);
    fs.writeFileSync(a, bytesA);
    await writeImage(b, { seed: 3, size: 16 });
    const s = await targeted([a, b], held);
    expect(s.vanished_pending).toEqual([]);
    expect(s.modified).toBe(1);
    const view = await readIndex(ws.searchDb);
    expect(view.locations[a]).toMatchObject({ present: true, content_hash: sha256Of(a) });
    expect(view.locations[b]).toMatchObject({ present: true, content_hash: sha256Of(b) });
  });
});
