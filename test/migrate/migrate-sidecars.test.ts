/**
 * `alice migrate` on AliceMultiverse sidecars next to real image files, through the built CLI:
 * 1.0 flat and 3.0 sharded sidecars become 4.0 in place with every field kept, the legacy bytes are
 * backed up, the index holds the assets with their tags, a dry run and a second run change no byte.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSidecar, newSidecar, serialiseSidecar, type Sidecar } from '../../src/domain/sidecar.js';
import type { MigrateReport } from '../../src/services/migrate/migrate.service.js';
import { assertBuilt, runAlice } from '../helpers/cli.js';
import { makeWorkspace, sha256sum, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readIndex, sidecarFile } from '../helpers/library.js';
import {
  backupFile,
  expectEveryFieldKept,
  flatSidecar,
  indexAsset,
  legacyV1,
  legacyV3,
  readJson,
  snapshotRoots,
  writeJson,
  type Json,
} from './helpers.js';

let ws: Workspace;
let root: string;
const catFile = (): string => path.join(root, 'inbox/2024-01-01/midjourney/cat_00012.png');
/** name → { hash, legacy JSON, legacy file path, legacy bytes } */
const cases: Record<string, { hash: string; legacy: Json; file: string; bytes: Buffer }> = {};
const GONE = 'f'.repeat(63) + '0';

async function migrate(...args: string[]): Promise<MigrateReport> {
  const res = await runAlice(['--json', 'migrate', ...args], { env: ws.env, cwd: ws.dir });
  if (res.code !== 0) throw new Error(`alice migrate exited ${res.code}: ${res.stderr}\n${res.stdout}`);
  return res.json<MigrateReport>();
}

function addLegacy(name: string, hash: string, legacy: Json, file: string): void {
  writeJson(file, legacy);
  cases[name] = { hash, legacy, file, bytes: fs.readFileSync(file) };
}

beforeAll(async () => {
  assertBuilt();
  ws = makeWorkspace();
  root = ws.roots[0] as string;
  const cat = path.join(root, 'inbox/2024-01-01/midjourney/cat_00012.png');
  const portrait = path.join(root, 'portraits/00012-1234.png');
  const merged = path.join(root, 'kept/merged.jpg');
  await writeImage(cat, { seed: 11 });
  await writeImage(portrait, { seed: 12 });
  await writeImage(merged, { seed: 13 });
  const h = (f: string): string => sha256sum(f);
  const size = (f: string): number => fs.statSync(f).size;
  addLegacy(
    'v1',
    h(cat),
    legacyV1(h(cat), size(cat), 'inbox/2024-01-01/midjourney/cat_00012.png'),
    flatSidecar(root, h(cat)),
  );
  addLegacy(
    'v3',
    h(portrait),
    legacyV3(h(portrait), size(portrait), '00012-1234.png'),
    sidecarFile(root, h(portrait)),
  );
  // A sidecar whose file is gone: migrated all the same (the asset is then missing).
  addLegacy('gone', GONE, legacyV1(GONE, 999, 'inbox/lost.png'), flatSidecar(root, GONE));
  // A flat legacy sidecar whose asset already has a 4.0 sidecar: merged into it.
  const current: Sidecar = newSidecar({
    contentHash: h(merged),
    fileName: 'merged.jpg',
    fileSize: size(merged),
    mediaType: 'image',
    now: '2025-05-05T00:00:00.000Z',
  });
  current.analysis.understanding.tags = { keywords: ['mine'] };
  current.analysis.understanding.description = 'written by the user';
  current.last_paths = ['kept/merged.jpg'];
  fs.mkdirSync(path.dirname(sidecarFile(root, h(merged))), { recursive: true });
  fs.writeFileSync(sidecarFile(root, h(merged)), serialiseSidecar(current));
  addLegacy(
    'merge',
    h(merged),
    legacyV1(h(merged), size(merged), 'kept/merged.jpg'),
    flatSidecar(root, h(merged)),
  );
  // Not JSON at all: reported, left where it is.
  fs.writeFileSync(flatSidecar(root, 'e'.repeat(64)), '{"version": "1.0", "trunc');
});
afterAll(() => ws?.cleanup());

describe('alice migrate (legacy sidecars)', () => {
  it('--dry-run reports what it would do and changes no byte', async () => {
    const before = snapshotRoots(ws.roots);
    const r = await migrate('--dry-run');
    expect(snapshotRoots(ws.roots)).toEqual(before);
    expect(fs.existsSync(ws.searchDb)).toBe(false);
    expect(r.dry_run).toBe(true);
    expect(r.sidecars.migrated.map((m) => m.content_hash).sort()).toEqual(
      Object.values(cases)
        .map((c) => c.hash)
        .sort(),
    );
    expect(r.sidecars.migrated.every((m) => m.backup === null)).toBe(true);
    expect(r.sidecars.skipped).toEqual([
      { file: flatSidecar(root, 'e'.repeat(64)), reason: expect.stringMatching(/not valid JSON/) as string },
    ]);
    expect(r.rebuild).toEqual({ status: 'skipped', reason: 'dry run' });
  });

  it('upgrades 1.0 flat and 3.0 sharded sidecars to 4.0 in place, keeping every field and a backup', async () => {
    const r = await migrate();
    expect(r.sidecars.migrated).toHaveLength(4);
    for (const [name, c] of Object.entries(cases)) {
      const to = sidecarFile(root, c.hash);
      const migrated = readJson(to);
      expect(checkSidecar(migrated, c.hash).ok, name).toBe(true);
      expect(migrated['version']).toBe('4.0');
      // The legacy bytes are kept, byte for byte.
      expect(fs.readFileSync(backupFile(root, c.hash, String(c.legacy['version'])))).toEqual(c.bytes);
      if (c.file !== to) expect(fs.existsSync(c.file), `${name}: flat file removed`).toBe(false);
      // The user's 4.0 values win in a merge; everything else of the legacy file is still there.
      expectEveryFieldKept(c.legacy, migrated);
    }
    expect(fs.existsSync(flatSidecar(root, 'e'.repeat(64)))).toBe(true);
    const v1 = readJson(sidecarFile(root, cases['v1']?.hash ?? ''));
    expect(v1).toMatchObject({
      analysis: { media_type: 'image', quality_stars: 4 },
      migrated_from: { version: '1.0', values: { 'analysis.media_type': 'MediaType.IMAGE' } },
      media: { format: 'png', width: 64, height: 64 },
      last_paths: ['inbox/2024-01-01/midjourney/cat_00012.png'],
    });
    expect((v1['perceptual'] as { phash: string }).phash).toMatch(/^[0-9a-f]{16}$/);
    // Then `alice embed --all` wrote the migrated tags into the files.
    expect(r.embed.status).toBe('done');
    expect(v1['embedding']).toMatchObject({ state: 'written' });
    expect(sha256sum(catFile())).not.toBe(cases['v1']?.hash);
  });

  it('merges a legacy flat sidecar into an existing 4.0 one without overwriting what the user wrote', () => {
    const s = readJson(sidecarFile(root, cases['merge']?.hash ?? '')) as Sidecar;
    expect(s.analysis.understanding.description).toBe('written by the user');
    expect(s.analysis.understanding.tags).toEqual({
      keywords: ['mine'],
      style: ['cyberpunk', 'neon noir'],
      mood: ['dark'],
      subject: ['cat'],
    });
    expect(s.analysis.understanding.tag_sources?.['style:cyberpunk']).toBe('migrate');
    expect(s.analysis['quality_stars']).toBe(4);
    expect(s['original_path']).toBe('kept/merged.jpg');
  });

  it('rebuilds the index: the assets with their tags, prompts from legacy fields, the lost one missing', async () => {
    const view = await readIndex(ws.searchDb);
    const v1 = view.assets[cases['v1']?.hash ?? ''];
    expect(v1?.status).toBe('present');
    expect(v1?.tags).toEqual(['mood:dark', 'style:cyberpunk', 'style:neon noir', 'subject:cat']);
    expect(view.assets[cases['v3']?.hash ?? '']?.tags).toEqual([
      'mood:moody',
      'style:photorealistic',
      'subject:rain',
      'subject:woman',
    ]);
    expect(view.assets[GONE]?.status).toBe('missing');
    expect(await indexAsset(ws.searchDb, cases['v3']?.hash ?? '')).toMatchObject({
      prompt: 'portrait of a woman, neon rain, duck pond',
      source: 'stablediffusion',
      model: 'sdxl-base-1.0',
    });
  });

  it('a second run migrates nothing and changes no byte of any root', async () => {
    const before = snapshotRoots(ws.roots);
    const r = await migrate();
    expect(r.sidecars.migrated).toEqual([]);
    expect(r.sidecars.current).toBe(4);
    expect(r.rebuild.status).toBe('done');
    expect(r.rebuild.result?.sidecars_written).toBe(0);
    expect(snapshotRoots(ws.roots)).toEqual(before);
  });
});
