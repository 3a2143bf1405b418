/**
 * A rebuild starts analyses while it is still hashing (services/scan/early-analyses.ts): each new
 * content is analysed once, before the resolve step begins, within the bound; content that has a
 * sidecar is never analysed early, and an update never analyses early.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Container } from '../../src/app/container.js';
import { indexRebuild, indexUpdate } from '../../src/app/index-ops.js';
import type { MediaInfo } from '../../src/domain/media.js';
import { sha256File } from '../../src/adapters/hash.adapter.js';
import { NO_PROGRESS, type Analyser, type Analysis, type Progress } from '../../src/ports.js';
import { emptyAnalysis } from '../../src/services/scan/basic-analyser.js';
import { EarlyAnalyses } from '../../src/services/scan/early-analyses.js';
import { makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { configOf, readIndex, readSidecarJson } from '../helpers/library.js';

let ws: Workspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

const MEDIA: MediaInfo = { type: 'image', mime: 'image/png', format: 'png' };

/** An analyser that records its calls and how many ran at once; each takes `ms`. */
function recording(ms: number): Analyser & { calls: string[]; peak: number; log: string[] } {
  let running = 0;
  const a = {
    calls: [] as string[],
    peak: 0,
    log: [] as string[],
    async analyse(file: string, media: MediaInfo): Promise<Analysis> {
      a.calls.push(file);
      a.log.push(`analyse ${path.basename(file)}`);
      running++;
      a.peak = Math.max(a.peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return {
        ...emptyAnalysis(media),
        tags: [{ category: 'subject', value: path.basename(file), source: 'test' }],
      };
    },
  };
  return a;
}

describe('EarlyAnalyses', () => {
  it('runs at most `limit` at once, start returns once started, take is per path, settle waits', async () => {
    const analyser = recording(30);
    const early = new EarlyAnalyses(analyser, 2);
    for (const n of ['a', 'b', 'c', 'd', 'e']) {
      expect(early.claim(n)).toBe(true);
      await early.start(n, `/x/${n}.png`, MEDIA);
    }
    expect(early.claim('a')).toBe(false);
    expect(analyser.peak).toBe(2);
    expect(early.take('a', '/x/other.png')).toBeUndefined();
    const a = early.take('a', '/x/a.png');
    expect((await a)?.tags).toEqual([{ category: 'subject', value: 'a.png', source: 'test' }]);
    expect(early.take('a', '/x/a.png')).toBeUndefined();
    await early.settle();
    expect(analyser.calls).toHaveLength(5);
  });

  it('closes once maxHeld analyses wait to be taken, and opens again as they are taken', async () => {
    const early = new EarlyAnalyses(recording(1), 4, 2);
    for (const n of ['a', 'b']) {
      expect(early.open).toBe(true);
      early.claim(n);
      await early.start(n, `/x/${n}.png`, MEDIA);
    }
    expect(early.open).toBe(false);
    await early.take('a', '/x/a.png');
    expect(early.open).toBe(true);
    await early.settle();
  });
});

describe('a scan analyses new content while it hashes', { timeout: 120_000 }, () => {
  it('each new content once, begun before the resolve step; none again once sidecars exist', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const files: string[] = [];
    for (let i = 0; i < 12; i++) {
      const f = path.join(root, `img-${String(i).padStart(2, '0')}.png`);
      await writeImage(f, { seed: 400 + i, size: 32 });
      files.push(f);
    }
    // A copy: same content, analysed once.
    fs.copyFileSync(files[0] as string, path.join(root, 'copy.png'));
    const analyser = recording(20);
    const progress: Progress = {
      start: (phase) => void analyser.log.push(`phase ${phase}`),
      tick: () => undefined,
      done: () => undefined,
    };
    const container = new Container(configOf(ws), { analyser });
    try {
      await indexRebuild(container, { dryRun: false, verify: false, progress });
    } finally {
      await container.close();
    }
    expect(analyser.calls).toHaveLength(12);
    const resolving = analyser.log.indexOf('phase indexing');
    expect(resolving).toBeGreaterThan(0);
    expect(analyser.log.slice(0, resolving).filter((l) => l.startsWith('analyse')).length).toBeGreaterThan(0);
    // The analysis that was started early is the one recorded, for its own path.
    for (const f of files) expect(readSidecarJson(root, sha256Of(f)).last_paths).toContain(path.basename(f));
    const idx = await readIndex(ws.searchDb);
    expect(Object.keys(idx.assets)).toHaveLength(12);

    // A rebuild over existing sidecars, and an update after touching every file: nothing to analyse.
    const again = recording(1);
    const later = new Date(Date.now() + 5000);
    for (const f of files) fs.utimesSync(f, later, later);
    const c2 = new Container(configOf(ws), { analyser: again });
    try {
      await indexUpdate(c2, { dryRun: false, allowMassDelete: false, progress });
      await indexRebuild(c2, { dryRun: false, verify: false, progress });
    } finally {
      await c2.close();
    }
    expect(again.calls).toEqual([]);
  });

  it('a rebuild hashes videos first, so their analysis starts before the images', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    for (let i = 0; i < 12; i++)
      await writeImage(path.join(root, `img-${String(i).padStart(2, '0')}.png`), { seed: 500 + i, size: 32 });
    // Last in walk order (a folder lists its files in descending name order); never decoded here.
    fs.writeFileSync(path.join(root, 'aa-clip.mp4'), Buffer.from('not really a video'));
    const analyser = recording(5);
    const container = new Container(configOf(ws), { analyser });
    try {
      await indexRebuild(container, { dryRun: false, verify: false, progress: NO_PROGRESS });
    } finally {
      await container.close();
    }
    expect(analyser.calls).toHaveLength(13);
    // Among the first files hashed (two hashing lanes), not the last.
    expect(analyser.calls.slice(0, 2).map((f) => path.basename(f))).toContain('aa-clip.mp4');
  });

  it('the agent: a batch hashed ahead has its new content analysed ahead, and its pass takes that', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const known = path.join(root, 'known.png');
    await writeImage(known, { seed: 600, size: 32 });
    const analyser = recording(5);
    const container = new Container(configOf(ws), { analyser });
    try {
      await indexRebuild(container, { dryRun: false, verify: false, progress: NO_PROGRESS });
      analyser.calls.length = 0;
      const fresh = [path.join(root, 'new-1.png'), path.join(root, 'new-2.png')];
      for (const [i, f] of fresh.entries()) await writeImage(f, { seed: 610 + i, size: 32 });
      const copy = path.join(root, 'copy-of-known.png');
      fs.copyFileSync(known, copy);
      const targets = [...fresh, copy];
      const hashed = new Map(await Promise.all(targets.map(async (f) => [f, await sha256File(f)] as const)));
      const scan = container.scanService(await container.repo());
      const early = scan.analyseAhead(hashed);
      // Started before the pass runs: the known content (a copy) is not analysed at all.
      await new Promise((r) => setTimeout(r, 100));
      expect(analyser.calls.map((f) => path.basename(f)).sort()).toEqual(['new-1.png', 'new-2.png']);
      const summary = await scan.run({
        mode: 'update',
        dryRun: false,
        allowMassDelete: false,
        progress: NO_PROGRESS,
        targets,
        hashed,
        early,
      });
      expect(summary.errors).toEqual([]);
      expect(summary.new).toBe(2);
    } finally {
      await container.close();
    }
    // The pass took the analyses started ahead instead of analysing again.
    expect(analyser.calls).toHaveLength(2);
    for (const f of [path.join(root, 'new-1.png'), path.join(root, 'new-2.png')])
      expect(readSidecarJson(root, sha256Of(f)).last_paths).toEqual([path.basename(f)]);
  });
});
