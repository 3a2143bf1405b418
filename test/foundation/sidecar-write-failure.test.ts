/**
 * A sidecar that cannot be written drops its asset from the pass, so the index never names an
 * asset whose sidecar is not on disk. A rebuild into its new, empty index writes the index rows
 * while the sidecars are written (scan.service.ts, `overlap`) and takes a failed asset out before
 * the commit; an update writes the sidecars first. Both must end with the same index.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { indexRebuild, indexUpdate } from '../../src/app/index-ops.js';
import { NO_PROGRESS } from '../../src/ports.js';
import { makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readIndex, sidecarFile, withContainer } from '../helpers/library.js';

let ws: Workspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

describe('a sidecar write that fails', { timeout: 120_000 }, () => {
  it('keeps its asset out of the index, in a rebuild as in an update', async () => {
    ws = makeWorkspace();
    const w = ws;
    const root = w.roots[0] as string;
    const files: string[] = [];
    for (let i = 0; i < 6; i++) {
      const f = path.join(root, `img-${i}.png`);
      await writeImage(f, { seed: 900 + i, size: 40 });
      files.push(f);
    }
    // A file where one sidecar's shard folder goes: its write fails (and only its: no other file
    // here shares the shard).
    const shardOf = (f: string): string => path.dirname(sidecarFile(root, sha256Of(f)));
    const bad = files.find((f) => files.filter((g) => shardOf(g) === shardOf(f)).length === 1) as string;
    const shard = shardOf(bad);
    fs.mkdirSync(path.dirname(shard), { recursive: true });
    fs.writeFileSync(shard, 'not a folder');

    const views = [];
    for (const op of ['rebuild', 'update'] as const) {
      fs.rmSync(w.searchDb, { force: true });
      fs.rmSync(`${w.searchDb}.wal`, { force: true });
      const summary = await withContainer(w, async (c) =>
        op === 'rebuild'
          ? (await indexRebuild(c, { dryRun: false, verify: false, progress: NO_PROGRESS })).summary
          : indexUpdate(c, { dryRun: false, allowMassDelete: false, progress: NO_PROGRESS }),
      );
      expect(
        summary.errors.map((e) => e.path),
        op,
      ).toEqual([bad]);
      const view = await readIndex(w.searchDb);
      expect(Object.keys(view.assets).sort(), op).toEqual(
        files
          .filter((f) => f !== bad)
          .map(sha256Of)
          .sort(),
      );
      expect(Object.keys(view.locations).sort(), op).toEqual(files.filter((f) => f !== bad).sort());
      views.push(view);
    }
    expect(views[0]).toEqual(views[1]);
  });
});
