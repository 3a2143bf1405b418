/**
 * Issue 21 end to end, through the built binary: alice never harms what the user made. Delivered
 * exports stay byte-identical to their manifest whatever is tagged, described or embedded
 * afterwards; `selected/` hard links stay hard links; duplicate reports never suggest deleting a
 * project copy; damaged files are reported everywhere; files without an embedded date are dated
 * by their mtime.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DupesResponse } from '../../src/services/search/dupes.service.js';
import { startAgent, waitFor } from '../helpers/agent.js';
import { assertBuilt, runAlice, type CliResult } from '../helpers/cli.js';
import {
  imageBytes,
  makeTempDir,
  makeWorkspace,
  removeDir,
  sha256sum,
  writeImage,
  type Workspace,
} from '../helpers/fixtures.js';
import { chunk, tEXt } from '../generation/png-helpers.js';
import { makeProjectWorkspace, type ProjectWorkspace } from '../projects/helpers.js';

const CLI_TIMEOUT = 240_000;

interface Manifest {
  files: { path: string; content_hash: string }[];
}

function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

describe('deliverables are frozen', { timeout: CLI_TIMEOUT }, () => {
  let ws: ProjectWorkspace;
  let exportDir: string;
  const lib: Record<string, string> = {};

  beforeAll(async () => {
    assertBuilt();
    ws = makeProjectWorkspace();
    for (const [name, seed] of [
      ['a.png', 1],
      ['b.jpg', 2],
      ['c.webp', 3],
    ] as const) {
      lib[name] = path.join(ws.lib, name);
      await writeImage(lib[name], { seed });
    }
    await ws.json(['index', 'update']);
    await ws.json(['project', 'create', 'trailer']);
    await ws.json(['project', 'select', 'trailer', ...Object.values(lib), '--why', 'shots']);
    await ws.json(['index', 'update']);
    const exp = await ws.json<{ dir: string }>(['project', 'export', 'trailer']);
    exportDir = exp.dir;
    await ws.json(['index', 'update']);
  });
  afterAll(() => ws?.cleanup());

  it('tag add, describe and embed --all leave every exported file as manifest.json says, and selected/ links linked', async () => {
    const selected = path.join(ws.projects, 'trailer', 'selected');
    for (const name of Object.keys(lib)) {
      expect(fs.statSync(path.join(selected, name)).ino).toBe(fs.statSync(lib[name] as string).ino);
    }
    const beforeA = sha256sum(lib['a.png'] as string);
    await ws.json(['tag', 'add', lib['a.png'] as string, '--tag', 'client:acme']);
    await ws.json(['describe', lib['b.jpg'] as string, 'a red square']);
    await ws.json(['tag', 'add', lib['c.webp'] as string, '--tag', 'mood:calm']);
    await ws.json(['embed', '--all']);
    // alice did write into the library file…
    expect(sha256sum(lib['a.png'] as string)).not.toBe(beforeA);

    // …but not into anything delivered.
    const manifest = JSON.parse(fs.readFileSync(path.join(exportDir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.files).toHaveLength(3);
    for (const f of manifest.files) expect(sha256sum(path.join(exportDir, f.path))).toBe(f.content_hash);
    expect(filesBelow(exportDir).filter((f) => !f.endsWith('manifest.json'))).toHaveLength(3);

    // selected/ files are still the library files (same inode, link count 2), with the new bytes.
    for (const name of Object.keys(lib)) {
      const sel = fs.statSync(path.join(selected, name));
      const orig = fs.statSync(lib[name] as string);
      expect(sel.ino).toBe(orig.ino);
      expect(sel.nlink).toBe(2);
    }
    // Nothing left behind by the re-linking.
    expect(fs.readdirSync(selected).filter((n) => n.endsWith('.alice-tmp'))).toEqual([]);

    const update = await ws.json<{ modified: number; new: number }>(['index', 'update']);
    expect(update).toMatchObject({ modified: 0, new: 0 });
    expect((await ws.alice('project', 'verify', 'trailer')).code).toBe(0);
  });

  it('dupes names no path under exports/ or selected/ as a non-keeper; status counts the same groups', async () => {
    // A real duplicate in the library, next to the project copies.
    fs.copyFileSync(lib['a.png'] as string, path.join(ws.lib, 'a-copy.png'));
    const update = await ws.json<{ duplicates: number }>(['index', 'update']);
    const dupes = await ws.json<DupesResponse>(['dupes']);
    const projectDir = path.join(ws.projects, 'trailer');
    for (const g of dupes.exact) {
      for (const p of g.paths) if (p !== g.keeper) expect(p.startsWith(projectDir)).toBe(false);
      expect(g.keeper.startsWith(projectDir)).toBe(false);
    }
    expect(dupes.exact).toHaveLength(1);
    expect(dupes.exact[0]?.paths.sort()).toEqual([lib['a.png'], path.join(ws.lib, 'a-copy.png')].sort());
    // The count `index update` reports (and the agent's status shows) is the same groups.
    expect(update.duplicates).toBe(dupes.exact.length);

    const all = await ws.json<DupesResponse>(['dupes', '--include-projects']);
    for (const g of all.exact) {
      for (const p of g.paths) if (p !== g.keeper) expect(p.startsWith(projectDir)).toBe(false);
    }
    expect(
      all.exact.some((g) =>
        (g.project_copies ?? []).some((p) => p.includes(`${path.sep}exports${path.sep}`)),
      ),
    ).toBe(true);
  });
});

describe('damage in plain sight, dates from the file', { timeout: CLI_TIMEOUT }, () => {
  let ws: Workspace;
  const run = (...args: string[]): Promise<CliResult> => runAlice(args, { cwd: ws.dir, env: ws.env });

  beforeAll(async () => {
    assertBuilt();
    ws = makeWorkspace({ roots: ['lib'] });
    const lib = ws.roots[0] as string;
    fs.writeFileSync(path.join(lib, 'fake.jpg'), 'not an image\n');
    const png = await imageBytes('png', 4, 256);
    fs.writeFileSync(path.join(lib, 'cut.png'), png.subarray(0, Math.floor(png.length * 0.6)));
    await writeImage(path.join(lib, 'good.png'), { seed: 5 });
    // Made in June 2024, copied in with its times kept: no embedded date, only the mtime.
    const outside = makeTempDir();
    try {
      for (const [name, seed] of [
        ['june-1.png', 6],
        ['june-2.jpg', 7],
      ] as const) {
        await writeImage(path.join(outside, name), { seed });
        execFileSync('touch', ['-d', '2024-06-15 12:00', path.join(outside, name)]);
        execFileSync('cp', ['-p', path.join(outside, name), path.join(lib, name)]);
      }
    } finally {
      removeDir(outside);
    }
    const r = await run('index', 'update', '--json');
    expect(r.code).toBe(0);
  });
  afterAll(() => ws?.cleanup());

  it('a text file named .jpg and a truncated PNG are damaged in show, status, index verify and search --damaged', async () => {
    const lib = ws.roots[0] as string;
    for (const name of ['fake.jpg', 'cut.png']) {
      const show = await run('show', path.join(lib, name));
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(/DAMAGED: cannot decode image/);
      expect(
        (await run('show', path.join(lib, name), '--json')).json<{ damage: string | null }>().damage,
      ).toMatch(/cannot decode/);
    }
    const good = (await run('show', path.join(lib, 'good.png'), '--json')).json<{ damage: string | null }>();
    expect(good.damage).toBeNull();

    const update = (await run('index', 'update', '--json')).json<{ damaged: number }>();
    expect(update.damaged).toBe(2);
    expect((await run('index', 'update')).stdout).toMatch(/damaged 2/);

    const verify = await run('index', 'verify', '--json');
    expect(verify.code).toBe(1);
    const report = verify.json<{ problems: { kind: string; path: string }[] }>();
    expect(
      report.problems
        .filter((p) => p.kind === 'damaged_file')
        .map((p) => path.basename(p.path))
        .sort(),
    ).toEqual(['cut.png', 'fake.jpg']);

    const found = (await run('search', '--damaged', '--json')).json<{ results: { path: string }[] }>();
    expect(found.results.map((x) => path.basename(x.path)).sort()).toEqual(['cut.png', 'fake.jpg']);

    // `alice status` of the running agent counts them.
    const agent = await startAgent(ws);
    try {
      const status = await waitFor(
        async () => {
          const r = await run('status', '--json');
          const n = r.json<{ status: { counters: { damaged?: number } } }>().status.counters.damaged;
          return n === 2 ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: '`alice status` to count 2 damaged' },
      );
      expect(status.code).toBe(0);
      expect((await run('status')).stdout).toContain('2 damaged (`alice search --damaged`)');
    } finally {
      await agent.stop();
    }
  });

  it('files with no embedded date are dated by their mtime: search --since 2024-06 --until 2024-06 finds them', async () => {
    const found = await run('search', '--since', '2024-06', '--until', '2024-06', '--json');
    expect(found.code).toBe(0);
    const res = found.json<{ results: { path: string; created_at: string | null }[] }>();
    expect(res.results.map((x) => path.basename(x.path)).sort()).toEqual(['june-1.png', 'june-2.jpg']);
    for (const x of res.results) expect(x.created_at).toMatch(/^2024-06-15T/);
    const show = (await run('show', path.join(ws.roots[0] as string, 'june-1.png'), '--json')).json<{
      index: { created_source: string | null };
    }>();
    expect(show.index.created_source).toBe('file_mtime');
    // Oldest first puts them before everything made today.
    const oldest = (await run('search', '--sort', 'oldest', '--json')).json<{
      results: { path: string }[];
    }>();
    expect(
      oldest.results
        .slice(0, 2)
        .map((x) => path.basename(x.path))
        .sort(),
    ).toEqual(['june-1.png', 'june-2.jpg']);
  });
});

describe('identity survives another program editing metadata', { timeout: CLI_TIMEOUT }, () => {
  let ws: ProjectWorkspace;
  const lib: Record<string, string> = {};
  const hash: Record<string, string> = {};

  beforeAll(async () => {
    assertBuilt();
    ws = makeProjectWorkspace();
    for (const [name, seed] of [
      ['embedded.png', 11],
      ['plain.png', 12],
    ] as const) {
      lib[name] = path.join(ws.lib, name);
      await writeImage(lib[name], { seed, size: 96 });
      hash[name] = sha256sum(lib[name]);
    }
    await ws.json(['index', 'update']);
    await ws.json(['project', 'create', 'trailer']);
    await ws.json(['project', 'select', 'trailer', ...Object.values(lib), '--why', 'shots']);
    // alice embeds into one (it then carries XMP-alice:ContentHash)…
    await ws.json(['tag', 'add', lib['embedded.png'] as string, '--tag', 'client:acme']);
    // …and keeps the other's tag in the sidecar only: alice never wrote into that file.
    ws.writeSettings({ storage: { project_paths: ['projects'] }, embedding: { enabled: false } });
    await ws.json(['tag', 'add', lib['plain.png'] as string, '--tag', 'client:globex']);
    expect(sha256sum(lib['plain.png'] as string)).toBe(hash['plain.png']);
    // What digiKam or Lightroom do on save.
    for (const f of Object.values(lib))
      execFileSync('exiftool', ['-q', '-overwrite_original', '-XMP-dc:Subject+=endcard', f]);
    await ws.json(['index', 'update']);
  });
  afterAll(() => ws?.cleanup());

  it('project verify exits 0, the assets keep their user tags and gain the new keyword, index verify is clean', async () => {
    expect((await ws.alice('project', 'verify', 'trailer')).code).toBe(0);
    for (const [name, tag] of [
      ['embedded.png', 'client:acme'],
      ['plain.png', 'client:globex'],
    ] as const) {
      const rec = await ws.json<{
        content_hash: string;
        aliases: string[];
        tags: { category: string; value: string }[];
      }>(['show', lib[name] as string]);
      expect(rec.content_hash).toBe(hash[name]);
      expect(rec.aliases).toContain(sha256sum(lib[name] as string));
      const tags = rec.tags.map((t) => `${t.category}:${t.value}`);
      expect(tags).toContain(tag);
      expect(tags.some((t) => t.endsWith(':endcard'))).toBe(true);
    }
    const verify = await ws.alice('index', 'verify', '--json');
    expect(verify.json<{ problems: unknown[] }>().problems).toEqual([]);
    expect(verify.code).toBe(0);
  });
});

describe('content that does not match its extension is damaged', { timeout: CLI_TIMEOUT }, () => {
  let ws: Workspace;
  const run = (...args: string[]): Promise<CliResult> => runAlice(args, { cwd: ws.dir, env: ws.env });

  beforeAll(async () => {
    assertBuilt();
    ws = makeWorkspace({ roots: ['lib'] });
    const lib = ws.roots[0] as string;
    // Whole, decodable images under the wrong name (a renamed download, a site that lies).
    fs.writeFileSync(path.join(lib, 'png-named.jpg'), await imageBytes('png', 41, 64));
    fs.writeFileSync(path.join(lib, 'jpeg-named.png'), await imageBytes('jpeg', 42, 64));
    fs.writeFileSync(path.join(lib, 'webp-named.png'), await imageBytes('webp', 43, 64));
    await writeImage(path.join(lib, 'right.jpg'), { seed: 44, format: 'jpeg' });
    expect((await run('index', 'update', '--json')).code).toBe(0);
  });
  afterAll(() => ws?.cleanup());

  it('show, status, index verify and search --damaged say "PNG content with .jpg extension" and the like', async () => {
    const lib = ws.roots[0] as string;
    const expected: Record<string, string> = {
      'png-named.jpg': 'PNG content with .jpg extension',
      'jpeg-named.png': 'JPEG content with .png extension',
      'webp-named.png': 'WebP content with .png extension',
    };
    for (const [name, reason] of Object.entries(expected)) {
      const show = await run('show', path.join(lib, name));
      expect(show.stdout).toContain(`DAMAGED: ${reason}`);
      const rec = (await run('show', path.join(lib, name), '--json')).json<{
        damage: string | null;
        index: { width: number | null };
      }>();
      expect(rec.damage).toBe(reason);
      // It decoded: the size is known, not `?×?`.
      expect(rec.index.width).toBe(64);
    }
    expect(
      (await run('show', path.join(lib, 'right.jpg'), '--json')).json<{ damage: null }>().damage,
    ).toBeNull();

    expect((await run('index', 'update')).stdout).toMatch(/damaged 3/);
    const verify = await run('index', 'verify', '--json');
    expect(verify.code).toBe(1);
    const problems = verify
      .json<{ problems: { kind: string; path: string; detail: string }[] }>()
      .problems.filter((p) => p.kind === 'damaged_file');
    expect(Object.fromEntries(problems.map((p) => [path.basename(p.path), p.detail.split(' (')[0]]))).toEqual(
      expected,
    );
    const found = (await run('search', '--damaged', '--json')).json<{ results: { path: string }[] }>();
    expect(found.results.map((x) => path.basename(x.path)).sort()).toEqual(Object.keys(expected).sort());
  });
});

describe('a selection follows real pixel edits of its file', { timeout: CLI_TIMEOUT }, () => {
  let ws: ProjectWorkspace;
  let file: string;
  let original: string;

  interface Shown {
    selections: {
      content_hash: string;
      in_library: boolean;
      library_paths: string[];
      edited_since_selected: string | null;
    }[];
  }

  beforeAll(async () => {
    assertBuilt();
    ws = makeProjectWorkspace();
    file = path.join(ws.lib, 'hero.png');
    await writeImage(file, { seed: 51, size: 96 });
    original = sha256sum(file);
    await ws.json(['index', 'update']);
    await ws.json(['project', 'create', 'trailer']);
    await ws.json(['project', 'select', 'trailer', file, '--why', 'opening shot']);
  });
  afterAll(() => ws?.cleanup());

  it('after a pixel change (and a second one), show says "edited since selected", verify exits 0, not missing', async () => {
    const versions: string[] = [];
    for (const seed of [52, 53]) {
      // Another program saves new pixels under the same name (a new file renamed over it).
      const tmp = `${file}.new`;
      fs.writeFileSync(tmp, await imageBytes('png', seed, 96));
      fs.renameSync(tmp, file);
      await ws.json(['index', 'update']);
      const now = sha256sum(file);
      expect(now).not.toBe(original);
      versions.push(now);
      const shown = await ws.json<Shown>(['project', 'show', 'trailer']);
      expect(shown.selections).toHaveLength(1);
      expect(shown.selections[0]).toMatchObject({
        content_hash: original,
        in_library: true,
        library_paths: [file],
        edited_since_selected: now,
      });
      const text = await ws.alice('project', 'show', 'trailer');
      expect(text.stdout).toContain(`edited since selected: now ${now.slice(0, 12)}`);
      const verify = await ws.alice('project', 'verify', 'trailer', '--json');
      expect(verify.json<{ ok: boolean; missing: unknown[] }>().missing).toEqual([]);
      expect(verify.code).toBe(0);
    }
    // The first edit is gone (missing) but lies between the selection and its current version:
    // prune keeps it, as it keeps anything a selection follows.
    const pruned = (await ws.alice('index', 'prune', '--dry-run', '--json')).json<{
      assets: { content_hash: string }[];
      kept: { content_hash: string }[];
    }>();
    expect(pruned.assets).toEqual([]);
    expect(pruned.kept.map((k) => k.content_hash)).toEqual([versions[0]]);
  });
});

describe(
  'dates: the embedded date, then the generator timestamp, then the mtime',
  { timeout: CLI_TIMEOUT },
  () => {
    let ws: Workspace;
    const run = (...args: string[]): Promise<CliResult> => runAlice(args, { cwd: ws.dir, env: ws.env });

    /** A noise PNG with `extra` chunks before IEND. */
    async function pngWithChunks(seed: number, extra: Buffer[]): Promise<Buffer> {
      const png = await imageBytes('png', seed, 64);
      const iend = png.length - 12;
      return Buffer.concat([png.subarray(0, iend), ...extra, png.subarray(iend)]);
    }
    /** A `tIME` chunk (UTC), as an encoder stamps it. */
    function tIME(y: number, mo: number, d: number, h: number, mi: number, s: number): Buffer {
      const body = Buffer.alloc(7);
      body.writeUInt16BE(y, 0);
      body.set([mo, d, h, mi, s], 2);
      return chunk('tIME', body);
    }

    beforeAll(async () => {
      assertBuilt();
      ws = makeWorkspace({ roots: ['lib'] });
      const lib = ws.roots[0] as string;
      const put = (name: string, bytes: Buffer, mtime?: string): void => {
        fs.writeFileSync(path.join(lib, name), bytes);
        if (mtime !== undefined) execFileSync('touch', ['-d', mtime, path.join(lib, name)]);
      };
      // Only a tIME chunk; the file itself was written today.
      put('stamped.png', await pngWithChunks(61, [tIME(2024, 6, 15, 10, 0, 0)]));
      // A `Creation Time` text (RFC 1123, as the PNG specification says); the mtime is older: the
      // generator's date wins over it.
      put(
        'creation.png',
        await pngWithChunks(62, [tEXt('Creation Time', 'Sat, 15 Jun 2024 08:30:00 +0000')]),
        '2022-01-01 12:00',
      );
      // An EXIF date and a tIME chunk: the embedded date wins.
      put('both.png', await pngWithChunks(63, [tIME(2024, 6, 15, 11, 0, 0)]));
      execFileSync('exiftool', [
        '-q',
        '-overwrite_original',
        '-EXIF:DateTimeOriginal=2023:03:01 12:00:00',
        path.join(lib, 'both.png'),
      ]);
      // A `Creation Time` nobody can read: the mtime it is.
      put(
        'unreadable-time.png',
        await pngWithChunks(64, [tEXt('Creation Time', 'the day after the party')]),
        '2024-06-20 09:00',
      );
      expect((await run('index', 'update', '--json')).code).toBe(0);
    });
    afterAll(() => ws?.cleanup());

    it('created_at and created_source follow the order; --since/--until use them', async () => {
      const lib = ws.roots[0] as string;
      const expected: Record<string, [string, string]> = {
        'stamped.png': ['2024-06-15T10:00:00', 'generation'],
        'creation.png': ['2024-06-15T08:30:00', 'generation'],
        'both.png': ['2023-03-01T12:00:00', 'embedded'],
        'unreadable-time.png': ['2024-06-20', 'file_mtime'],
      };
      for (const [name, [at, source]] of Object.entries(expected)) {
        const rec = (await run('show', path.join(lib, name), '--json')).json<{
          index: { created_at: string | null; created_source: string | null };
        }>();
        expect(rec.index.created_source, name).toBe(source);
        expect(rec.index.created_at, name).toMatch(new RegExp(`^${at}`));
      }
      const june = (await run('search', '--since', '2024-06', '--until', '2024-06', '--json')).json<{
        results: { path: string }[];
      }>();
      expect(june.results.map((r) => path.basename(r.path)).sort()).toEqual([
        'creation.png',
        'stamped.png',
        'unreadable-time.png',
      ]);
      const oldest = (await run('search', '--sort', 'oldest', '--json')).json<{
        results: { path: string }[];
      }>();
      expect(oldest.results.map((r) => path.basename(r.path))).toEqual([
        'both.png',
        'creation.png',
        'stamped.png',
        'unreadable-time.png',
      ]);
    });
  },
);
