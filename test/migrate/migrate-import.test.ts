/**
 * `alice migrate --from` with JSON Lines and CSV database exports, through the built CLI: records
 * by path or content hash become sidecars (or add to existing ones without overwriting), bad
 * records are skipped with their reason, a dry run and a second run change no byte.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSidecar, serialiseSidecar, type Sidecar } from '../../src/domain/sidecar.js';
import type { MigrateReport } from '../../src/services/migrate/migrate.service.js';
import { assertBuilt, runAlice } from '../helpers/cli.js';
import { makeWorkspace, sha256sum, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readIndex, readSidecarJson, sidecarFile } from '../helpers/library.js';
import { indexAsset, snapshotRoots } from './helpers.js';

let ws: Workspace;
let root: string;
const hash: Record<string, string> = {};
let jsonl: string;
let csv: string;

async function migrate(...args: string[]): Promise<MigrateReport> {
  const res = await runAlice(['--json', 'migrate', '--no-embed', ...args], { env: ws.env, cwd: ws.dir });
  if (res.code !== 0) throw new Error(`alice migrate exited ${res.code}: ${res.stderr}\n${res.stdout}`);
  return res.json<MigrateReport>();
}

function line(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

beforeAll(async () => {
  assertBuilt();
  ws = makeWorkspace();
  root = ws.roots[0] as string;
  const files = { a: 'a.png', b: 'b.jpg', c: 'sub/c.png', d: 'd, with comma.png' };
  let seed = 21;
  for (const [k, rel] of Object.entries(files)) {
    await writeImage(path.join(root, rel), { seed: seed++ });
    hash[k] = sha256sum(path.join(root, rel));
  }
  // a.png already has a 4.0 sidecar with what the user wrote.
  const a: Sidecar = newSidecar({
    contentHash: hash['a'] ?? '',
    fileName: 'a.png',
    fileSize: fs.statSync(path.join(root, 'a.png')).size,
    mediaType: 'image',
    now: '2025-01-01T00:00:00.000Z',
  });
  a.analysis.understanding.description = 'mine';
  a.last_paths = ['a.png'];
  fs.mkdirSync(path.dirname(sidecarFile(root, a.content_hash)), { recursive: true });
  fs.writeFileSync(sidecarFile(root, a.content_hash), serialiseSidecar(a));
  jsonl = path.join(ws.dir, 'export.jsonl');
  fs.writeFileSync(
    jsonl,
    [
      {
        file_path: 'a.png',
        tags: ['style:noir', 'mood:calm'],
        description: 'not mine',
        prompt: 'a duck on a lake',
      },
      { content_hash: hash['b'], tags: { subject: ['duck'] }, caption: 'B from the database' },
      { path: '/nonexistent/x.png', tags: ['x'] },
      { tags: ['orphan'] },
      '{"file_path": "a.png", "tags": [',
      '',
      { content_hash: 'zz', tags: ['t'] },
      { content_hash: '0'.repeat(64), tags: ['t'] },
      { file_path: 'sub/c.png', content_hash: '1'.repeat(64), tags: ['t'] },
      {
        original_path: 'sub/c.png',
        analysis: { understanding: { tags: { style: ['retro'] }, positive_prompt: 'retro car' } },
      },
      [1, 2],
    ]
      .map(line)
      .join('\n'),
  );
  csv = path.join(ws.dir, 'export.csv');
  fs.writeFileSync(
    csv,
    [
      'path,tags,description,prompt,keywords',
      'a.png,style:noir;subject:lake,"another, with comma",,',
      '"d, with comma.png",mood:happy,D desc,a happy duck,"x;y"',
      'missing.png,foo,,,',
    ].join('\r\n'),
  );
});
afterAll(() => ws?.cleanup());

describe('alice migrate --from (database exports)', () => {
  it('--dry-run reports the records it would import and skip, and changes no byte', async () => {
    const before = snapshotRoots(ws.roots);
    const r = await migrate('--dry-run', '--from', jsonl);
    expect(snapshotRoots(ws.roots)).toEqual(before);
    expect(fs.existsSync(ws.searchDb)).toBe(false);
    expect(r.records?.imported.map((i) => [i.line, i.created])).toEqual([
      [1, false],
      [2, true],
      [10, true],
    ]);
  });

  it('imports JSON Lines by path and by hash, and skips bad records with a reason', async () => {
    const r = await migrate('--from', jsonl);
    const rec = r.records;
    expect(rec?.format).toBe('jsonl');
    expect(rec?.records).toBe(10);
    expect(rec?.imported.map((i) => [i.line, i.content_hash, i.created])).toEqual([
      [1, hash['a'], false],
      [2, hash['b'], true],
      [10, hash['c'], true],
    ]);
    const reasons = Object.fromEntries(rec?.skipped.map((s) => [s.line, s.reason]) ?? []);
    expect(Object.keys(reasons).map(Number)).toEqual([3, 4, 5, 7, 8, 9, 11]);
    expect(reasons[3]).toMatch(/no file \/nonexistent\/x\.png inside a configured root/);
    expect(reasons[4]).toMatch(/neither a file path nor a SHA-256 content hash/);
    expect(reasons[5]).toMatch(/not valid JSON/);
    expect(reasons[7]).toMatch(/"zz" is not a SHA-256 hex digest/);
    expect(reasons[8]).toMatch(/no file or sidecar with content hash 000000000000/);
    expect(reasons[9]).toMatch(/changed since the export/);
    expect(reasons[11]).toMatch(/not a JSON object/);
  });

  it('adds to an existing sidecar without overwriting what the user wrote', () => {
    const a = readSidecarJson(root, hash['a'] ?? '');
    expect(a.analysis.understanding.description).toBe('mine');
    expect(a.analysis.understanding.tags).toEqual({ style: ['noir'], mood: ['calm'] });
    expect(a.analysis.understanding.tag_sources).toEqual({ 'style:noir': 'import', 'mood:calm': 'import' });
    expect(a.generation).toMatchObject({
      source: 'unknown',
      prompt: 'a duck on a lake',
      detected_from: 'import',
    });
  });

  it('makes full sidecars for files that had none, and the rebuilt index holds the imported data', async () => {
    const b = readSidecarJson(root, hash['b'] ?? '');
    expect(b.analysis.understanding).toMatchObject({
      tags: { subject: ['duck'] },
      description: 'B from the database',
    });
    expect(b.media).toMatchObject({ format: 'jpeg', width: 64, height: 64 });
    const c = readSidecarJson(root, hash['c'] ?? '');
    expect(c.analysis.understanding.tags).toEqual({ style: ['retro'] });
    expect(c.generation?.prompt).toBe('retro car');
    const view = await readIndex(ws.searchDb);
    expect(view.assets[hash['a'] ?? '']?.tags).toEqual(['mood:calm', 'style:noir']);
    expect(view.assets[hash['b'] ?? '']?.tags).toEqual(['subject:duck']);
    expect(await indexAsset(ws.searchDb, hash['a'] ?? '')).toMatchObject({
      prompt: 'a duck on a lake',
      description: 'mine',
    });
  });

  it('imports CSV (quoted fields, commas in names, CRLF) the same way', async () => {
    const r = await migrate('--from', csv);
    expect(r.records?.format).toBe('csv');
    expect(r.records?.imported.map((i) => [i.line, i.changes])).toEqual([
      [2, ['tags +1']],
      [3, ['tags +3', 'description', 'generation']],
    ]);
    expect(r.records?.skipped).toEqual([
      { line: 4, ref: 'missing.png', reason: expect.stringMatching(/no file missing\.png/) as string },
    ]);
    const a = readSidecarJson(root, hash['a'] ?? '');
    expect(a.analysis.understanding.tags).toEqual({ style: ['noir'], mood: ['calm'], subject: ['lake'] });
    expect(a.analysis.understanding.description).toBe('mine');
    const d = readSidecarJson(root, hash['d'] ?? '');
    expect(d.analysis.understanding).toMatchObject({
      tags: { mood: ['happy'], keywords: ['x', 'y'] },
      description: 'D desc',
    });
    expect(d.generation?.prompt).toBe('a happy duck');
    expect(d.last_paths).toEqual(['d, with comma.png']);
  });

  it('a second import of the same export changes nothing', async () => {
    const before = snapshotRoots(ws.roots);
    const r = await migrate('--from', jsonl);
    expect(r.records?.imported).toEqual([]);
    expect(r.records?.unchanged).toBe(3);
    expect(r.sidecars.migrated).toEqual([]);
    expect(snapshotRoots(ws.roots)).toEqual(before);
  });
});
