/**
 * `alice index verify` through the built binary: one test per kind of drift (exit 1), a clean
 * tree (exit 0) and an error (exit 2). One tree is indexed once (in-process); each test drifts it by
 * hand, runs the CLI, and puts it back exactly (bytes, inode, mtime), so the tests stay independent
 * of each other while the folder stays fast. The "clean" test runs last to prove every revert.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/adapters/duckdb.adapter.js';
import { newSidecar } from '../../src/domain/sidecar.js';
import type { VerifyReport } from '../../src/services/verify/verify.service.js';
import { assertBuilt, runAlice } from '../helpers/cli.js';
import { imageBytes, makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { editSidecarJson, rebuild, sidecarFile } from '../helpers/library.js';

/** Several child processes per test: generous, for a loaded 2-core machine; a hang still fails. */
const CLI_TIMEOUT = 180_000;

/** A fixed whole-second mtime, so a test can put it back exactly after changing bytes. */
const T0 = 1_700_000_000;

let ws: Workspace;
let root: string;
const files = { png: '', jpg: '', webp: '' };
const hash = { png: '', jpg: '', webp: '' };

beforeAll(async () => {
  assertBuilt();
  ws = makeWorkspace();
  root = ws.roots[0] as string;
  files.png = path.join(root, 'a.png');
  files.jpg = path.join(root, 'sub', 'b.jpg');
  files.webp = path.join(root, 'c.webp');
  await writeImage(files.png, { seed: 1 });
  await writeImage(files.jpg, { seed: 2 });
  await writeImage(files.webp, { seed: 3 });
  for (const f of Object.values(files)) fs.utimesSync(f, T0, T0);
  const summary = await rebuild(ws);
  if (summary.assets !== 3) throw new Error(`setup: expected 3 assets, got ${summary.assets}`);
  hash.png = sha256Of(files.png);
  hash.jpg = sha256Of(files.jpg);
  hash.webp = sha256Of(files.webp);
});
afterAll(() => ws.cleanup());

async function verifyCli(full = false): Promise<{ code: number; report: VerifyReport }> {
  const res = await runAlice(['index', 'verify', '--json', ...(full ? ['--full'] : [])], { env: ws.env });
  if (res.code === 2) throw new Error(`verify failed: ${res.stderr}`);
  return { code: res.code, report: res.json<VerifyReport>() };
}

/** Applies a drift, runs `verify`, and always undoes the drift. */
async function withDrift(
  apply: () => Promise<void> | void,
  undo: () => void,
  full = false,
): Promise<{ code: number; report: VerifyReport }> {
  try {
    await apply();
    return await verifyCli(full);
  } finally {
    undo();
  }
}

/** Keeps a file's bytes and restores them (and the fixed mtime) afterwards. */
function keep(file: string): () => void {
  const bytes = fs.readFileSync(file);
  return () => {
    fs.writeFileSync(file, bytes);
    fs.utimesSync(file, T0, T0);
  };
}

/** Moves a file aside under a name every scan ignores, and back (same inode and mtime). */
function aside(file: string): { apply: () => void; undo: () => void } {
  const hidden = path.join(path.dirname(file), `.${path.basename(file)}.aside`);
  return { apply: () => fs.renameSync(file, hidden), undo: () => fs.renameSync(hidden, file) };
}

describe('alice index verify', { timeout: CLI_TIMEOUT }, () => {
  it('missing file', async () => {
    const a = aside(files.jpg);
    const { code, report } = await withDrift(a.apply, a.undo);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'missing_file', path: files.jpg, content_hash: hash.jpg }),
    ]);
    expect(code).toBe(1);
  });

  it('a file the walk cannot read (a symlink loop) is reported as unreadable', async () => {
    const loop = path.join(root, 'loop.png');
    const { code, report } = await withDrift(
      () => fs.symlinkSync('loop.png', loop),
      () => fs.rmSync(loop),
    );
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'unreadable', path: loop })]);
    expect(report.problems[0]?.detail).toMatch(/^ELOOP/);
    expect(code).toBe(1);
  });

  it('unindexed file', async () => {
    const extra = path.join(root, 'new.png');
    const { code, report } = await withDrift(
      async () => void (await writeImage(extra, { seed: 9 })),
      () => fs.rmSync(extra),
    );
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'unindexed_file', path: extra })]);
    expect(code).toBe(1);
  });

  it('modified file (size or mtime differs from the index)', async () => {
    const a = aside(files.png);
    const { code, report } = await withDrift(
      async () => {
        a.apply();
        fs.writeFileSync(files.png, await imageBytes('png', 77));
      },
      () => {
        fs.rmSync(files.png);
        a.undo();
      },
    );
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'modified_file', path: files.png, content_hash: hash.png }),
    ]);
    expect(code).toBe(1);
  });

  it('file without sidecar', async () => {
    const a = aside(sidecarFile(root, hash.webp));
    const { code, report } = await withDrift(a.apply, a.undo);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'file_without_sidecar', path: files.webp, content_hash: hash.webp }),
    ]);
    expect(code).toBe(1);
  });

  it('orphaned sidecar', async () => {
    const stranger = 'e7'.repeat(32);
    const file = sidecarFile(root, stranger);
    const doc = newSidecar({
      contentHash: stranger,
      fileName: 'x.png',
      fileSize: 5,
      mediaType: 'image',
      now: 'x',
    });
    const { code, report } = await withDrift(
      () => {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify(doc));
      },
      () => fs.rmSync(path.dirname(file), { recursive: true }),
    );
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'orphaned_sidecar', path: file })]);
    expect(code).toBe(1);
  });

  it('index row without file (the index lost the locations of a present asset)', async () => {
    const restore = keep(ws.searchDb);
    const { code, report } = await withDrift(async () => {
      const db = await openDb(ws.searchDb);
      try {
        await db.run(`DELETE FROM locations WHERE content_hash = ?`, [hash.png]);
      } finally {
        db.close();
      }
    }, restore);
    const rows = report.problems.filter((p) => p.kind === 'index_row_without_file');
    expect(rows.map((p) => p.content_hash)).toEqual([hash.png]);
    expect(code).toBe(1);
  });

  it('location without asset (a write interrupted between locations and assets)', async () => {
    const restore = keep(ws.searchDb);
    const { code, report } = await withDrift(async () => {
      const db = await openDb(ws.searchDb);
      try {
        await db.run(`DELETE FROM assets WHERE content_hash = ?`, [hash.jpg]);
      } finally {
        db.close();
      }
    }, restore);
    const rows = report.problems.filter((p) => p.kind === 'location_without_asset');
    expect(rows).toEqual([expect.objectContaining({ path: files.jpg, content_hash: hash.jpg })]);
    expect(code).toBe(1);
  });

  it('index row without file (its root is no longer configured)', async () => {
    const restore = keep(ws.settingsFile);
    const { code, report } = await withDrift(() => {
      fs.mkdirSync(path.join(ws.dir, 'other'), { recursive: true });
      ws.writeSettings({ storage: { asset_paths: ['other'] } });
    }, restore);
    expect(report.problems.map((p) => p.kind)).toEqual(Array(3).fill('index_row_without_file'));
    expect(report.problems.map((p) => p.path).sort()).toEqual(Object.values(files).sort());
    expect(code).toBe(1);
  });

  it('sidecar not at version 4.0', async () => {
    const file = sidecarFile(root, hash.jpg);
    const { code, report } = await withDrift(
      () => void editSidecarJson(root, hash.jpg, (s) => void ((s as { version: string }).version = '3.1')),
      keep(file),
    );
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: 'sidecar_old_version', path: file }),
    );
    expect(report.problems.filter((p) => p.content_hash === hash.jpg).map((p) => p.kind)).toEqual([
      'sidecar_old_version',
    ]);
    expect(code).toBe(1);
  });

  it('corrupt sidecar (reported, left untouched)', async () => {
    const file = sidecarFile(root, hash.png);
    let after = '';
    const { code, report } = await withDrift(
      () => fs.writeFileSync(file, '{"version": "4.0", oops'),
      (() => {
        const restore = keep(file);
        return () => {
          after = fs.readFileSync(file, 'utf8');
          restore();
        };
      })(),
    );
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: 'corrupt_sidecar', path: file, detail: expect.stringMatching(/JSON/) }),
    );
    // One problem, not also "no sidecar" for its file.
    expect(report.problems.filter((p) => p.content_hash === hash.png).map((p) => p.kind)).toEqual([
      'corrupt_sidecar',
    ]);
    expect(after).toBe('{"version": "4.0", oops');
    expect(code).toBe(1);
  });

  it('bit rot with --full: same size, inode and mtime, different bytes', async () => {
    const st = fs.statSync(files.webp);
    const { code, report } = await withDrift(
      () => {
        const mid = Math.floor(st.size / 2);
        const fd = fs.openSync(files.webp, 'r+');
        const byte = Buffer.alloc(1);
        fs.readSync(fd, byte, 0, 1, mid);
        fs.writeSync(fd, Buffer.from([(byte[0] ?? 0) ^ 0x01]), 0, 1, mid);
        fs.closeSync(fd);
        fs.utimesSync(files.webp, T0, T0);
        const now = fs.statSync(files.webp);
        if (now.size !== st.size || now.mtimeMs !== st.mtimeMs || now.ino !== st.ino)
          throw new Error('setup');
      },
      keep(files.webp),
      true,
    );
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'hash_mismatch', path: files.webp, content_hash: hash.webp }),
    ]);
    expect(code).toBe(1);
  });

  it('an error (invalid settings) exits 2 with the problem listed', async () => {
    const restore = keep(ws.settingsFile);
    try {
      fs.writeFileSync(ws.settingsFile, 'storage:\n  asset_path: [lib]\n');
      const res = await runAlice(['index', 'verify'], { env: ws.env });
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/CONFIG_INVALID/);
      expect(res.stderr).toMatch(/storage\.asset_path: unknown key \(did you mean "asset_paths"\?\)/);
    } finally {
      restore();
    }
  });

  it('a clean tree exits 0, with --full (and every drift above was undone)', async () => {
    const { code, report } = await verifyCli(true);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ clean: true, files_checked: 3, sidecars_checked: 3, rehashed: 3 });
    expect(code).toBe(0);
  });
});
