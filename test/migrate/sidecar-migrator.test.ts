/**
 * The sidecar migrator in-process: a legacy flat file is removed only once its new sidecar has
 * been written and read back, so a failed write keeps it (and reports why).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BASIC_ANALYSER } from '../../src/services/scan/basic-analyser.js';
import { FileFinder, SidecarPlan } from '../../src/services/migrate/migrate-files.js';
import { SidecarMigrator } from '../../src/services/migrate/migrate-sidecars.js';
import { NO_EVENTS } from '../../src/ports.js';
import { makeTempDir, removeDir, sha256sum, writeImage } from '../helpers/fixtures.js';
import { sidecarFile } from '../helpers/library.js';
import { backupFile, flatSidecar, legacyV1, writeJson } from './helpers.js';

let dir: string;

function migrator(root: string): SidecarMigrator {
  const roots = [{ path: root, kind: 'asset' as const, isDefault: false }];
  return new SidecarMigrator({
    roots,
    analyser: BASIC_ANALYSER,
    finder: new FileFinder({ roots, hashConcurrency: 2, locationsOf: () => Promise.resolve([]) }),
    plan: new SidecarPlan(false),
    events: NO_EVENTS,
    now: '2025-01-01T00:00:00.000Z',
    dryRun: false,
  });
}

beforeEach(() => {
  dir = makeTempDir('alice-migrator-');
});
afterEach(() => removeDir(dir));

describe('SidecarMigrator', () => {
  it('keeps the flat legacy file when the sharded sidecar cannot be written', async () => {
    await writeImage(path.join(dir, 'a.png'), { seed: 51 });
    const hash = sha256sum(path.join(dir, 'a.png'));
    writeJson(flatSidecar(dir, hash), legacyV1(hash, 1, 'a.png'));
    const legacyBytes = fs.readFileSync(flatSidecar(dir, hash));
    // A folder where the sharded sidecar should go: the write must fail.
    fs.mkdirSync(path.join(sidecarFile(dir, hash), 'blocker'), { recursive: true });
    const r = await migrator(dir).run();
    expect(r.migrated).toEqual([]);
    // The blocking folder itself is listed (and skipped) too; what matters is the flat file.
    expect(r.skipped).toContainEqual({
      file: flatSidecar(dir, hash),
      reason: expect.stringMatching(/EISDIR|directory/i) as string,
    });
    expect(fs.readFileSync(flatSidecar(dir, hash))).toEqual(legacyBytes);
  });

  it('moves a flat file, backs it up, and finds the asset file by its original path', async () => {
    await writeImage(path.join(dir, 'sub', 'b.png'), { seed: 52 });
    const hash = sha256sum(path.join(dir, 'sub', 'b.png'));
    writeJson(flatSidecar(dir, hash), legacyV1(hash, 1, 'sub/b.png'));
    const legacyBytes = fs.readFileSync(flatSidecar(dir, hash));
    const r = await migrator(dir).run();
    expect(r.migrated).toMatchObject([
      {
        content_hash: hash,
        from_version: '1.0',
        from: flatSidecar(dir, hash),
        to: sidecarFile(dir, hash),
        backup: backupFile(dir, hash, '1.0'),
        merged: false,
        file: path.join(dir, 'sub', 'b.png'),
      },
    ]);
    expect(fs.existsSync(flatSidecar(dir, hash))).toBe(false);
    expect(fs.readFileSync(backupFile(dir, hash, '1.0'))).toEqual(legacyBytes);
    const again = await migrator(dir).run();
    expect(again).toMatchObject({ checked: 1, current: 1, migrated: [], skipped: [] });
  });
});
