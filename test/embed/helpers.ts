/** Test helpers: real files in temp dirs and an exiftool process separate from the adapter's. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.join(here, '..', 'fixtures', 'embed');

/**
 * The outside exiftool: Debian's perl `exiftool` when installed, else the vendored perl script
 * run directly. Either way a separate process with no alice config.
 */
const OUTSIDE_EXIFTOOL = existsSync('/usr/bin/exiftool')
  ? '/usr/bin/exiftool'
  : path.join(here, '..', '..', 'node_modules', 'exiftool-vendored.pl', 'bin', 'exiftool');

export async function makeTempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'alice-embed-test-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export type ImageKind = 'jpeg' | 'png' | 'webp' | 'avif';

/** A small real image made with sharp. */
export async function makeImage(
  dir: string,
  kind: ImageKind,
  name = `img.${kind === 'jpeg' ? 'jpg' : kind}`,
): Promise<string> {
  const file = path.join(dir, name);
  const img = sharp({ create: { width: 24, height: 16, channels: 3, background: { r: 200, g: 40, b: 90 } } });
  await img.toFormat(kind).toFile(file);
  return file;
}

/** Copies a committed fixture into `dir`. */
export async function copyFixture(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await copyFile(path.join(FIXTURES, name), file);
  return file;
}

/** Reads tags with the outside exiftool: `-j -G1 -struct`, values as exiftool prints them. */
export async function outsideRead(file: string, ...tags: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(OUTSIDE_EXIFTOOL, ['-j', '-G1', '-struct', '-n', ...tags, file]);
  const parsed = JSON.parse(stdout) as Record<string, unknown>[];
  return parsed[0] ?? {};
}

/** Writes tags with the outside exiftool (arguments are constants in the tests). */
export async function outsideWrite(file: string, ...assignments: string[]): Promise<void> {
  await run(OUTSIDE_EXIFTOOL, ['-overwrite_original', ...assignments, file]);
}

/** A list value as strings (exiftool prints a one-item list as a scalar). */
export function asStrings(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

export async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

export interface FileState {
  hash: string;
  mtimeMs: number;
  mode: number;
}

export async function fileState(file: string): Promise<FileState> {
  const s = await stat(file);
  return { hash: await sha256(file), mtimeMs: s.mtimeMs, mode: s.mode & 0o7777 };
}

/** Names in `dir` that look like leftovers of a rewrite. */
export async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.includes('alice-tmp') || n.includes('exiftool_tmp'));
}

/** A decode check as the lead will wire it with the sharp adapter: decodes every pixel. */
export async function sharpDecodes(file: string): Promise<true | string> {
  try {
    await sharp(file).raw().toBuffer();
    return true;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
