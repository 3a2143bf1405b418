/**
 * create → select (paths, hashes, name collisions, no-op) → move and rename in the library →
 * show still finds the selection → export with a manifest whose hashes match the exported bytes.
 * Runs the built CLI on real folders.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { Manifest } from '../../src/domain/project-manifest.js';
import type { SelectionsFile } from '../../src/domain/project.js';
import type { ExportResult } from '../../src/services/project/project-export.js';
import type { SelectResult } from '../../src/services/project/project-select.js';
import type { ProjectShow } from '../../src/services/project/project.service.js';
import { findFiles, sha256Of, sha256sum, writeImage } from '../helpers/fixtures.js';
import { makeProjectWorkspace, type ProjectWorkspace } from './helpers.js';

describe('project lifecycle (CLI)', { timeout: 120_000 }, () => {
  let ws: ProjectWorkspace;
  let proj: string;
  const hash: Record<string, string> = {};

  beforeAll(async () => {
    ws = makeProjectWorkspace();
    proj = path.join(ws.projects, 'trailer');
    await writeImage(path.join(ws.lib, 'shots', 'a.png'), { seed: 1 });
    await writeImage(path.join(ws.lib, 'other', 'a.png'), { seed: 2 });
    await writeImage(path.join(ws.lib, 'c.jpg'), { seed: 3 });
    hash['a'] = sha256Of(path.join(ws.lib, 'shots', 'a.png'));
    hash['a2'] = sha256Of(path.join(ws.lib, 'other', 'a.png'));
    hash['c'] = sha256Of(path.join(ws.lib, 'c.jpg'));
    await ws.json(['index', 'update']);
  });
  afterAll(() => ws.cleanup());

  it('create makes the layout and a project.yaml with name, description, times, status, brief', async () => {
    const r = await ws.json<{ name: string; path: string }>([
      'project',
      'create',
      'trailer',
      '--description',
      'Teaser',
    ]);
    expect(r).toMatchObject({ name: 'trailer', path: proj });
    for (const d of ['created', 'selected', 'exports', '.alice/sessions'])
      expect(fs.statSync(path.join(proj, d)).isDirectory()).toBe(true);
    const y = YAML.parse(fs.readFileSync(path.join(proj, 'project.yaml'), 'utf8')) as Record<string, unknown>;
    expect(y).toMatchObject({ name: 'trailer', description: 'Teaser', status: 'active', brief: {} });
    expect(Date.parse(String(y['created']))).not.toBeNaN();
    expect(JSON.parse(fs.readFileSync(path.join(proj, '.alice/selections.json'), 'utf8'))).toEqual({
      version: 1,
      selections: [],
    });
  });

  it('select records hash, reason, role, source; places hard links; disambiguates equal names', async () => {
    const r = await ws.json<SelectResult>([
      ...['project', 'select', 'trailer', 'lib/shots/a.png', 'lib/other/a.png'],
      ...['--why', 'opening shot', '--role', 'hero'],
    ]);
    expect(r.selected).toBe(2);
    expect(r.results.map((i) => i.file_name)).toEqual(['a.png', `a-${(hash['a2'] ?? '').slice(0, 8)}.png`]);
    expect(r.results.every((i) => i.placed === 'link')).toBe(true);
    const linked = fs.statSync(path.join(proj, 'selected', 'a.png'));
    expect(linked.ino).toBe(fs.statSync(path.join(ws.lib, 'shots', 'a.png')).ino);
    const sel = JSON.parse(
      fs.readFileSync(path.join(proj, '.alice/selections.json'), 'utf8'),
    ) as SelectionsFile;
    expect(sel.selections[0]).toMatchObject({
      content_hash: hash['a'],
      reason: 'opening shot',
      role: 'hero',
      source_path: path.join(ws.lib, 'shots', 'a.png'),
      file_name: 'a.png',
    });
    expect(Date.parse(sel.selections[0]?.selected_at ?? '')).not.toBeNaN();
  });

  it('select by content hash works, and selecting the same content again is a reported no-op', async () => {
    const r = await ws.json<SelectResult>([
      ...['project', 'select', 'trailer', hash['c'] ?? '', 'lib/shots/a.png', '--why', 'mood'],
    ]);
    expect(r.results.map((i) => i.status)).toEqual(['selected', 'already_selected']);
    expect(r.results[0]).toMatchObject({ file_name: 'c.jpg', source_path: path.join(ws.lib, 'c.jpg') });
    const sel = JSON.parse(
      fs.readFileSync(path.join(proj, '.alice/selections.json'), 'utf8'),
    ) as SelectionsFile;
    expect(sel.selections).toHaveLength(3);
    // The no-op did not overwrite the first reason.
    expect(sel.selections.find((s) => s.content_hash === hash['a'])?.reason).toBe('opening shot');
  });

  it('after a move and rename in the library and `index update`, show still lists the selection', async () => {
    fs.mkdirSync(path.join(ws.lib, 'archive'));
    fs.renameSync(path.join(ws.lib, 'shots', 'a.png'), path.join(ws.lib, 'archive', 'renamed.png'));
    await writeImage(path.join(proj, 'created', 'gen.png'), { seed: 4 });
    hash['gen'] = sha256Of(path.join(proj, 'created', 'gen.png'));
    await ws.json(['index', 'update']);
    const show = await ws.json<ProjectShow>(['project', 'show', 'trailer']);
    const a = show.selections.find((s) => s.content_hash === hash['a']);
    expect(a).toMatchObject({ reason: 'opening shot', role: 'hero', in_library: true, in_selected: true });
    expect(a?.library_paths).toEqual([path.join(ws.lib, 'archive', 'renamed.png')]);
    expect(show.counts).toEqual({ selections: 3, missing: 0, selected_files: 3, created_files: 1 });
  });

  it('export copies selected/ and created/ with a manifest whose hashes match the exported files', async () => {
    const r = await ws.json<ExportResult>(['project', 'export', 'trailer']);
    expect(r.dir.startsWith(path.join(proj, 'exports') + path.sep)).toBe(true);
    expect(r.files).toBe(4);
    const manifest = JSON.parse(fs.readFileSync(r.manifest_path, 'utf8')) as Manifest;
    const files = findFiles(r.dir).filter((f) => f !== 'manifest.json');
    expect(manifest.files.map((f) => f.path).sort()).toEqual(files);
    for (const entry of manifest.files) {
      const exported = path.join(r.dir, entry.path);
      expect(entry.content_hash).toBe(sha256sum(exported));
      expect(fs.statSync(exported).ino).not.toBe(fs.statSync(path.join(proj, entry.path)).ino);
      expect(Array.isArray(entry.tags)).toBe(true);
    }
    const byPath = new Map(manifest.files.map((f) => [f.path, f]));
    expect(byPath.get('selected/a.png')).toMatchObject({
      kind: 'selected',
      asset_hash: hash['a'],
      reason: 'opening shot',
      role: 'hero',
    });
    expect(byPath.get('selected/c.jpg')).toMatchObject({ reason: 'mood', role: null });
    expect(byPath.get('created/gen.png')).toMatchObject({
      kind: 'created',
      asset_hash: hash['gen'],
      indexed: true,
    });
    expect(manifest.project).toEqual({ name: 'trailer', description: 'Teaser' });
  });

  it('every operation appended a line to the session log', () => {
    const dir = path.join(proj, '.alice', 'sessions');
    const lines = fs
      .readdirSync(dir)
      .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as { op: string; time: string; args: unknown; result: unknown });
    expect(lines.map((l) => l.op)).toEqual(['create', 'select', 'select', 'show', 'export']);
    expect(lines[1]?.args).toMatchObject({ why: 'opening shot', role: 'hero' });
    expect(lines[2]?.result).toMatchObject({ selected: 1, already_selected: 1 });
  });

  it('list shows the project with its selection count', async () => {
    const rows = await ws.json<{ name: string; selections: number; status: string }[]>(['project', 'list']);
    expect(rows).toEqual([
      expect.objectContaining({ name: 'trailer', selections: 3, status: 'active', error: null }),
    ]);
  });
});
