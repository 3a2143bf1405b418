/**
 * Real files for tests: images with distinct content (seeded noise, made with sharp), a tiny MP4
 * (ffmpeg, or valid-looking bytes when ffmpeg is absent), temp workspaces with a settings file and
 * an ALICE_HOME, byte-exact tree snapshots and the coreutils `sha256sum` for cross-checks.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** Deterministic PRNG (mulberry32): the same seed always gives the same pixels. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Raw RGB noise; different seeds give different pixels (and so different file hashes). */
export function noisePixels(seed: number, width = 64, height = 64): Buffer {
  const rnd = seededRandom(seed * 7919 + 17);
  const buf = Buffer.alloc(width * height * 3);
  for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
  return buf;
}

export interface ImageOptions {
  /** Seed of the noise; default 1. */
  seed?: number;
  /** Side length in pixels; default 64. */
  size?: number;
  /** Default: from the file extension (png, jpg/jpeg, webp). */
  format?: ImageFormat;
}

function formatOf(file: string): ImageFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.webp') return 'webp';
  return 'png';
}

/** Encodes a noise image (in memory). */
export async function imageBytes(format: ImageFormat, seed = 1, size = 64): Promise<Buffer> {
  const img = sharp(noisePixels(seed, size, size), { raw: { width: size, height: size, channels: 3 } });
  if (format === 'jpeg') return img.jpeg({ quality: 90 }).toBuffer();
  if (format === 'webp') return img.webp({ quality: 90 }).toBuffer();
  return img.png().toBuffer();
}

/** Writes a real image with distinct content; creates parent folders; returns the bytes. */
export async function writeImage(file: string, opts: ImageOptions = {}): Promise<Buffer> {
  const data = await imageBytes(opts.format ?? formatOf(file), opts.seed ?? 1, opts.size ?? 64);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  return data;
}

let ffmpegChecked: boolean | undefined;

/** True when an `ffmpeg` binary can be run. */
export function hasFfmpeg(): boolean {
  ffmpegChecked ??= spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
  return ffmpegChecked;
}

/**
 * Minimal MP4-shaped bytes (ftyp + free + mdat boxes) for when ffmpeg is absent; alice identifies
 * MP4 by extension and does not decode it in the foundation.
 */
export function fakeMp4Bytes(seed = 1): Buffer {
  const box = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + body.length, 0);
    head.write(type, 4, 'ascii');
    return Buffer.concat([head, body]);
  };
  const ftyp = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2avc1mp41', 'latin1'));
  const free = box('free', Buffer.from(`alice-test-${seed}`));
  return Buffer.concat([ftyp, free, box('mdat', noisePixels(seed, 16, 16))]);
}

/** Writes a tiny MP4 (1 s, 64×64) whose bytes depend on `seed`; returns the bytes. */
export function writeMp4(file: string, seed = 1): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!hasFfmpeg()) {
    const data = fakeMp4Bytes(seed);
    fs.writeFileSync(file, data);
    return data;
  }
  execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
      ...['-i', `testsrc=size=64x64:rate=5:duration=1,hue=h=${(seed * 37) % 360}`],
      ...['-pix_fmt', 'yuv420p', '-metadata', `comment=alice-test-${seed}`, '-f', 'mp4', file],
    ],
    { stdio: 'ignore' },
  );
  return fs.readFileSync(file);
}

/** SHA-256 of a file computed in-process (for expectations, not for alice itself). */
export function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** SHA-256 of a file from the real coreutils `sha256sum`, an independent oracle. */
export function sha256sum(file: string): string {
  const out = execFileSync('sha256sum', ['--', file], { encoding: 'utf8' });
  return out.split(/\s+/)[0] ?? '';
}

/** Makes a fresh temp folder under the OS temp dir. */
export function makeTempDir(prefix = 'alice-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface Workspace {
  /** The temp folder holding everything below. */
  readonly dir: string;
  /** ALICE_HOME (created). */
  readonly home: string;
  /** Absolute asset roots (created unless `create: false`). */
  readonly roots: string[];
  /** The settings file. */
  readonly settingsFile: string;
  /** Index file, as configured. */
  readonly searchDb: string;
  /** Environment for runAlice: ALICE_HOME and ALICE_CONFIG. */
  readonly env: Record<string, string>;
  /** Rewrites the settings file (merged over the workspace defaults). */
  writeSettings(settings: Record<string, unknown>): void;
  cleanup(): void;
}

export interface WorkspaceOptions {
  /** Asset root folder names, relative to the workspace (default ['lib']). */
  roots?: string[];
  /** Extra settings merged over `storage`. */
  settings?: Record<string, unknown>;
  /** Create the root folders (default true). */
  create?: boolean;
}

/**
 * A temp workspace: `<dir>/home` (ALICE_HOME), asset roots under `<dir>`, `<dir>/settings.yaml`
 * with relative paths (resolved against its folder) and the index at `<dir>/data/search.duckdb`.
 */
export function makeWorkspace(opts: WorkspaceOptions = {}): Workspace {
  const dir = makeTempDir();
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  const rootNames = opts.roots ?? ['lib'];
  const roots = rootNames.map((r) => path.join(dir, r));
  if (opts.create !== false) for (const r of roots) fs.mkdirSync(r, { recursive: true });
  const settingsFile = path.join(dir, 'settings.yaml');
  const base = { storage: { search_db: 'data/search.duckdb', asset_paths: rootNames, project_paths: [] } };
  const write = (extra: Record<string, unknown>): void => {
    const merged: Record<string, unknown> = { ...base, ...extra };
    const storage = extra['storage'];
    if (typeof storage === 'object' && storage !== null) merged['storage'] = { ...base.storage, ...storage };
    fs.writeFileSync(settingsFile, YAML.stringify(merged));
  };
  write(opts.settings ?? {});
  return {
    dir,
    home,
    roots,
    settingsFile,
    searchDb: path.join(dir, 'data', 'search.duckdb'),
    env: { ALICE_HOME: home, ALICE_CONFIG: settingsFile },
    writeSettings: write,
    cleanup: () => removeDir(dir),
  };
}

/** Every entry below `dir`: files (with their bytes' hash and mode), folders, symlinks. */
export type TreeSnapshot = Record<string, string>;

/** Byte-exact picture of a tree, hidden files and `.metadata` included, for before/after checks. */
export function snapshotTree(dir: string): TreeSnapshot {
  const out: TreeSnapshot = {};
  const visit = (abs: string, rel: string): void => {
    const st = fs.lstatSync(abs);
    if (st.isSymbolicLink()) out[rel] = `link:${fs.readlinkSync(abs)}`;
    else if (st.isDirectory()) {
      if (rel !== '') out[rel] = 'dir';
      for (const name of fs.readdirSync(abs))
        visit(path.join(abs, name), rel === '' ? name : `${rel}/${name}`);
    } else if (st.isFile()) {
      const hash = createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
      out[rel] = `file:${st.size}:${hash}`;
    } else out[rel] = 'other';
  };
  if (fs.existsSync(dir)) visit(dir, '');
  return out;
}

/** Recursively lists files (relative paths) below `dir` whose name matches `re`. */
export function findFiles(dir: string, re: RegExp = /./): string[] {
  const out: string[] = [];
  const visit = (abs: string, rel: string): void => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) visit(path.join(abs, e.name), childRel);
      else if (re.test(e.name)) out.push(childRel);
    }
  };
  if (fs.existsSync(dir)) visit(dir, '');
  return out.sort();
}

/** True when the tests run as root (chmod 000 does not stop root from reading). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
