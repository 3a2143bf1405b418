/**
 * `index rebuild|update` in-process against real files and a real DuckDB file: in-place edits,
 * aliases, the mass-delete guard, offline roots, unchanged files left unread, and bad input.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/adapters/duckdb.adapter.js';
import { sha256File } from '../../src/adapters/hash.adapter.js';
import { pixelHash } from '../../src/adapters/sharp.adapter.js';
import { Container } from '../../src/app/container.js';
import { indexUpdate } from '../../src/app/index-ops.js';
import { NO_PROGRESS } from '../../src/ports.js';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import { runAlice } from '../helpers/cli.js';
import {
  imageBytes,
  makeWorkspace,
  sha256Of,
  writeImage,
  writeMp4,
  type Workspace,
} from '../helpers/fixtures.js';
import {
  configOf,
  editSidecarJson,
  readIndex,
  readSidecarJson,
  rebuild,
  update,
  verify,
  withContainer,
} from '../helpers/library.js';

let ws: Workspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

async function images(root: string, names: string[], seed0: number): Promise<string[]> {
  const out: string[] = [];
  for (const [i, n] of names.entries()) {
    const f = path.join(root, n);
    await writeImage(f, { seed: seed0 + i });
    out.push(f);
  }
  return out;
}

describe('in-place edit by another program', () => {
  it('becomes a new asset derived_from the old one, carrying its user tags and description', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const [file] = await images(root, ['edit-me.png'], 100);
    await rebuild(ws);
    const oldHash = sha256Of(file as string);
    editSidecarJson(root, oldHash, (s) => {
      s.analysis.understanding.tags = { subject: ['cat'], style: ['watercolor'] };
      s.analysis.understanding.description = 'my cat, painted';
    });
    fs.writeFileSync(file as string, await imageBytes('png', 101));
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file as string, later, later);
    const newHash = sha256Of(file as string);

    const summary = await update(ws);

    expect(summary.modified).toBe(1);
    expect(summary.new).toBe(0);
    const fresh = readSidecarJson(root, newHash);
    expect(fresh.derived_from).toBe(oldHash);
    expect(fresh.analysis.understanding.tags).toEqual({ subject: ['cat'], style: ['watercolor'] });
    expect(fresh.analysis.understanding.description).toBe('my cat, painted');
    const idx = await readIndex(ws.searchDb);
    expect(idx.locations[file as string]?.content_hash).toBe(newHash);
    expect(idx.assets[newHash]).toMatchObject({ status: 'present', derived_from: oldHash });
    expect(idx.assets[newHash]?.tags).toEqual(['style:watercolor', 'subject:cat']);
    expect(idx.assets[oldHash]?.status).toBe('missing');
    // The old asset's sidecar (what the user wrote) is kept.
    expect(readSidecarJson(root, oldHash).analysis.understanding.description).toBe('my cat, painted');
    // A consistent state: the old asset is remembered as missing, which is not drift.
    expect((await verify(ws, { full: true })).problems).toEqual([]);
  });
});

// Through the binary: the analyser that decodes (the in-process container's reads no pixels).
describe('a metadata-only edit by another program keeps the asset', { timeout: 180_000 }, () => {
  it('by the image hash; and by a pixel hash taken then for a sidecar older than image hashes', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const [now, legacy, repainted] = await images(root, ['now.png', 'legacy.jpg', 'repainted.png'], 120);
    const built = await runAlice(['index', 'rebuild', '--json'], { env: ws.env });
    expect(built.code, built.stderr).toBe(0);
    const before = Object.fromEntries(
      [now, legacy, repainted].map((f) => [f as string, sha256Of(f as string)]),
    );
    for (const f of [now, legacy, repainted]) {
      expect(readSidecarJson(root, before[f as string] as string).image_hash).toMatch(/^[0-9a-f]{64}$/);
    }
    // A sidecar written before image hashes: only the decoded pixels' hash.
    const legacyPixels = await pixelHash(legacy as string);
    expect(legacyPixels).toMatch(/^[0-9a-f]{64}$/);
    editSidecarJson(root, before[legacy as string] as string, (s) => {
      delete s.image_hash;
      s.pixel_hash = legacyPixels as string;
    });
    for (const f of [now, legacy])
      execFileSync('exiftool', ['-q', '-overwrite_original', '-XMP-dc:Subject+=endcard', f as string]);
    // New pixels, same name: a new asset, whatever the sidecar holds.
    fs.writeFileSync(repainted as string, await imageBytes('png', 130));
    const later = new Date(Date.now() + 5000);
    for (const f of [now, legacy, repainted]) fs.utimesSync(f as string, later, later);

    const res = await runAlice(['index', 'update', '--json'], { env: ws.env });
    expect(res.code, res.stderr).toBe(0);
    const summary = res.json<ScanSummary>();

    const idx = await readIndex(ws.searchDb);
    for (const f of [now, legacy]) {
      expect(sha256Of(f as string)).not.toBe(before[f as string]);
      expect(idx.locations[f as string]?.content_hash).toBe(before[f as string]);
      expect(readSidecarJson(root, before[f as string] as string).aliases).toContain(sha256Of(f as string));
    }
    const fresh = sha256Of(repainted as string);
    expect(idx.locations[repainted as string]?.content_hash).toBe(fresh);
    expect(readSidecarJson(root, fresh).derived_from).toBe(before[repainted as string]);
    expect(summary.modified).toBe(3);
  });
});

describe('asset.duplicate_found', () => {
  async function updateEmitting(w: Workspace): Promise<{ type: string; payload: Record<string, unknown> }[]> {
    const emitted: { type: string; payload: Record<string, unknown> }[] = [];
    const container = new Container(configOf(w), {
      events: { emit: (type, payload) => void emitted.push({ type, payload: { ...payload } }) },
    });
    try {
      await indexUpdate(container, { dryRun: false, allowMassDelete: false, progress: NO_PROGRESS });
    } finally {
      await container.close();
    }
    return emitted.filter((e) => e.type === 'asset.duplicate_found');
  }

  it('is emitted for a copy at a new path, not again when the copies only move', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const a = path.join(root, 'sub', 'a.png');
    await writeImage(a, { seed: 140 });
    await update(ws);
    const b = path.join(root, 'sub', 'b.png');
    fs.copyFileSync(a, b);
    const first = await updateEmitting(ws);
    expect(first).toHaveLength(1);
    expect(first[0]?.payload).toMatchObject({ path: b, duplicate_of: [a] });

    // A renamed folder: two moves, no new duplicate.
    fs.renameSync(path.join(root, 'sub'), path.join(root, 'renamed'));
    expect(await updateEmitting(ws)).toEqual([]);
    const idx = await readIndex(ws.searchDb);
    expect(idx.locations[path.join(root, 'renamed', 'a.png')]?.present).toBe(true);

    // A third copy is news again, named by its own path.
    const c = path.join(root, 'c.png');
    fs.copyFileSync(path.join(root, 'renamed', 'a.png'), c);
    const third = await updateEmitting(ws);
    expect(third).toHaveLength(1);
    expect(third[0]?.payload.path).toBe(c);
  });
});

describe('a renamed file', { timeout: 180_000 }, () => {
  it('is shown, searched and sorted by its new name, not the first-seen one', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const [before] = await images(root, ['cyberpunk-01.png'], 150);
    const env = { env: ws.env };
    expect((await runAlice(['index', 'rebuild', '--json'], env)).code).toBe(0);
    const search = async (word: string): Promise<{ path: string; file_name: string }[]> => {
      const r = await runAlice(['search', word, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      return r.json<{ results: { path: string; file_name: string }[] }>().results;
    };
    expect((await search('cyberpunk')).map((r) => r.file_name)).toEqual(['cyberpunk-01.png']);

    const after = path.join(root, 'neon-city.png');
    fs.renameSync(before as string, after);
    const moved = await runAlice(['index', 'update', '--json'], env);
    expect(moved.json<ScanSummary>().moved).toBe(1);

    expect(await search('neon')).toEqual([
      expect.objectContaining({ path: after, file_name: 'neon-city.png' }),
    ]);
    expect(await search('cyberpunk')).toEqual([]);
  });
});

describe('one asset, several byte-hashes', () => {
  it('a file whose hash is an alias of an asset is a location of that asset', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const [a] = await images(root, ['orig.png'], 110);
    await rebuild(ws);
    const assetHash = sha256Of(a as string);
    const embedded = path.join(root, 'with-tags-embedded.png');
    await writeImage(embedded, { seed: 111 });
    const aliasHash = sha256Of(embedded);
    editSidecarJson(root, assetHash, (s) => {
      s.aliases = [aliasHash];
    });

    await rebuild(ws);

    const idx = await readIndex(ws.searchDb);
    expect(Object.keys(idx.assets)).toEqual([assetHash]);
    expect(idx.locations[embedded]?.content_hash).toBe(assetHash);
    const shown = await withContainer(ws, async (c) => (await c.assetsService()).record(aliasHash));
    expect(shown.content_hash).toBe(assetHash);
    expect(shown.aliases).toEqual([aliasHash]);
    expect(shown.locations.map((l) => [l.path, l.byte_hash]).sort()).toEqual(
      [
        [a, assetHash],
        [embedded, aliasHash],
      ].sort(),
    );
  });
});

// Runs the binary once: generous timeout for a loaded machine.
describe('mass-delete guard', { timeout: 180_000 }, () => {
  it('refuses to mark more than 20% of a root (≥ 10 files) missing unless allowed', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const files = await images(
      root,
      Array.from({ length: 10 }, (_, i) => `m${i}.png`),
      200,
    );
    await rebuild(ws);
    for (const f of files.slice(0, 3)) fs.rmSync(f);

    const blocked = await update(ws);
    expect(blocked.missing).toBe(0);
    expect(blocked.mass_delete_blocked).toEqual([{ root, would_mark: 3, present: 10 }]);
    let idx = await readIndex(ws.searchDb);
    expect(Object.values(idx.locations).every((l) => l.present)).toBe(true);

    // The refusal is logged at warn and emitted as an event, with the root and the counts.
    const logged: { level: string; msg: string; meta: Record<string, unknown> }[] = [];
    const emitted: { type: string; payload: unknown }[] = [];
    const log =
      (level: string) =>
      (msg: string, meta: Record<string, unknown> = {}) =>
        void logged.push({ level, msg, meta });
    const container = new Container(configOf(ws), {
      logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      events: { emit: (type, payload) => void emitted.push({ type, payload }) },
    });
    try {
      const again = await indexUpdate(container, {
        dryRun: false,
        allowMassDelete: false,
        progress: NO_PROGRESS,
      });
      expect(again.mass_delete_blocked).toHaveLength(1);
    } finally {
      await container.close();
    }
    expect(logged.filter((l) => l.level === 'warn' && /mass delete/.test(l.msg))).toEqual([
      expect.objectContaining({ meta: expect.objectContaining({ root, would_mark: 3, present: 10 }) }),
    ]);
    expect(emitted.filter((e) => e.type === 'safety.refused')).toEqual([
      {
        type: 'safety.refused',
        payload: expect.objectContaining({ kind: 'mass_delete', root, would_mark: 3, present: 10 }),
      },
    ]);
    // The command exits non-zero and says why.
    const refused = await runAlice(['index', 'update'], { env: ws.env });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stdout).toContain(`refused to mark 3 of 10 files missing in ${root}`);
    expect(refused.stdout).toContain('--allow-mass-delete');

    // Through the binary, to prove the flag reaches the scan.
    const res = await runAlice(['index', 'update', '--allow-mass-delete', '--json'], { env: ws.env });
    expect(res.code, res.stderr).toBe(0);
    const allowed = res.json<ScanSummary>();
    expect(allowed.mass_delete_blocked).toEqual([]);
    expect(allowed.missing).toBe(3);
    idx = await readIndex(ws.searchDb);
    for (const f of files.slice(0, 3)) expect(idx.locations[f]?.present).toBe(false);
    expect(Object.values(idx.assets).filter((a) => a.status === 'missing')).toHaveLength(3);
  });

  it('a small share is marked missing without asking', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const files = await images(
      root,
      Array.from({ length: 10 }, (_, i) => `s${i}.png`),
      300,
    );
    await rebuild(ws);
    fs.rmSync(files[0] as string);
    const s = await update(ws);
    expect(s.mass_delete_blocked).toEqual([]);
    expect(s.missing).toBe(1);
  });
});

describe('offline roots', () => {
  it('a configured root that does not exist is reported offline; the run goes on', async () => {
    ws = makeWorkspace({ roots: ['here', 'not-mounted'], create: false });
    fs.mkdirSync(ws.roots[0] as string);
    await images(ws.roots[0] as string, ['x.png'], 400);
    const s = await rebuild(ws);
    expect(s.offline_roots).toEqual([ws.roots[1]]);
    expect(s.assets).toBe(1);
    expect(fs.existsSync(ws.roots[1] as string)).toBe(false);
  });

  it('a root removed after indexing is offline and none of its assets is marked missing', async () => {
    ws = makeWorkspace({ roots: ['local', 'usb'] });
    const [local, usb] = ws.roots as [string, string];
    await images(local, ['l.png'], 410);
    const usbFiles = await images(usb, ['u1.png', 'u2.jpg'], 420);
    await rebuild(ws);
    fs.renameSync(usb, `${usb}-unplugged`);

    const s = await update(ws);
    expect(s.offline_roots).toEqual([usb]);
    expect(s.missing).toBe(0);
    const idx = await readIndex(ws.searchDb);
    for (const f of usbFiles) expect(idx.locations[f]?.present).toBe(true);
    expect(Object.values(idx.assets).map((a) => a.status)).toEqual(['present', 'present', 'present']);
    const report = await verify(ws);
    expect(report.offline_roots).toEqual([usb]);
    expect(report.problems).toEqual([]);
  });
});

describe('update reads only what changed', () => {
  it('files whose size, mtime and inode match the index are not opened', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const [a, b] = await images(root, ['a.png', 'b.png'], 500);
    // Whole seconds, so the mtime can be restored exactly after the edit below.
    for (const f of [a, b]) fs.utimesSync(f as string, 1_700_000_000, 1_700_000_000);
    await rebuild(ws);
    // Same size, same mtime, same inode, different bytes: only reading the file could notice.
    const st = fs.statSync(a as string);
    const fd = fs.openSync(a as string, 'r+');
    fs.writeSync(fd, Buffer.from([0x42, 0x42, 0x42]), 0, 3, Math.floor(st.size / 2));
    fs.closeSync(fd);
    fs.utimesSync(a as string, 1_700_000_000, 1_700_000_000);
    fs.appendFileSync(b as string, Buffer.from([0])); // a real change next to it

    const s = await update(ws);
    expect(s).toMatchObject({ files_seen: 2, unchanged: 1, hashed: 1, modified: 1 });
    // … which is exactly what `verify --full` is for.
    const report = await verify(ws, { full: true });
    expect(report.problems.map((p) => [p.kind, p.path])).toEqual([['hash_mismatch', a]]);
  });
});

describe('bad input: a clear per-file error, and the run goes on', () => {
  it('empty files, broken symlinks, symlink loops, non-UTF-8 names, FIFOs and folders named like images', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const [good] = await images(root, ['good.png'], 600);
    writeMp4(path.join(root, 'clip.mp4'), 7);
    fs.writeFileSync(path.join(root, 'empty.png'), '');
    fs.symlinkSync(path.join(root, 'gone.png'), path.join(root, 'broken.png'));
    fs.symlinkSync(path.join(root, 'loop-b.jpg'), path.join(root, 'loop-a.jpg'));
    fs.symlinkSync(path.join(root, 'loop-a.jpg'), path.join(root, 'loop-b.jpg'));
    fs.symlinkSync(root, path.join(root, 'dir-loop'));
    const badName = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0xff, 0xfe]), Buffer.from('.png')]);
    fs.writeFileSync(badName, await imageBytes('png', 601));
    execFileSync('mkfifo', [path.join(root, 'pipe.png')]);
    fs.mkdirSync(path.join(root, 'folder.png'));
    await images(path.join(root, 'folder.png'), ['inside.webp'], 602);

    const s = await rebuild(ws);

    const errs = Object.fromEntries(s.errors.map((e) => [path.relative(root, e.path), e]));
    expect(Object.keys(errs).sort()).toEqual(
      ['broken.png', 'empty.png', 'loop-a.jpg', 'loop-b.jpg', '\uFFFD\uFFFD.png'].sort(),
    );
    expect(errs['empty.png']).toMatchObject({ code: 'EEMPTY', message: expect.stringMatching(/empty/) });
    expect(errs['broken.png']).toMatchObject({
      code: 'ENOENT',
      message: expect.stringMatching(/broken symlink/),
    });
    expect(errs['loop-a.jpg']).toMatchObject({ code: 'ELOOP', message: 'symlink loop' });
    expect(errs['\uFFFD\uFFFD.png']).toMatchObject({
      code: 'EBADNAME',
      message: expect.stringMatching(/UTF-8/),
    });
    for (const e of s.errors) expect(e.root).toBe(root);
    expect(s.assets).toBe(3); // good.png, clip.mp4, folder.png/inside.webp
    const idx = await readIndex(ws.searchDb);
    expect(Object.keys(idx.locations).sort()).toEqual(
      [good, path.join(root, 'clip.mp4'), path.join(root, 'folder.png', 'inside.webp')].sort(),
    );
    expect((await sha256File(path.join(root, 'clip.mp4'))).hash).toBe(
      idx.locations[path.join(root, 'clip.mp4')]?.content_hash,
    );
  });
});

describe('crash safety of one pass', () => {
  it('a failure after the locations were written rolls the whole pass back (no location without its asset)', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const [a] = await images(root, ['a.png'], 700);
    await rebuild(ws);
    const [b] = await images(root, ['b.png'], 701);
    const err = await withContainer(ws, async (c) => {
      const repo = await c.repo();
      // As if the process died between the two writes: locations in, then the asset write fails.
      repo.upsertAssets = () => Promise.reject(new Error('simulated crash'));
      const scan = c.scanService(repo);
      return scan.run({ mode: 'update', dryRun: false, allowMassDelete: false, progress: NO_PROGRESS }).then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    expect(String(err)).toContain('simulated crash');
    const view = await readIndex(ws.searchDb);
    expect(Object.keys(view.locations)).toEqual([a]);
    expect(Object.keys(view.assets)).toEqual([sha256Of(a as string)]);
    // The next pass reads the file again (its sidecar, written first, is reused).
    expect(await update(ws)).toMatchObject({ unchanged: 1, hashed: 1, errors: [] });
    expect(Object.keys((await readIndex(ws.searchDb)).assets).sort()).toEqual(
      [sha256Of(a as string), sha256Of(b as string)].sort(),
    );
  });

  it('a location whose asset row is gone (an older crash) is read again and the asset comes back', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const [a, b] = await images(root, ['a.png', 'b.png'], 710);
    await rebuild(ws);
    const db = await openDb(ws.searchDb);
    try {
      await db.run(`DELETE FROM assets WHERE content_hash = ?`, [sha256Of(a as string)]);
    } finally {
      db.close();
    }
    expect((await verify(ws)).problems.map((p) => [p.kind, p.path])).toContainEqual([
      'location_without_asset',
      a,
    ]);
    const s = await update(ws);
    expect(s).toMatchObject({ files_seen: 2, unchanged: 1, hashed: 1 });
    const view = await readIndex(ws.searchDb);
    expect(Object.keys(view.assets).sort()).toEqual([sha256Of(a as string), sha256Of(b as string)].sort());
    expect((await verify(ws, { full: true })).problems).toEqual([]);
  });
});

describe('failed files in the log', () => {
  it('logs each failed file once, with its path, code and message', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    await images(root, ['ok.png'], 400);
    const empty = path.join(root, 'empty.png');
    fs.writeFileSync(empty, '');
    const logged: { level: string; msg: string; meta: Record<string, unknown> }[] = [];
    const log =
      (level: string) =>
      (msg: string, meta: Record<string, unknown> = {}) =>
        void logged.push({ level, msg, meta });
    const container = new Container(configOf(ws), {
      logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    });
    let summary: ScanSummary;
    try {
      summary = await indexUpdate(container, {
        dryRun: false,
        allowMassDelete: false,
        progress: NO_PROGRESS,
      });
    } finally {
      await container.close();
    }
    expect(summary.errors.map((e) => e.path)).toEqual([empty]);
    const lines = logged.filter((l) => l.meta['path'] === empty);
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'file failed',
        meta: { path: empty, code: summary.errors[0]?.code, message: summary.errors[0]?.message },
      },
    ]);
    expect(String(lines[0]?.meta['code'])).toMatch(/^E/);
  });
});
