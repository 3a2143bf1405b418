/**
 * Issue 21 end to end, through the built binary: alice never harms what the user made. Delivered
 * exports stay byte-identical to their manifest whatever is tagged, described or embedded
 * afterwards; `selected/` hard links stay hard links; duplicate reports never suggest deleting a
 * project copy.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DupesResponse } from '../../src/services/search/dupes.service.js';
import { assertBuilt } from '../helpers/cli.js';
import { sha256sum, writeImage } from '../helpers/fixtures.js';
import { makeProjectWorkspace, type ProjectWorkspace } from '../projects/helpers.js';

const CLI_TIMEOUT = 240_000;

interface Manifest {
  files: { path: string; content_hash: string }[];
}

function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

describe('deliverables are frozen', { timeout: CLI_TIMEOUT }, () => {
  let ws: ProjectWorkspace;
  let exportDir: string;
  const lib: Record<string, string> = {};

  beforeAll(async () => {
    assertBuilt();
    ws = makeProjectWorkspace();
    for (const [name, seed] of [
      ['a.png', 1],
      ['b.jpg', 2],
      ['c.webp', 3],
    ] as const) {
      lib[name] = path.join(ws.lib, name);
      await writeImage(lib[name], { seed });
    }
    await ws.json(['index', 'update']);
    await ws.json(['project', 'create', 'trailer']);
    await ws.json(['project', 'select', 'trailer', ...Object.values(lib), '--why', 'shots']);
    await ws.json(['index', 'update']);
    const exp = await ws.json<{ dir: string }>(['project', 'export', 'trailer']);
    exportDir = exp.dir;
    await ws.json(['index', 'update']);
  });
  afterAll(() => ws?.cleanup());

  it('tag add, describe and embed --all leave every exported file as manifest.json says, and selected/ links linked', async () => {
    const selected = path.join(ws.projects, 'trailer', 'selected');
    for (const name of Object.keys(lib)) {
      expect(fs.statSync(path.join(selected, name)).ino).toBe(fs.statSync(lib[name] as string).ino);
    }
    const beforeA = sha256sum(lib['a.png'] as string);
    await ws.json(['tag', 'add', lib['a.png'] as string, '--tag', 'client:acme']);
    await ws.json(['describe', lib['b.jpg'] as string, 'a red square']);
    await ws.json(['tag', 'add', lib['c.webp'] as string, '--tag', 'mood:calm']);
    await ws.json(['embed', '--all']);
    // alice did write into the library file…
    expect(sha256sum(lib['a.png'] as string)).not.toBe(beforeA);

    // …but not into anything delivered.
    const manifest = JSON.parse(fs.readFileSync(path.join(exportDir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.files).toHaveLength(3);
    for (const f of manifest.files) expect(sha256sum(path.join(exportDir, f.path))).toBe(f.content_hash);
    expect(filesBelow(exportDir).filter((f) => !f.endsWith('manifest.json'))).toHaveLength(3);

    // selected/ files are still the library files (same inode, link count 2), with the new bytes.
    for (const name of Object.keys(lib)) {
      const sel = fs.statSync(path.join(selected, name));
      const orig = fs.statSync(lib[name] as string);
      expect(sel.ino).toBe(orig.ino);
      expect(sel.nlink).toBe(2);
    }
    // Nothing left behind by the re-linking.
    expect(fs.readdirSync(selected).filter((n) => n.endsWith('.alice-tmp'))).toEqual([]);

    const update = await ws.json<{ modified: number; new: number }>(['index', 'update']);
    expect(update).toMatchObject({ modified: 0, new: 0 });
    expect((await ws.alice('project', 'verify', 'trailer')).code).toBe(0);
  });

  it('dupes names no path under exports/ or selected/ as a non-keeper; status counts the same groups', async () => {
    // A real duplicate in the library, next to the project copies.
    fs.copyFileSync(lib['a.png'] as string, path.join(ws.lib, 'a-copy.png'));
    const update = await ws.json<{ duplicates: number }>(['index', 'update']);
    const dupes = await ws.json<DupesResponse>(['dupes']);
    const projectDir = path.join(ws.projects, 'trailer');
    for (const g of dupes.exact) {
      for (const p of g.paths) if (p !== g.keeper) expect(p.startsWith(projectDir)).toBe(false);
      expect(g.keeper.startsWith(projectDir)).toBe(false);
    }
    expect(dupes.exact).toHaveLength(1);
    expect(dupes.exact[0]?.paths.sort()).toEqual([lib['a.png'], path.join(ws.lib, 'a-copy.png')].sort());
    // The count `index update` reports (and the agent's status shows) is the same groups.
    expect(update.duplicates).toBe(dupes.exact.length);

    const all = await ws.json<DupesResponse>(['dupes', '--include-projects']);
    for (const g of all.exact) {
      for (const p of g.paths) if (p !== g.keeper) expect(p.startsWith(projectDir)).toBe(false);
    }
    expect(
      all.exact.some((g) =>
        (g.project_copies ?? []).some((p) => p.includes(`${path.sep}exports${path.sep}`)),
      ),
    ).toBe(true);
  });
});
