/**
 * `alice embed` end to end: a dry run changes nothing; the first run writes the alice hash into
 * every writable file, keeps sidecar-only formats (unsupported, or disabled in the settings)
 * untouched, and records a write that fails half-way (the rewritten copy of a truncated JPEG does
 * not decode) in the sidecar and the index, leaving the file byte-identical; the second run
 * rewrites nothing. The tests build on each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmbedReport } from '../../src/services/tagging/embed.service.js';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import {
  imageBytes,
  makeWorkspace,
  sha256sum,
  snapshotTree,
  writeImage,
  type Workspace,
} from '../helpers/fixtures.js';
import { readSidecarJson } from '../helpers/library.js';
import { aliceJson, SLOW, fileState, outsideRead, queryIndex } from './helpers.js';

vi.setConfig({ testTimeout: SLOW, hookTimeout: SLOW });

let ws: Workspace;
let lib: string;
const file = (name: string): string => path.join(lib, name);
const original: Record<string, string> = {};
const OLD = new Date('2020-05-06T07:08:09Z');

beforeAll(async () => {
  ws = makeWorkspace({ settings: { embedding: { disabled_formats: ['webp'] } } });
  lib = ws.roots[0] as string;
  await writeImage(file('good.jpg'), { seed: 31 });
  await writeImage(file('good.png'), { seed: 32 });
  await writeImage(file('skip.webp'), { seed: 33 });
  await sharp(await imageBytes('png', 34))
    .gif()
    .toFile(file('anim.gif'));
  // Headers intact (exiftool writes it), pixel data cut short (the decode check fails).
  const whole = await imageBytes('jpeg', 35);
  fs.writeFileSync(file('broken.jpg'), whole.subarray(0, Math.floor(whole.length * 0.6)));
  for (const n of fs.readdirSync(lib)) {
    fs.utimesSync(file(n), OLD, OLD);
    original[n] = sha256sum(file(n));
  }
  const s = await aliceJson<ScanSummary>(ws, ['index', 'update']);
  expect(s.new).toBe(5);
});

afterAll(() => ws.cleanup());

describe('alice embed', () => {
  it('without files or --all asks which files; with both says not both (exit 2, a hint)', async () => {
    const none = await aliceJson<{ error: { message: string; hint?: string } }>(ws, ['embed'], 2);
    expect(none.error.message).toMatch(/which files\? give files\/hashes, or --all/);
    expect(none.error.hint).toContain('alice embed --all --dry-run');
    const both = await aliceJson<{ error: { message: string } }>(ws, ['embed', file('good.png'), '--all'], 2);
    expect(both.error.message).toMatch(/not both/);
  });

  it('--dry-run reports what would be written and changes nothing', async () => {
    const before = snapshotTree(ws.dir);
    const r = await aliceJson<EmbedReport>(ws, ['embed', '--all', '--dry-run']);
    expect(r).toMatchObject({
      dry_run: true,
      assets: 5,
      would_write: 3,
      sidecar_only: 2,
      written: 0,
      failed: 0,
    });
    expect(snapshotTree(ws.dir)).toEqual(before);
  });

  it('writes the writable files, keeps the others, records the failure; the failed file is untouched', async () => {
    const broken = fileState(file('broken.jpg'));
    const r = await aliceJson<EmbedReport>(ws, ['embed', '--all'], 1);
    expect(r).toMatchObject({ written: 2, current: 0, sidecar_only: 2, failed: 1, files: 5 });
    const byPath = new Map(r.results.map((f) => [path.basename(f.path), f]));
    expect(byPath.get('broken.jpg')?.reason).toMatch(/does not decode/);
    expect(byPath.get('skip.webp')?.reason).toMatch(/disabled for webp/);
    expect(byPath.get('anim.gif')?.reason).toMatch(/gif/);
    expect(fileState(file('broken.jpg'))).toEqual(broken);
    expect(sha256sum(file('skip.webp'))).toBe(original['skip.webp']);
    expect(sha256sum(file('anim.gif'))).toBe(original['anim.gif']);
    expect(fs.readdirSync(lib).filter((n) => n.startsWith('.') && n !== '.metadata')).toEqual([]);
  });

  it('the written files carry the alice hash and keep their modification time', async () => {
    for (const n of ['good.jpg', 'good.png']) {
      expect((await outsideRead(file(n)))['XMP-alice:ContentHash']).toBe(original[n]);
      expect(fs.statSync(file(n)).mtime.getTime()).toBe(OLD.getTime());
      const s = readSidecarJson(lib, original[n] as string);
      expect(s.embedding).toMatchObject({ state: 'written', hash: sha256sum(file(n)) });
      expect(s.aliases).toEqual([sha256sum(file(n))]);
    }
  });

  it('the failure and the sidecar-only reasons are in the sidecars and the index', async () => {
    const broken = readSidecarJson(lib, original['broken.jpg'] as string);
    expect(broken.embedding).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/does not decode/),
    });
    expect(broken.aliases ?? []).toEqual([]);
    expect(readSidecarJson(lib, original['skip.webp'] as string).embedding).toMatchObject({
      state: 'sidecar_only',
      reason: expect.stringMatching(/disabled_formats/),
    });
    const rows = await queryIndex(ws, `SELECT file_name, embed_state FROM assets ORDER BY 1`);
    expect(Object.fromEntries(rows.map((r) => [r['file_name'], r['embed_state']]))).toEqual({
      'anim.gif': 'sidecar_only',
      'broken.jpg': 'failed',
      'good.jpg': 'written',
      'good.png': 'written',
      'skip.webp': 'sidecar_only',
    });
  });

  it('a second run rewrites nothing: files, mtimes and sidecars stay as they are', async () => {
    const before = snapshotTree(lib);
    const states = ['good.jpg', 'good.png'].map((n) => fileState(file(n)));
    const r = await aliceJson<EmbedReport>(ws, ['embed', '--all'], 1);
    expect(r).toMatchObject({ written: 0, current: 2, sidecar_only: 2, failed: 1 });
    expect(['good.jpg', 'good.png'].map((n) => fileState(file(n)))).toEqual(states);
    expect(snapshotTree(lib)).toEqual(before);
  });
});
