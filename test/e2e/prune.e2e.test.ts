/**
 * `alice index prune` end to end through the built binary (issue 21, "no ghosts"): ghost assets
 * (every file gone) and orphaned sidecars are listed by `--dry-run` exactly as a real run then
 * removes them; sidecars go to `<root>/.alice-trash/`, never deleted; nothing a project selection
 * names is removed; `index verify` names prune as the fix and is clean afterwards; an offline root
 * stops the prune.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PruneReport } from '../../src/services/verify/prune.service.js';
import { eventsOf } from '../helpers/agent.js';
import { assertBuilt, runAlice, type CliResult } from '../helpers/cli.js';
import { makeWorkspace, sha256sum, snapshotTree, writeImage, type Workspace } from '../helpers/fixtures.js';

const CLI_TIMEOUT = 240_000;

const shard = (root: string, hash: string): string =>
  path.join(root, '.metadata', hash.slice(0, 2), `${hash}.json`);

/** A sound sidecar of `hash`, made by indexing `file` in a scratch library of its own. */
async function sidecarFromElsewhere(seed: number): Promise<{ hash: string; json: Buffer }> {
  const scratch = makeWorkspace({ roots: ['lib'] });
  try {
    const file = path.join(scratch.roots[0] as string, 'x.png');
    await writeImage(file, { seed });
    const r = await runAlice(['index', 'update', '--json'], { cwd: scratch.dir, env: scratch.env });
    expect(r.code).toBe(0);
    const hash = sha256sum(file);
    return { hash, json: fs.readFileSync(shard(scratch.roots[0] as string, hash)) };
  } finally {
    scratch.cleanup();
  }
}

/** The removal set of a report, comparable between a dry run and a real run. */
const removalSet = (r: PruneReport): string[] => [
  ...r.assets.map((a) => `asset ${a.content_hash}`),
  ...r.sidecars.map((s) => `${s.reason} ${s.path}`),
];

describe('alice index prune', { timeout: CLI_TIMEOUT }, () => {
  let ws: Workspace;
  let lib: string;
  let lib2: string;
  let projects: string;
  const hash: Record<string, string> = {};
  let restored: string;
  let copied: string;
  const run = (...args: string[]): Promise<CliResult> => runAlice(args, { cwd: ws.dir, env: ws.env });

  beforeAll(async () => {
    assertBuilt();
    ws = makeWorkspace({ roots: ['lib', 'lib2'], settings: { storage: { project_paths: ['projects'] } } });
    [lib, lib2] = ws.roots as [string, string];
    projects = path.join(ws.dir, 'projects');
    fs.mkdirSync(projects);
    for (const [name, seed] of [
      ['keep.png', 31],
      ['selected-gone.png', 32],
      ['tagged-gone.png', 33],
      ['moved.png', 34],
    ] as const) {
      await writeImage(path.join(lib, name), { seed });
      hash[name] = sha256sum(path.join(lib, name));
    }
    expect((await run('index', 'update')).code).toBe(0);
    expect((await run('project', 'create', 'trailer')).code).toBe(0);
    expect(
      (
        await run(
          'project',
          'select',
          'trailer',
          path.join(lib, 'keep.png'),
          path.join(lib, 'selected-gone.png'),
          '--why',
          'shots',
        )
      ).code,
    ).toBe(0);
    expect((await run('tag', 'add', path.join(lib, 'tagged-gone.png'), '--tag', 'client:acme')).code).toBe(0);
    // A selected file deleted everywhere (its selected/ link too): missing, but a selection names it.
    fs.rmSync(path.join(lib, 'selected-gone.png'));
    fs.rmSync(path.join(projects, 'trailer', 'selected', 'selected-gone.png'));
    // A tagged file deleted: a ghost carrying a user tag.
    fs.rmSync(path.join(lib, 'tagged-gone.png'));
    // Orphans: a sidecar restored from an old backup of a file gone long ago, and a copy of a
    // sidecar into a root where the content has no file.
    const old = await sidecarFromElsewhere(35);
    restored = shard(lib, old.hash);
    fs.mkdirSync(path.dirname(restored), { recursive: true });
    fs.writeFileSync(restored, old.json);
    copied = shard(lib2, hash['moved.png'] as string);
    fs.mkdirSync(path.dirname(copied), { recursive: true });
    fs.copyFileSync(shard(lib, hash['moved.png'] as string), copied);
    expect((await run('index', 'update')).code).toBe(0);
  });
  afterAll(() => ws?.cleanup());

  it('verify names prune as the fix; the dry run lists exactly what the real run removes; then verify is clean', async () => {
    const verify = await run('index', 'verify');
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/orphaned_sidecar .*alice index prune/);
    expect(verify.stdout).toMatch(/`alice index prune --dry-run` lists the ghosts/);
    const orphans = verify.stdout
      .split('\n')
      .filter((l) => l.includes('orphaned_sidecar'))
      .map((l) => l.trim().split(/\s+/)[1]?.replace(/:$/, ''))
      .sort();
    expect(orphans).toEqual([restored, copied].sort());

    const before = { lib: snapshotTree(lib), lib2: snapshotTree(lib2), projects: snapshotTree(projects) };
    const dry = await run('index', 'prune', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    const planned = dry.json<PruneReport>();
    // The dry run changes nothing.
    expect({ lib: snapshotTree(lib), lib2: snapshotTree(lib2), projects: snapshotTree(projects) }).toEqual(
      before,
    );
    expect(planned.assets.map((a) => a.content_hash)).toEqual([hash['tagged-gone.png']]);
    expect(planned.assets[0]?.tags).toBe(1);
    expect(planned.sidecars.map((s) => `${s.reason} ${s.path}`).sort()).toEqual(
      [
        `ghost ${shard(lib, hash['tagged-gone.png'] as string)}`,
        `orphaned ${restored}`,
        `orphaned ${copied}`,
      ].sort(),
    );
    // Never removed: the selected content, although every file of it is gone; said so.
    expect(planned.kept).toEqual([
      expect.objectContaining({
        content_hash: hash['selected-gone.png'],
        reason: 'a project selection names it',
      }),
    ]);
    const text = await run('index', 'prune', '--dry-run');
    expect(text.stdout).toMatch(/would remove 1 ghost asset and 3 sidecars/);
    expect(text.stdout).toMatch(/kept .*a project selection names it/);

    const real = await run('index', 'prune', '--json');
    expect(real.code).toBe(0);
    const done = real.json<PruneReport>();
    expect(removalSet(done)).toEqual(removalSet(planned));
    for (const s of done.sidecars) {
      expect(fs.existsSync(s.path)).toBe(false);
      expect(s.moved_to).toMatch(/[/]\.alice-trash[/]\d{4}-\d{2}-\d{2}[/]\.metadata[/]/);
      // Moved, not deleted: the very bytes are in the trash (the user's tag with them).
      expect(fs.existsSync(s.moved_to as string)).toBe(true);
    }
    // Event consumers mirroring the index hear of it.
    expect(eventsOf(ws, 'asset.pruned').map((e) => e.payload)).toEqual([
      {
        content_hash: hash['tagged-gone.png'],
        last_path: path.join(lib, 'tagged-gone.png'),
        sidecars: done.sidecars.filter((s) => s.reason === 'ghost').map((s) => s.moved_to),
      },
    ]);
    const ghostSidecar = done.sidecars.find((s) => s.reason === 'ghost');
    expect(fs.readFileSync(ghostSidecar?.moved_to as string, 'utf8')).toContain('acme');

    const listed = (await run('search', '--include-missing', '--json')).json<{
      results: { content_hash: string; status: string }[];
    }>();
    const hashes = listed.results.map((r) => r.content_hash);
    expect(hashes).not.toContain(hash['tagged-gone.png']);
    expect(hashes).toContain(hash['selected-gone.png']);
    expect(hashes).toContain(hash['keep.png']);
    expect(
      fs.existsSync(shard(lib, hash['selected-gone.png'] as string)) ||
        fs.existsSync(shard(projects, hash['selected-gone.png'] as string)),
    ).toBe(true);

    const after = await run('index', 'verify', '--json');
    expect(after.json<{ problems: unknown[] }>().problems).toEqual([]);
    expect(after.code).toBe(0);
    const again = (await run('index', 'prune', '--dry-run', '--json')).json<PruneReport>();
    expect(removalSet(again)).toEqual([]);
  });

  it('a root offline (gone, or an empty mount point): nothing is pruned (exit 1), and says why', async () => {
    // lib2 holds a file of its own now, and an orphaned sidecar; lib has a ghost again.
    await writeImage(path.join(lib2, 'own.png'), { seed: 36 });
    await writeImage(path.join(lib, 'gone-again.png'), { seed: 37 });
    expect((await run('index', 'update')).code).toBe(0);
    fs.rmSync(path.join(lib, 'gone-again.png'));
    expect((await run('index', 'update')).code).toBe(0);
    const orphan = shard(lib2, hash['keep.png'] as string);
    fs.mkdirSync(path.dirname(orphan), { recursive: true });
    fs.copyFileSync(shard(lib, hash['keep.png'] as string), orphan);
    expect((await run('index', 'prune', '--dry-run', '--json')).json<PruneReport>().sidecars.length).toBe(2);

    const away = `${lib2}.away`;
    fs.renameSync(lib2, away);
    try {
      for (const state of ['gone', 'an empty mount point'] as const) {
        if (state === 'an empty mount point') fs.mkdirSync(lib2);
        const r = await run('index', 'prune', '--json');
        expect(r.code, state).toBe(1);
        const rep = r.json<PruneReport>();
        expect(rep.refused, state).toMatch(state === 'gone' ? /offline.*does not exist/ : /offline.*empty/);
        expect(rep.offline_roots).toEqual([lib2]);
        expect(removalSet(rep)).toEqual([]);
      }
    } finally {
      fs.rmSync(lib2, { recursive: true, force: true });
      fs.renameSync(away, lib2);
    }
    expect(fs.existsSync(orphan)).toBe(true);
    // Back: the same prune goes ahead.
    const back = await run('index', 'prune', '--json');
    expect(back.code).toBe(0);
    expect(back.json<PruneReport>().sidecars.map((x) => x.path)).toContain(orphan);
  });
});
