/**
 * Selecting a file whose content is in no asset folder works (the project keeps it in selected/)
 * but says so: `project show` lists such a selection as missing from the library.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage } from '../helpers/fixtures.js';
import { makeProjectWorkspace, type ProjectWorkspace } from './helpers.js';

describe('project select of a file outside the library', { timeout: 120_000 }, () => {
  let ws: ProjectWorkspace;

  beforeAll(async () => {
    ws = makeProjectWorkspace();
    await writeImage(path.join(ws.lib, 'in.png'), { seed: 11 });
    fs.mkdirSync(path.join(ws.dir, 'elsewhere'));
    await writeImage(path.join(ws.dir, 'elsewhere', 'out.png'), { seed: 12 });
    await ws.json(['index', 'update']);
    await ws.json(['project', 'create', 'p']);
  });
  afterAll(() => ws.cleanup());

  it('selects it and notes that it is not in the library; a library file gets no note', async () => {
    const out = await ws.alice('project', 'select', 'p', 'elsewhere/out.png', '--why', 'x');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('selected/out.png');
    expect(out.stderr).toMatch(/note: out\.png is not in the library .*project show/);
    const lib = await ws.alice('project', 'select', 'p', 'lib/in.png', '--why', 'y');
    expect(lib.code, lib.stderr).toBe(0);
    expect(lib.stderr).not.toContain('not in the library');
    const shown = await ws.alice('project', 'show', 'p');
    expect(shown.stdout).toMatch(/MISSING .*out\.png/);
  });
});
