/** unselect (file removed only while it holds the selected content) and verify after a deletion. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SelectionsFile } from '../../src/domain/project.js';
import type { UnselectItem } from '../../src/services/project/project-unselect.js';
import type { ProjectVerify } from '../../src/services/project/project.service.js';
import { sha256Of, writeImage } from '../helpers/fixtures.js';
import { makeProjectWorkspace, type ProjectWorkspace } from './helpers.js';

type Unselect = { unselected: number; results: UnselectItem[] };

describe('project unselect and verify (CLI)', { timeout: 120_000 }, () => {
  let ws: ProjectWorkspace;
  let proj: string;
  const hash: Record<string, string> = {};
  const selections = (): SelectionsFile =>
    JSON.parse(fs.readFileSync(path.join(proj, '.alice', 'selections.json'), 'utf8')) as SelectionsFile;

  beforeAll(async () => {
    ws = makeProjectWorkspace();
    proj = path.join(ws.projects, 'job');
    for (const [name, seed] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const) {
      await writeImage(path.join(ws.lib, `${name}.png`), { seed });
      hash[name] = sha256Of(path.join(ws.lib, `${name}.png`));
    }
    await ws.json(['index', 'update']);
    await ws.json(['project', 'create', 'job']);
    await ws.json([
      'project',
      'select',
      'job',
      'lib/a.png',
      'lib/b.png',
      'lib/c.png',
      '--why',
      'client pick',
    ]);
  });
  afterAll(() => ws.cleanup());

  it('unselect by path removes the record and the file in selected/; the library file stays', async () => {
    const r = await ws.json<Unselect>(['project', 'unselect', 'job', 'lib/a.png']);
    expect(r.results).toEqual([
      { ref: path.join(ws.lib, 'a.png'), content_hash: hash['a'], status: 'unselected', file_removed: true },
    ]);
    expect(selections().selections.map((s) => s.content_hash)).toEqual([hash['b'], hash['c']]);
    expect(fs.existsSync(path.join(proj, 'selected', 'a.png'))).toBe(false);
    expect(fs.existsSync(path.join(ws.lib, 'a.png'))).toBe(true);
  });

  it('unselect by hash prefix keeps a selected/ file that no longer holds that content; repeats are no-ops', async () => {
    const placed = path.join(proj, 'selected', 'b.png');
    fs.rmSync(placed); // unlink first: writing through the hard link would change the library file
    await writeImage(placed, { seed: 99 });
    const before = sha256Of(placed);
    const prefix = (hash['b'] ?? '').slice(0, 10);
    const r = await ws.json<Unselect>(['project', 'unselect', 'job', prefix, hash['a'] ?? '']);
    expect(r.results).toEqual([
      { ref: prefix, content_hash: hash['b'], status: 'unselected', file_removed: false },
      { ref: hash['a'], content_hash: null, status: 'not_selected', file_removed: false },
    ]);
    expect(sha256Of(placed)).toBe(before);
    expect(selections().selections.map((s) => s.content_hash)).toEqual([hash['c']]);
  });

  it('verify reports a selection whose content was deleted from the library (exit 1)', async () => {
    fs.rmSync(path.join(ws.lib, 'c.png'));
    await ws.json(['index', 'update']);
    const r = await ws.json<ProjectVerify>(['project', 'verify', 'job'], 1);
    expect(r.ok).toBe(false);
    expect(r.checked).toBe(1);
    expect(r.missing).toHaveLength(1);
    // The hard link in selected/ is indexed too, but a project copy does not count as the library.
    expect(r.missing[0]).toMatchObject({
      content_hash: hash['c'],
      reason: 'client pick',
      in_library: false,
      in_selected: true,
      source_path: path.join(ws.lib, 'c.png'),
    });
    const text = await ws.alice('project', 'verify', 'job');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(hash['c']);
  });
});
