/** Sidecar files: reading and validation, and untrusted sidecars set aside and rebuilt by a scan. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSidecarFile, setSidecarAside, writeSidecar } from '../../src/adapters/sidecar-store.adapter.js';
import { newSidecar, SIDECAR_VERSION } from '../../src/domain/sidecar.js';
import { findFiles, makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readSidecarJson, rebuild, sidecarFile, sidecarHashes } from '../helpers/library.js';

const H1 = 'ab'.repeat(32);
const H2 = 'cd'.repeat(32);

let ws: Workspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

function sample(hash = H1): ReturnType<typeof newSidecar> {
  return newSidecar({
    contentHash: hash,
    fileName: 'x.png',
    fileSize: 10,
    mediaType: 'image',
    now: '2024-01-01T00:00:00.000Z',
  });
}

describe('sidecar store', () => {
  it('writes at .metadata/<2 hex>/<hash>.json atomically and reads it back', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const file = await writeSidecar(root, { ...sample(), x_future_field: { kept: true } });
    expect(file).toBe(path.join(root, '.metadata', 'ab', `${H1}.json`));
    expect(fs.readdirSync(path.dirname(file))).toEqual([`${H1}.json`]);
    const res = await readSidecarFile(file, H1);
    expect(res.status).toBe('ok');
    if (res.status === 'ok') {
      expect(res.sidecar.version).toBe(SIDECAR_VERSION);
      expect(res.sidecar['x_future_field']).toEqual({ kept: true });
    }
  });

  it('classifies absent, invalid JSON, oversized, wrong-hash, invalid and old-version sidecars', async () => {
    ws = makeWorkspace();
    const dir = path.join(ws.dir, 'sc');
    fs.mkdirSync(dir);
    const put = (name: string, data: string): string => {
      fs.writeFileSync(path.join(dir, name), data);
      return path.join(dir, name);
    };
    expect((await readSidecarFile(path.join(dir, 'none.json'), H1)).status).toBe('absent');
    expect(await readSidecarFile(put('bad.json', '{"version": "4.0",'), H1)).toMatchObject({
      status: 'corrupt',
      reason: expect.stringMatching(/not valid JSON/),
    });
    const huge = {
      ...sample(),
      analysis: { ...sample().analysis, understanding: { tags: {}, description: 'x'.repeat(1024 * 1024) } },
    };
    expect(await readSidecarFile(put('huge.json', JSON.stringify(huge)), H1)).toMatchObject({
      status: 'corrupt',
      reason: expect.stringMatching(/larger than 1 MiB/),
    });
    expect(await readSidecarFile(put('other.json', JSON.stringify(sample(H2))), H1)).toMatchObject({
      status: 'corrupt',
      reason: expect.stringMatching(/names another hash/),
    });
    expect(
      await readSidecarFile(put('invalid.json', JSON.stringify({ ...sample(), file_size: -1 })), H1),
    ).toMatchObject({
      status: 'corrupt',
    });
    expect(
      await readSidecarFile(put('old.json', JSON.stringify({ ...sample(), version: '3.2' })), H1),
    ).toMatchObject({
      status: 'old_version',
      version: '3.2',
    });
  });

  it('setSidecarAside keeps the bytes under a .corrupt-<time> name', async () => {
    ws = makeWorkspace();
    const file = path.join(ws.dir, 'x.json');
    fs.writeFileSync(file, 'garbage');
    const moved = await setSidecarAside(file, new Date('2024-05-06T07:08:09.123Z'));
    expect(moved).toBe(`${file}.corrupt-2024-05-06T07-08-09-123Z`);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readFileSync(moved, 'utf8')).toBe('garbage');
  });
});

describe('untrusted sidecars during a scan', () => {
  it.each([
    ['the previous index describes them: written back from it', 'repaired', true],
    ['no previous index: rebuilt from the file', 'corrupt', false],
  ] as const)('are set aside (never overwritten) and reported; %s', async (_what, kind, keepIndex) => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const files = ['json.png', 'huge.png', 'other.png'].map((n) => path.join(root, n));
    for (const [i, f] of files.entries()) await writeImage(f, { seed: 40 + i });
    await rebuild(ws);
    const [hJson, hHuge, hOther] = files.map(sha256Of) as [string, string, string];
    const bad: Record<string, string> = {
      [hJson]: '{"version": "4.0", "content_hash": ',
      [hHuge]: JSON.stringify({ ...readSidecarJson(root, hHuge), pad: 'y'.repeat(1024 * 1024 + 10) }),
      [hOther]: JSON.stringify({ ...readSidecarJson(root, hOther), content_hash: H2 }),
    };
    for (const [h, text] of Object.entries(bad)) fs.writeFileSync(sidecarFile(root, h), text);

    if (!keepIndex) fs.rmSync(ws.searchDb);
    const summary = await rebuild(ws);

    expect(summary.sidecar_issues).toHaveLength(3);
    for (const issue of summary.sidecar_issues) {
      expect(issue.kind).toBe(kind);
      expect(issue.movedTo).toMatch(/\.json\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    }
    const reasons = summary.sidecar_issues.map((i) => i.reason).join('\n');
    expect(reasons).toMatch(/not valid JSON/);
    expect(reasons).toMatch(/larger than 1 MiB/);
    expect(reasons).toMatch(/names another hash/);
    for (const [h, text] of Object.entries(bad)) {
      const kept = findFiles(path.join(root, '.metadata'), new RegExp(`^${h}\\.json\\.corrupt-`));
      expect(kept).toHaveLength(1);
      expect(fs.readFileSync(path.join(root, '.metadata', kept[0] as string), 'utf8')).toBe(text);
      const fresh = readSidecarJson(root, h);
      expect(fresh.version).toBe('4.0');
      expect(fresh.content_hash).toBe(h);
    }
    expect(sidecarHashes(root)).toEqual([hJson, hHuge, hOther].sort());
  });

  it('an old-version sidecar is reported and left untouched', async () => {
    ws = makeWorkspace();
    const root = ws.roots[0] as string;
    const file = path.join(root, 'old.png');
    await writeImage(file, { seed: 50 });
    const h = sha256Of(file);
    const old = JSON.stringify({ version: '3.0', content_hash: h, tags: ['legacy'] });
    fs.mkdirSync(path.dirname(sidecarFile(root, h)), { recursive: true });
    fs.writeFileSync(sidecarFile(root, h), old);
    const summary = await rebuild(ws);
    expect(summary.sidecar_issues).toEqual([expect.objectContaining({ kind: 'old_version' })]);
    expect(fs.readFileSync(sidecarFile(root, h), 'utf8')).toBe(old);
  });
});
