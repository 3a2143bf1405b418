/**
 * Shared pieces of the reliability suite: the scale switch (RELIABILITY_SCALE=full runs the sizes
 * the issue names, the default is the reduced CI size), tracked temp workspaces, tmpfs mounts that
 * are always unmounted, and the end-state checks several scenarios share (index holds each file
 * exactly once, every sidecar parses and names its own hash, the agent's peak memory).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { FAST_AGENT_SETTINGS, mergeSettings } from '../helpers/agent.js';
import { findFiles, makeWorkspace, sha256Of, type Workspace } from '../helpers/fixtures.js';
import { readIndex, sidecarHashes } from '../helpers/library.js';

/** True when `RELIABILITY_SCALE=full`: the sizes, run by hand. */
export const FULL = process.env['RELIABILITY_SCALE'] === 'full';

/** `ci` in the default (CI) run, `full` with RELIABILITY_SCALE=full. */
export function sized<T>(ci: T, full: T): T {
  return FULL ? full : ci;
}

const workspaces: Workspace[] = [];

/** A temp workspace with the quick agent settings; removed by `cleanupWorkspaces()`. */
export function workspace(roots: string[] = ['lib'], settings: Record<string, unknown> = {}): Workspace {
  const ws = makeWorkspace({ roots, settings: mergeSettings(FAST_AGENT_SETTINGS, settings) });
  workspaces.push(ws);
  return ws;
}

export function cleanupWorkspaces(): void {
  for (const ws of workspaces.splice(0)) ws.cleanup();
}

const mounts: string[] = [];

/**
 * Mounts a tmpfs of `size` (e.g. `2m`) on `dir` (created). Returns a reason string when that is not
 * possible here (not root, no mount permission in the container), undefined on success.
 */
export function mountTmpfs(dir: string, size: string): string | undefined {
  fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return `cannot mount a tmpfs on ${dir}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
  mounts.push(dir);
  return undefined;
}

/** Unmounts every tmpfs this file mounted (lazily, so a busy mount never sticks). */
export function unmountAll(): void {
  for (const dir of mounts.splice(0).reverse()) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
  }
}

/**
 * Fills the file system holding `dir` to the last byte with `<dir>/filler-*`: big writes first,
 * then pages, then single bytes, until each size fails with ENOSPC. Returns the filler files.
 */
export function fillDisk(dir: string): string[] {
  const files: string[] = [];
  for (const chunk of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
    const file = path.join(dir, `filler-${chunk}`);
    const fd = fs.openSync(file, 'w');
    files.push(file);
    const buf = Buffer.alloc(chunk, 0x61);
    try {
      for (;;) fs.writeSync(fd, buf);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOSPC') throw err;
    } finally {
      fs.closeSync(fd);
    }
  }
  return files;
}

/**
 * After the agent stopped: the index holds exactly these files (each path once, present, under the
 * hash of its bytes) and one asset per distinct content.
 */
export async function expectIndexExactly(ws: Workspace, files: readonly string[]): Promise<void> {
  const view = await readIndex(ws.searchDb);
  const want = Object.fromEntries(files.map((f) => [f, sha256Of(f)]));
  const present = Object.fromEntries(
    Object.entries(view.locations)
      .filter(([, l]) => l.present)
      .map(([p, l]) => [p, l.content_hash]),
  );
  expect(present).toEqual(want);
  expect(Object.keys(view.locations).sort()).toEqual([...files].sort());
  expect(Object.keys(view.assets).sort()).toEqual([...new Set(Object.values(want))].sort());
}

/**
 * Every sidecar below `root` is at its sharded path, parses, is version 4.0 and names its own hash;
 * there is exactly one per expected hash and nothing else (no temp files) under `.metadata`.
 */
export function expectSidecarsValid(root: string, hashes: readonly string[]): void {
  const meta = path.join(root, '.metadata');
  // Sharded sidecars and the root's identity marker (root-id), nothing else.
  const stray = findFiles(meta).filter(
    (f) => !/^[0-9a-f]{2}\/[0-9a-f]{64}\.json$/.test(f) && f !== 'root-id',
  );
  expect(stray, 'files under .metadata that are not sharded sidecars').toEqual([]);
  expect(sidecarHashes(root)).toEqual([...new Set(hashes)].sort());
  for (const h of sidecarHashes(root)) {
    const file = path.join(meta, h.slice(0, 2), `${h}.json`);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { content_hash: string; version: string };
    expect(doc.content_hash, file).toBe(h);
    expect(doc.version, file).toBe('4.0');
  }
}

/** Every `.json` below `<root>/.metadata` parses (a file that does not exist cannot be torn). */
export function unparsableSidecars(root: string): string[] {
  const meta = path.join(root, '.metadata');
  return findFiles(meta, /\.json$/).filter((rel) => {
    try {
      JSON.parse(fs.readFileSync(path.join(meta, rel), 'utf8'));
      return false;
    } catch {
      return true;
    }
  });
}

/** Peak resident memory (VmHWM) of a live process, in MB; undefined once it has exited. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Seeded so a failing random run can be repeated: RELIABILITY_SEED=<n>. */
export function runSeed(): number {
  const given = Number(process.env['RELIABILITY_SEED']);
  return Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 1e9) + 1;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Why a kernel setting under /proc/sys cannot be changed here (not root, read-only /proc/sys in a
 * container), or undefined when it can: rewriting its current value is the probe.
 */
export function cannotChangeSysctl(file: string): string | undefined {
  try {
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').trim());
    return undefined;
  } catch (err) {
    return `cannot change ${file} here (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}
