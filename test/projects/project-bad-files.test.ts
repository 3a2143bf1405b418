/**
 * Hand-edited project.yaml / selections.json that do not parse or have the wrong shape: reported
 * with their line, and never overwritten (bytes compared before and after a failed select).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotTree, writeImage } from '../helpers/fixtures.js';
import { makeProjectWorkspace, type JsonError, type ProjectWorkspace } from './helpers.js';

describe('invalid project files (CLI)', { timeout: 120_000 }, () => {
  let ws: ProjectWorkspace;
  let proj: string;
  let goodYaml: string;
  let goodJson: string;

  beforeAll(async () => {
    ws = makeProjectWorkspace();
    proj = path.join(ws.projects, 'p');
    await writeImage(path.join(ws.lib, 'a.png'), { seed: 1 });
    await ws.json(['project', 'create', 'p']);
    goodYaml = fs.readFileSync(path.join(proj, 'project.yaml'), 'utf8');
    goodJson = fs.readFileSync(path.join(proj, '.alice', 'selections.json'), 'utf8');
  });
  afterAll(() => ws.cleanup());

  /** Writes `file`, runs a select that must fail, and checks the project folder is byte-identical. */
  async function failingSelect(file: string, text: string): Promise<JsonError['error']> {
    fs.writeFileSync(path.join(proj, 'project.yaml'), goodYaml);
    fs.writeFileSync(path.join(proj, '.alice', 'selections.json'), goodJson);
    fs.writeFileSync(path.join(proj, file), text);
    const before = snapshotTree(proj);
    const res = await ws.json<JsonError>(['project', 'select', 'p', 'lib/a.png', '--why', 'x'], 2);
    expect(snapshotTree(proj)).toEqual(before);
    expect(res.error.code).toBe('PROJECT_INVALID');
    expect(res.error.message).toContain(path.join(proj, file));
    return res.error;
  }

  it('project.yaml with a YAML syntax error: reported with its line, file untouched', async () => {
    const e = await failingSelect('project.yaml', 'name: p\ndescription: ok\nstatus: [active\nbrief: {}\n');
    expect(e.message).toContain('not valid YAML');
    expect(e.details.join('\n')).toMatch(/line [345]\b/);
  });

  it('project.yaml with a wrong value: the key and its line are named', async () => {
    const text =
      'name: p\ncreated: 2025-01-01T00:00:00Z\nupdated: 2025-01-01T00:00:00Z\n# comment\nstatus: bogus\n';
    const e = await failingSelect('project.yaml', text);
    expect(e.details).toEqual([expect.stringMatching(/^line 5: status: /)]);
  });

  it('selections.json that is not JSON: reported with its line, file untouched', async () => {
    const e = await failingSelect('.alice/selections.json', '{\n  "version": 1,\n  "selections": [,]\n}\n');
    expect(e.message).toContain('not valid JSON');
    expect(e.details[0]).toMatch(/^line 3, column \d+/);
  });

  it('selections.json with the wrong shape: each problem with its line', async () => {
    const text = [
      '{',
      '  "version": 1,',
      '  "selections": [',
      '    {',
      '      "content_hash": "not-a-hash",',
      '      "reason": "r",',
      '      "selected_at": "2025-01-01T00:00:00Z",',
      '      "file_name": "../../escape.png"',
      '    }',
      '  ]',
      '}',
      '',
    ].join('\n');
    const e = await failingSelect('.alice/selections.json', text);
    expect(e.details).toEqual([
      expect.stringMatching(/^line 5: selections\.0\.content_hash: /),
      expect.stringMatching(/^line 8: selections\.0\.file_name: must be a plain file name/),
    ]);
  });
});
