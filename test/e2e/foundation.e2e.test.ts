/**
 * Issue 2 end to end, through the built `dist/cli/main.js` with its own ALICE_HOME and settings
 * file: sidecars per asset per root, duplicates, moves and renames (within and across roots) that
 * keep every sidecar field, dry runs that change no byte, and an index rebuilt from scratch that
 * gives back the same assets and locations. The tests of the first describe build on each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/domain/sidecar.js';
import type { AssetRecord } from '../../src/services/search/assets.service.js';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import { assertBuilt, runAlice } from '../helpers/cli.js';
import {
  findFiles,
  makeTempDir,
  makeWorkspace,
  removeDir,
  sha256sum,
  snapshotTree,
  writeImage,
  writeMp4,
  type Workspace,
} from '../helpers/fixtures.js';
import {
  editSidecarJson,
  readIndex,
  readSidecarJson,
  sidecarFile,
  sidecarHashes,
  type IndexView,
} from '../helpers/library.js';

/** Several child processes per test: generous, for a loaded 2-core machine; a hang still fails. */
const CLI_TIMEOUT = 180_000;

let ws: Workspace;
let photos: string;
let archive: string;
/** Relative name (root/…) → absolute path, for the files as first created. */
const f: Record<string, string> = {};
const hashOf: Record<string, string> = {};

async function alice<T>(args: string[], cwd?: string): Promise<{ code: number; data: T; stderr: string }> {
  const res = await runAlice([...args, '--json'], { env: ws.env, ...(cwd === undefined ? {} : { cwd }) });
  if (res.code !== 0) throw new Error(`alice ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
  return { code: res.code, data: res.json<T>(), stderr: res.stderr };
}

beforeAll(async () => {
  assertBuilt();
  ws = makeWorkspace({ roots: ['photos', 'archive'] });
  [photos, archive] = ws.roots as [string, string];
  const add = (rel: string): string => (f[rel] = path.join(ws.dir, rel));
  await writeImage(add('photos/a.png'), { seed: 1 });
  await writeImage(add('photos/b.jpg'), { seed: 2 });
  await writeImage(add('photos/c.webp'), { seed: 3 });
  writeMp4(add('photos/clip.mp4'), 4);
  await writeImage(add('photos/sub/d.png'), { seed: 5 });
  fs.mkdirSync(path.join(photos, 'copies'));
  fs.copyFileSync(f['photos/a.png'] as string, add('photos/copies/a-copy.png'));
  await writeImage(add('archive/e.png'), { seed: 6 });
  await writeImage(add('archive/f.webp'), { seed: 7 });
  for (const [rel, abs] of Object.entries(f)) hashOf[rel] = sha256sum(abs);
});
afterAll(() => ws?.cleanup());

describe('alice index on a tree of PNG/JPEG/WebP/MP4 files', { timeout: CLI_TIMEOUT }, () => {
  it('rebuild writes exactly one 4.0 sidecar per asset per root, named by the sha256sum of the file', async () => {
    const { data } = await alice<{ summary: ScanSummary }>(['index', 'rebuild']);
    expect(data.summary).toMatchObject({ files_seen: 8, assets: 7, new: 7, duplicates: 1, errors: [] });

    for (const root of [photos, archive]) {
      const inRoot = Object.keys(f).filter((rel) => rel.startsWith(`${path.basename(root)}/`));
      const expected = [...new Set(inRoot.map((rel) => hashOf[rel] as string))].sort();
      expect(sidecarHashes(root)).toEqual(expected);
      // Nothing else under .metadata: no temp files, no flat files; the root's identity marker.
      expect(findFiles(path.join(root, '.metadata'))).toEqual(
        [...expected.map((h) => `${h.slice(0, 2)}/${h}.json`), 'root-id'].sort(),
      );
      for (const rel of inRoot) {
        const hash = hashOf[rel] as string;
        const s = readSidecarJson(root, hash);
        expect(s.version).toBe('4.0');
        expect(s.content_hash).toBe(hash);
        expect(s.file_size).toBe(fs.statSync(f[rel] as string).size);
        expect(s.analysis.media_type).toBe(rel.endsWith('.mp4') ? 'video' : 'image');
        expect(s.analysis.understanding.tags).toEqual({});
      }
    }
    expect(fs.existsSync(ws.searchDb)).toBe(true);
  });

  it('identical files at two paths are one asset with two locations', async () => {
    const { data } = await alice<AssetRecord>(['show', 'photos/copies/a-copy.png'], ws.dir);
    expect(data.content_hash).toBe(hashOf['photos/a.png']);
    expect(data.locations.map((l) => [l.path, l.present])).toEqual([
      [f['photos/a.png'], true],
      [f['photos/copies/a-copy.png'], true],
    ]);
    expect(data.sidecar?.content_hash).toBe(hashOf['photos/a.png']);
  });

  const moves: [from: string, to: string][] = [
    ['photos/b.jpg', 'photos/b-renamed.jpg'],
    ['photos/sub/d.png', 'photos/new-folder/d.png'],
    ['photos/clip.mp4', 'photos/videos/clip-renamed.mp4'],
    ['photos/c.webp', 'archive/from-photos/c.webp'],
    ['archive/e.png', 'photos/e.png'],
  ];
  /** Copied then deleted: a new inode and mtime, so only its hash can tell it moved. */
  const copied: [string, string] = ['archive/f.webp', 'photos/f-copied.webp'];
  const tagged = ['photos/b.jpg', 'photos/c.webp', 'archive/e.png', 'archive/f.webp'];
  const before = new Map<string, Sidecar>();

  it('--dry-run (update and rebuild) reports the moves but changes no byte of tree or index', async () => {
    for (const rel of tagged) {
      const root = path.join(ws.dir, rel.split('/')[0] as string);
      before.set(
        rel,
        editSidecarJson(root, hashOf[rel] as string, (s) => {
          s.analysis.understanding.tags = { subject: [`user-tag-${path.basename(rel)}`] };
          s.analysis.understanding.description = `written by the user for ${rel}`;
          s['x_unknown_future_field'] = { keep: [1, 2, 3] };
        }),
      );
    }
    for (const [from, to] of moves) {
      fs.mkdirSync(path.dirname(path.join(ws.dir, to)), { recursive: true });
      fs.renameSync(path.join(ws.dir, from), path.join(ws.dir, to));
    }
    fs.copyFileSync(path.join(ws.dir, copied[0]), path.join(ws.dir, copied[1]));
    fs.rmSync(path.join(ws.dir, copied[0]));
    const snap = snapshotTree(ws.dir);
    expect(Object.keys(snap)).toContain('data/search.duckdb');

    const dryUpdate = await alice<ScanSummary>(['index', 'update', '--dry-run']);
    expect(dryUpdate.data).toMatchObject({ dry_run: true, moved: 6, missing: 0, new: 0 });
    expect(snapshotTree(ws.dir)).toEqual(snap);

    const dryRebuild = await alice<{ summary: ScanSummary }>(['index', 'rebuild', '--dry-run']);
    expect(dryRebuild.data.summary).toMatchObject({ dry_run: true, files_seen: 8, assets: 7 });
    expect(snapshotTree(ws.dir)).toEqual(snap);
  });

  it('update reports every move and keeps every sidecar field; across roots the sidecar moves along', async () => {
    const { data: s } = await alice<ScanSummary>(['index', 'update']);
    expect(s).toMatchObject({ moved: 6, missing: 0, new: 0, modified: 0, errors: [] });
    const expectedMoves = [...moves, copied].map(([from, to]) => ({
      content_hash: hashOf[from] as string,
      from: path.join(ws.dir, from),
      to: path.join(ws.dir, to),
    }));
    const byHash = (a: { content_hash: string }, b: { content_hash: string }): number =>
      a.content_hash.localeCompare(b.content_hash);
    expect([...s.moves].sort(byHash)).toEqual(expectedMoves.sort(byHash));

    for (const [from, to] of [...moves, copied]) {
      const hash = hashOf[from] as string;
      const oldRoot = path.join(ws.dir, from.split('/')[0] as string);
      const newRoot = path.join(ws.dir, to.split('/')[0] as string);
      const after = readSidecarJson(newRoot, hash);
      if (oldRoot !== newRoot) expect(fs.existsSync(sidecarFile(oldRoot, hash))).toBe(false);
      expect(after.last_paths).toEqual([path.relative(newRoot, path.join(ws.dir, to))]);
      const was = before.get(from);
      if (was === undefined) continue;
      const strip = ({ updated_at: _u, last_paths: _l, ...rest }: Sidecar): object => rest;
      expect(strip(after)).toEqual(strip(was));
      expect(after.analysis.understanding.tags).toEqual({ subject: [`user-tag-${path.basename(from)}`] });
      expect(after['x_unknown_future_field']).toEqual({ keep: [1, 2, 3] });
    }
    // Still exactly one sidecar per asset per root.
    expect(sidecarHashes(archive)).toEqual([hashOf['photos/c.webp']]);
    expect(sidecarHashes(photos)).toHaveLength(6);
  });

  it('deleting the index and rebuilding gives back the same assets and locations', async () => {
    const was: IndexView = await readIndex(ws.searchDb);
    expect(Object.keys(was.assets)).toHaveLength(7);
    expect(Object.keys(was.locations)).toHaveLength(8);
    expect(was.assets[hashOf['archive/e.png'] as string]?.tags).toEqual(['subject:user-tag-e.png']);
    fs.rmSync(ws.searchDb);

    const { data } = await alice<{ summary: ScanSummary }>(['index', 'rebuild']);
    expect(data.summary).toMatchObject({ assets: 7, duplicates: 1, new: 0, sidecars_written: 0 });
    expect(await readIndex(ws.searchDb)).toEqual(was);

    const shown = await alice<AssetRecord>(['show', hashOf['archive/e.png'] as string]);
    expect(shown.data.locations.map((l) => l.path)).toEqual([path.join(photos, 'e.png')]);
    expect(shown.data.sidecar?.analysis.understanding.description).toBe(
      'written by the user for archive/e.png',
    );
  });
});

describe('--dry-run on a fresh machine', { timeout: CLI_TIMEOUT }, () => {
  it('creates no index file, no folder and no ALICE_HOME', async () => {
    const dir = makeTempDir('alice-fresh-');
    try {
      const env = { ALICE_HOME: path.join(dir, 'home-not-yet') };
      for (const cmd of [
        ['index', 'update'],
        ['index', 'rebuild'],
      ]) {
        const res = await runAlice([...cmd, '--dry-run', '--json'], { cwd: dir, env });
        expect(res.code, res.stderr).toBe(0);
      }
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      removeDir(dir);
    }
  });

  it('with a settings file and media but no index: reports the work, writes nothing', async () => {
    const fresh = makeWorkspace();
    try {
      await writeImage(path.join(fresh.roots[0] as string, 'one.png'), { seed: 11 });
      await writeImage(path.join(fresh.roots[0] as string, 'two.webp'), { seed: 12 });
      const snap = snapshotTree(fresh.dir);
      const res = await runAlice(['index', 'update', '--dry-run', '--json'], { env: fresh.env });
      expect(res.code, res.stderr).toBe(0);
      expect(res.json<ScanSummary>()).toMatchObject({
        dry_run: true,
        files_seen: 2,
        new: 2,
        sidecars_written: 0,
      });
      expect(snapshotTree(fresh.dir)).toEqual(snap);
      expect(fs.existsSync(path.dirname(fresh.searchDb))).toBe(false);
    } finally {
      fresh.cleanup();
    }
  });
});
