/**
 * `alice dupes` through the binary when copies of one picture no longer have the same bytes:
 * another program (exiftool here, as Lightroom or digiKam would) edited the keywords of one copy.
 * alice keeps it as the same asset, but the files are not identical, so that copy is never offered
 * for deletion, and the sizes shown are the files' as they are now.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DupesResponse } from '../../src/services/search/search.service.js';
import { runAlice } from '../helpers/cli.js';
import { makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces.splice(0)) ws.cleanup();
});

describe('dupes with a copy edited by another program', () => {
  it('the edited copy is listed as same picture, other metadata, not among the identical copies', async () => {
    const ws = makeWorkspace();
    workspaces.push(ws);
    const lib = ws.roots[0] ?? '';
    const original = path.join(lib, 'a.png');
    const copy = path.join(lib, 'copies', 'a.png');
    const edited = path.join(lib, 'edited', 'a.png');
    await writeImage(original, { seed: 71, size: 48 });
    for (const f of [copy, edited]) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.copyFileSync(original, f);
    }
    const alice = (args: string[]) => runAlice(args, { env: ws.env });
    expect((await alice(['index', 'rebuild'])).code).toBe(0);
    execFileSync('exiftool', [
      '-q',
      '-overwrite_original',
      '-XMP-dc:Subject=heron',
      '-XMP-xmp:Rating=5',
      edited,
    ]);
    expect(sha256Of(edited)).not.toBe(sha256Of(original));
    expect((await alice(['index', 'update'])).code).toBe(0);

    const res = await alice(['dupes', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const { exact } = res.json<DupesResponse>();
    expect(exact).toHaveLength(1);
    const g = exact[0];
    expect(g?.content_hash).toBe(sha256Of(original));
    expect(g?.paths.sort()).toEqual([original, copy].sort());
    expect(g?.keeper).not.toBe(edited);
    expect(g?.metadata_differs).toEqual([edited]);
    expect(g?.file_size).toBe(fs.statSync(original).size);

    const text = await alice(['dupes']);
    expect(text.stdout).toContain('2 identical copies');
    expect(text.stdout).toContain(`same picture, other metadata (keep) ${edited}`);
    expect(text.stdout).not.toContain(`also ${edited}`);

    // With the plain copy gone, the original is the one copy with its bytes.
    fs.rmSync(copy);
    expect((await alice(['index', 'update'])).code).toBe(0);
    const one = await alice(['dupes']);
    expect(one.stdout).toContain(`1 copy, ${fs.statSync(original).size} bytes\n`);
    expect(one.stdout).toContain(`same picture, other metadata (keep) ${edited}`);
  });

  it('after alice embeds tags into every copy, the sizes shown are the rewritten files', async () => {
    const ws = makeWorkspace();
    workspaces.push(ws);
    const lib = ws.roots[0] ?? '';
    const a = path.join(lib, 'a.png');
    const b = path.join(lib, 'b.png');
    await writeImage(a, { seed: 72, size: 48 });
    fs.copyFileSync(a, b);
    const alice = (args: string[]) => runAlice(args, { env: ws.env });
    expect((await alice(['index', 'rebuild'])).code).toBe(0);
    const before = fs.statSync(a).size;
    expect((await alice(['tag', 'add', a, '-t', 'style:watercolor'])).code).toBe(0);
    expect(fs.statSync(a).size).not.toBe(before);
    expect(sha256Of(a)).toBe(sha256Of(b));
    const g = (await alice(['dupes', '--json'])).json<DupesResponse>().exact[0];
    expect(g?.paths.sort()).toEqual([a, b]);
    expect(g?.metadata_differs).toBeUndefined();
    expect(g?.file_size).toBe(fs.statSync(a).size);
  });
});
