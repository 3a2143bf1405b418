/**
 * The record importer in-process (no CLI): export formats beyond JSON Lines and CSV, and the
 * rules for where a record may point. Real files in a temp root; the basic analyser stands in for
 * sharp/exiftool, which the CLI tests cover.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAliceError } from '../../src/domain/errors.js';
import { BASIC_ANALYSER } from '../../src/services/scan/basic-analyser.js';
import { FileFinder, SidecarPlan } from '../../src/services/migrate/migrate-files.js';
import { RecordImporter, recordFormatOf } from '../../src/services/migrate/migrate-import.js';
import { NO_EVENTS } from '../../src/ports.js';
import { makeTempDir, removeDir, sha256sum, snapshotTree, writeImage } from '../helpers/fixtures.js';

let dir: string;
let root: string;
let outside: string;

function importer(dryRun: boolean): RecordImporter {
  const roots = [{ path: root, kind: 'asset' as const, isDefault: false }];
  return new RecordImporter({
    analyser: BASIC_ANALYSER,
    finder: new FileFinder({ roots, hashConcurrency: 2, locationsOf: () => Promise.resolve([]) }),
    plan: new SidecarPlan(dryRun),
    events: NO_EVENTS,
    roots: [root],
    cwd: dir,
    now: '2025-01-01T00:00:00.000Z',
    dryRun,
  });
}

beforeAll(async () => {
  dir = makeTempDir('alice-import-');
  root = path.join(dir, 'lib');
  outside = path.join(dir, 'elsewhere');
  await writeImage(path.join(root, 'one.png'), { seed: 41 });
  await writeImage(path.join(root, 'two.webp'), { seed: 42 });
  await writeImage(path.join(outside, 'three.png'), { seed: 43 });
  fs.writeFileSync(path.join(root, 'notes.txt'), 'not media');
});
afterAll(() => removeDir(dir));

describe('RecordImporter', () => {
  it('reads a .json file holding one array of records, and refuses files outside the roots', async () => {
    const file = path.join(dir, 'export.json');
    fs.writeFileSync(
      file,
      JSON.stringify([
        { path: 'one.png', tags: ['style:noir'] },
        { path: path.join(outside, 'three.png'), tags: ['x'] },
        { content_hash: sha256sum(path.join(outside, 'three.png')), tags: ['x'] },
        { path: 'notes.txt', tags: ['x'] },
        'text',
      ]),
    );
    const before = snapshotTree(root);
    const r = await importer(true).run(file);
    expect(snapshotTree(root)).toEqual(before);
    expect(r.format).toBe('jsonl');
    expect(r.imported.map((i) => [i.line, i.created, i.changes])).toEqual([[1, true, ['tags +1']]]);
    expect(r.skipped.map((s) => [s.line, s.reason])).toEqual([
      [2, expect.stringMatching(/inside a configured root/) as string],
      [3, expect.stringMatching(/no file or sidecar with content hash/) as string],
      [4, expect.stringMatching(/not a media file/) as string],
      [5, 'not a JSON object'],
    ]);
  });

  it('reads tab-separated exports and writes sidecars named by the file hash', async () => {
    const file = path.join(dir, 'export.tsv');
    fs.writeFileSync(file, 'file_path\tsubject_tags\tcaption\ntwo.webp\tduck;pond\tTwo ducks\n');
    const r = await importer(false).run(file);
    const hash = sha256sum(path.join(root, 'two.webp'));
    expect(r.imported).toMatchObject([{ line: 2, content_hash: hash, created: true }]);
    const sidecar = JSON.parse(
      fs.readFileSync(path.join(root, '.metadata', hash.slice(0, 2), `${hash}.json`), 'utf8'),
    ) as { analysis: { understanding: unknown }; last_paths: string[] };
    expect(sidecar.analysis.understanding).toMatchObject({
      tags: { subject: ['duck', 'pond'] },
      tag_sources: { 'subject:duck': 'import', 'subject:pond': 'import' },
      description: 'Two ducks',
    });
    expect(sidecar.last_paths).toEqual(['two.webp']);
    const again = await importer(false).run(file);
    expect(again.imported).toEqual([]);
    expect(again.unchanged).toBe(1);
  });

  it('refuses an unknown export format and a missing export with an AliceError', async () => {
    expect(() => recordFormatOf('/x/export.xml')).toThrow(/unknown export format/);
    const err = await importer(true)
      .run(path.join(dir, 'nope.jsonl'))
      .catch((e: unknown) => e);
    expect(isAliceError(err) && err.code).toBe('NOT_FOUND');
  });
});
