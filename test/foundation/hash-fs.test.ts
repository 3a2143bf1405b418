/** Streamed hashing, atomic writes and the tree walk, against real files. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  walkFiles,
  writeFileAtomic,
  writeFilesAtomic,
  type WalkEntry,
  type WalkProblem,
} from '../../src/adapters/fs.adapter.js';
import { FileChangedError, sha256Buffer, sha256File } from '../../src/adapters/hash.adapter.js';
import { isIgnoredDir, isIndexable } from '../../src/domain/media.js';
import type { RootConfig } from '../../src/config/config.js';
import { NO_PROGRESS } from '../../src/ports.js';
import { hashFiles, type FileProblem, type SeenFile } from '../../src/services/scan/scan-collect.js';
import { makeTempDir, noisePixels, removeDir, sha256sum, writeImage } from '../helpers/fixtures.js';

let dir: string;
beforeAll(() => {
  dir = makeTempDir('alice-hashfs-');
});
afterAll(() => removeDir(dir));

const MiB = 1024 * 1024;

function bigFile(name: string, size: number): string {
  const file = path.join(dir, name);
  const chunk = noisePixels(size % 97, 1024, 342); // ~1 MiB of noise
  const fd = fs.openSync(file, 'w');
  for (let done = 0; done < size; done += chunk.length)
    fs.writeSync(fd, chunk, 0, Math.min(chunk.length, size - done));
  fs.closeSync(fd);
  return file;
}

/** Appends to `file` on every event-loop turn until `p` settles, racing the reader. */
async function appendWhile<T>(file: string, p: Promise<T>): Promise<PromiseSettledResult<T>> {
  let settled = false;
  const result = Promise.allSettled([p]).then((r) => {
    settled = true;
    return r[0];
  });
  while (!settled) {
    fs.appendFileSync(file, 'grow');
    await new Promise((r) => setImmediate(r));
  }
  return result;
}

describe('sha256File', () => {
  it('matches coreutils sha256sum, across chunk boundaries', async () => {
    const files = [
      bigFile('one-byte.bin', 1),
      bigFile('exact-chunk.bin', MiB),
      bigFile('chunk-plus.bin', 3 * MiB + 123),
    ];
    const img = path.join(dir, 'img.png');
    await writeImage(img, { seed: 3 });
    for (const f of [...files, img]) {
      const r = await sha256File(f);
      expect(r.hash).toBe(sha256sum(f));
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      const st = fs.statSync(f);
      expect([r.size, r.mtimeMs, r.ino]).toEqual([st.size, st.mtimeMs, st.ino]);
    }
  });

  it('hashes an empty file to the SHA-256 of nothing', async () => {
    const f = path.join(dir, 'empty.png');
    fs.writeFileSync(f, '');
    const r = await sha256File(f);
    expect(r.size).toBe(0);
    expect(r.hash).toBe(sha256Buffer(''));
    expect(r.hash).toBe(sha256sum(f));
  });

  it('raises FileChangedError when the file grows while it is read', async () => {
    const f = bigFile('growing.bin', 8 * MiB);
    const res = await appendWhile(f, sha256File(f));
    expect(res.status).toBe('rejected');
    expect((res as PromiseRejectedResult).reason).toBeInstanceOf(FileChangedError);
    expect(((res as PromiseRejectedResult).reason as FileChangedError).code).toBe('EFILECHANGED');
  });

  it('raises FileChangedError when the file is truncated while it is read', async () => {
    const f = bigFile('shrinking.bin', 8 * MiB);
    const p = sha256File(f);
    let settled = false;
    const done = Promise.allSettled([p]).then((r) => ((settled = true), r[0]));
    let size = 8 * MiB;
    while (!settled) {
      size = Math.max(0, size - 256 * 1024);
      fs.truncateSync(f, size);
      await new Promise((r) => setImmediate(r));
    }
    const res = await done;
    expect(res?.status).toBe('rejected');
    expect((res as PromiseRejectedResult).reason).toBeInstanceOf(FileChangedError);
  });

  it('fails with ENOENT for a file that vanished', async () => {
    await expect(sha256File(path.join(dir, 'never-there.png'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('hashFiles (scan phase 1): per-file errors, the run goes on', () => {
  const root: RootConfig = { path: '', kind: 'asset', isDefault: false };
  const seen = (file: string, size: number): SeenFile => ({
    path: file,
    root: { ...root, path: dir },
    rel: path.basename(file),
    media: { type: 'image', mime: 'image/png', format: 'png' },
    size,
    mtimeMs: 0,
    ino: 0,
    prev: undefined,
    hadRow: false,
  });

  it('reports empty, vanished and growing files and hashes the rest', async () => {
    const ok = path.join(dir, 'ok.png');
    await writeImage(ok, { seed: 9 });
    const empty = path.join(dir, 'zero.png');
    fs.writeFileSync(empty, '');
    const growing = bigFile('grows.png', 8 * MiB);
    const problems: FileProblem[] = [];
    const files = [
      seen(ok, fs.statSync(ok).size),
      seen(empty, 0),
      seen(path.join(dir, 'vanished.png'), 10),
      seen(growing, 8 * MiB),
    ];
    const res = await appendWhile(growing, hashFiles(files, 2, NO_PROGRESS, problems));
    expect(res.status).toBe('fulfilled');
    const hashed = (res as PromiseFulfilledResult<SeenFile[]>).value;
    expect(hashed.map((f) => [f.path, f.byteHash])).toEqual([[ok, sha256sum(ok)]]);
    const byPath = Object.fromEntries(problems.map((p) => [path.basename(p.path), p]));
    expect(byPath['zero.png']?.code).toBe('EEMPTY');
    expect(byPath['vanished.png']?.code).toBe('ENOENT');
    expect(byPath['vanished.png']?.message).toMatch(/vanished/);
    expect(byPath['grows.png']?.code).toBe('EFILECHANGED');
    expect(problems).toHaveLength(3);
  });
});

describe('writeFileAtomic', () => {
  it('writes, replaces, creates folders and leaves no temp files', async () => {
    const target = path.join(dir, 'atomic', 'deep', 'x.json');
    await writeFileAtomic(target, '{"a":1}\n');
    await writeFileAtomic(target, '{"a":2}\n');
    expect(fs.readFileSync(target, 'utf8')).toBe('{"a":2}\n');
    expect(fs.readdirSync(path.dirname(target))).toEqual(['x.json']);
  });

  it('concurrent writers: the file holds one complete version, no temp files remain', async () => {
    const target = path.join(dir, 'atomic-race', 'y.json');
    const bodies = Array.from({ length: 12 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(50_000 + i) }));
    await Promise.all(bodies.map((b) => writeFileAtomic(target, b)));
    expect(bodies).toContain(fs.readFileSync(target, 'utf8'));
    expect(fs.readdirSync(path.dirname(target))).toEqual(['y.json']);
  });

  it('on failure removes its temp file and keeps the old content', async () => {
    const folder = path.join(dir, 'atomic-fail');
    const target = path.join(folder, 'z.json');
    fs.mkdirSync(path.join(target, 'child'), { recursive: true }); // a non-empty dir: rename fails
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
    expect(fs.readdirSync(folder)).toEqual(['z.json']);
    expect(fs.statSync(target).isDirectory()).toBe(true);
  });
});

describe('writeFilesAtomic (a batch of sidecars)', () => {
  it('writes every file of a batch across folders; a failed one is reported alone and leaves no temp file', async () => {
    const base = path.join(dir, 'batch');
    const files = Array.from({ length: 40 }, (_, i) => ({
      file: path.join(base, `d${i % 4}`, `f${i}.json`),
      data: JSON.stringify({ i }),
    }));
    fs.mkdirSync(path.join(base, 'd1', 'f5.json', 'child'), { recursive: true }); // rename fails
    const errors = await writeFilesAtomic(files);
    files.forEach((f, i) => {
      if (i === 5) expect(errors[i]).toBeDefined();
      else {
        expect(errors[i]).toBeUndefined();
        expect(fs.readFileSync(f.file, 'utf8')).toBe(f.data);
      }
    });
    for (let d = 0; d < 4; d++)
      expect(fs.readdirSync(path.join(base, `d${d}`)).filter((n) => n.includes('alice-tmp'))).toEqual([]);
    // A second batch replaces the files whole.
    expect(await writeFilesAtomic([{ file: files[0]!.file, data: 'new' }])).toEqual([undefined]);
    expect(fs.readFileSync(files[0]!.file, 'utf8')).toBe('new');
  });
});

async function walk(root: string): Promise<{ files: WalkEntry[]; problems: WalkProblem[] }> {
  const files: WalkEntry[] = [];
  const problems: WalkProblem[] = [];
  for await (const e of walkFiles(root, {
    skipDir: isIgnoredDir,
    acceptFile: isIndexable,
    onProblem: (p) => problems.push(p),
  }))
    files.push(e);
  return { files, problems };
}

describe('walkFiles', () => {
  it('skips ignored names, never follows directory links, reports bad entries and goes on', async () => {
    const root = path.join(dir, 'walk');
    await writeImage(path.join(root, 'a.png'), { seed: 1 });
    await writeImage(path.join(root, 'sub', 'b.webp'), { seed: 2 });
    for (const name of ['.hidden.png', 'c.png.part', 'd.png.crdownload', 'e.tmp', 'f.download', 'notes.txt'])
      fs.writeFileSync(path.join(root, name), 'x');
    fs.mkdirSync(path.join(root, '.metadata', 'ab'), { recursive: true });
    fs.writeFileSync(path.join(root, '.metadata', 'ab', 'in-metadata.png'), 'x');
    fs.mkdirSync(path.join(root, '.alice'), { recursive: true });
    fs.writeFileSync(path.join(root, '.alice', 'state.png'), 'x');
    fs.mkdirSync(path.join(root, 'folder-named.png'));
    fs.symlinkSync(path.join(root, 'nowhere.png'), path.join(root, 'broken.png'));
    fs.symlinkSync(path.join(root, 'loop2.png'), path.join(root, 'loop1.png'));
    fs.symlinkSync(path.join(root, 'loop1.png'), path.join(root, 'loop2.png'));
    fs.symlinkSync(root, path.join(root, 'sub', 'up-loop'));
    fs.symlinkSync(root, path.join(root, 'sub', 'up-loop.png'));
    fs.symlinkSync(path.join(root, 'a.png'), path.join(root, 'link-to-a.png'));
    execFileSync('mkfifo', [path.join(root, 'fifo.png')]);

    const { files, problems } = await walk(root);
    expect(files.map((f) => path.relative(root, f.path)).sort()).toEqual([
      'a.png',
      'link-to-a.png',
      'sub/b.webp',
    ]);
    const byName = Object.fromEntries(problems.map((p) => [path.basename(p.path), p]));
    expect(byName['broken.png']).toMatchObject({
      code: 'ENOENT',
      message: expect.stringMatching(/broken symlink/),
    });
    expect(byName['loop1.png']).toMatchObject({ code: 'ELOOP', message: 'symlink loop' });
    expect(byName['loop2.png']).toMatchObject({ code: 'ELOOP' });
    expect(problems).toHaveLength(3);
  });

  it('reports a name that is not valid UTF-8 as such (not as a vanished file)', async () => {
    const root = path.join(dir, 'walk-badname');
    await writeImage(path.join(root, 'good.png'), { seed: 5 });
    const bad = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0xff, 0xfe]), Buffer.from('.png')]);
    fs.writeFileSync(bad, fs.readFileSync(path.join(root, 'good.png')));
    const { files, problems } = await walk(root);
    expect(files.map((f) => f.name)).toEqual(['good.png']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      code: 'EBADNAME',
      message: expect.stringMatching(/not valid UTF-8/),
    });
  });

  it('a root that does not exist yields nothing and no problem (offline is decided by the caller)', async () => {
    const { files, problems } = await walk(path.join(dir, 'no-such-root'));
    expect(files).toEqual([]);
    expect(problems).toEqual([]);
  });
});
