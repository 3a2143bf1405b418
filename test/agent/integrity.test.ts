/**
 * Scheduled integrity verification against a real index built from real files: a slice per run,
 * a cursor that rotates so every file is re-hashed within `cycle_days` runs, files changed in
 * the normal way skipped (the watcher's business), and silent changes reported, never "fixed".
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityService, type IntegrityReport } from '../../src/services/verify/integrity.service.js';
import {
  makeTempDir,
  makeWorkspace,
  removeDir,
  sha256Of,
  writeImage,
  type Workspace,
} from '../helpers/fixtures.js';
import { rebuild, withContainer } from '../helpers/library.js';

let ws: Workspace;
let files: string[];
let pristine: string;

/** One real library and index for the whole file; each test gets it back byte- and mtime-exact. */
beforeAll(async () => {
  ws = makeWorkspace({ roots: ['lib'] });
  const [lib] = ws.roots as [string];
  files = [];
  for (let i = 0; i < 15; i++) {
    const f = path.join(lib, `d${i % 3}`, `img-${String(i).padStart(2, '0')}.png`);
    await writeImage(f, { seed: 700 + i, size: 16 });
    files.push(f);
  }
  await rebuild(ws);
  pristine = makeTempDir('alice-integrity-pristine-');
  execFileSync('cp', ['-a', lib, path.join(ws.dir, 'data'), pristine]);
});
beforeEach(() => {
  for (const name of ['lib', 'data']) {
    fs.rmSync(path.join(ws.dir, name), { recursive: true, force: true });
    execFileSync('cp', ['-a', path.join(pristine, name), ws.dir]);
  }
  fs.rmSync(path.join(ws.home, 'state'), { recursive: true, force: true });
});
afterAll(() => {
  ws.cleanup();
  removeDir(pristine);
});

interface Emitted {
  type: string;
  payload: Record<string, unknown>;
}

async function runs(
  n: number,
  cycleDays: number,
  budgetMs = 60_000,
): Promise<{ reports: IntegrityReport[]; events: Emitted[] }> {
  const events: Emitted[] = [];
  const reports = await withContainer(ws, async (c) => {
    const svc = new IntegrityService({
      repo: () => c.repo(),
      stateFile: path.join(ws.home, 'state', 'verify-cursor.json'),
      budgetMs,
      cycleDays,
      events: { emit: (type, payload) => events.push({ type, payload: { ...payload } }) },
    });
    const out: IntegrityReport[] = [];
    for (let i = 0; i < n; i++) out.push(await svc.run());
    return out;
  });
  return { reports, events };
}

/** Replaces a file's bytes with others of the same size and puts its exact mtime back (bit rot). */
function rot(file: string): void {
  const ref = `${file}.ref`;
  fs.copyFileSync(file, ref);
  execFileSync('touch', ['-r', file, ref]);
  const bytes = fs.readFileSync(file);
  const last = bytes.length - 20;
  bytes[last] = (bytes[last] ?? 0) ^ 0xff;
  fs.writeFileSync(file, bytes);
  execFileSync('touch', ['-r', ref, file]);
  fs.rmSync(ref);
}

describe('IntegrityService', () => {
  it('checks a slice per run and covers every file exactly once within cycle_days runs', async () => {
    // Every file rotten: each run's mismatches name exactly the files it checked.
    for (const f of files) rot(f);
    const { reports, events } = await runs(5, 5);
    expect(reports.map((r) => r.checked)).toEqual([3, 3, 3, 3, 3]);
    const checked = reports.flatMap((r) => r.mismatches.map((m) => m.path));
    expect(checked).toEqual([...files].sort());
    expect(events).toHaveLength(15);
    const cursor = JSON.parse(fs.readFileSync(path.join(ws.home, 'state', 'verify-cursor.json'), 'utf8')) as {
      next_after: string;
    };
    expect(cursor.next_after).toBe([...files].sort().at(-1));
  });

  it('finds nothing wrong in a healthy library', async () => {
    const { reports, events } = await runs(1, 1);
    expect(reports[0]).toMatchObject({ checked: 15, skipped_changed: 0, mismatches: [] });
    expect(events).toEqual([]);
  });

  it('starts over after the last file and keeps its place across service instances', async () => {
    await runs(2, 5); // 6 of 15 checked
    const { reports } = await runs(4, 5); // 9 more, then wraps to the start
    expect(reports.map((r) => r.checked)).toEqual([3, 3, 3, 3]);
    const cursor = JSON.parse(fs.readFileSync(path.join(ws.home, 'state', 'verify-cursor.json'), 'utf8')) as {
      next_after: string;
    };
    expect(cursor.next_after).toBe([...files].sort()[2]);
  });

  it('reports bit rot (same size and mtime, other bytes) and leaves the file as it is', async () => {
    const victim = files[4] as string;
    const expected = sha256Of(victim);
    rot(victim);
    const rotten = fs.readFileSync(victim);
    const { reports, events } = await runs(1, 1);
    const [r] = reports as [IntegrityReport];
    expect(r.checked).toBe(15);
    expect(r.mismatches).toEqual([{ path: victim, expected, actual: sha256Of(victim) }]);
    expect(events.map((e) => [e.type, e.payload['path']])).toEqual([['integrity.failed', victim]]);
    expect(fs.readFileSync(victim).equals(rotten)).toBe(true);
  });

  it('skips files changed the normal way (new mtime): the watcher handles those', async () => {
    const edited = files[0] as string;
    fs.appendFileSync(edited, Buffer.from('trailing bytes'));
    const { reports } = await runs(1, 1);
    expect(reports[0]).toMatchObject({ checked: 14, skipped_changed: 1, mismatches: [] });
  });

  it('tolerates a file that vanished since the index saw it', async () => {
    fs.rmSync(files[7] as string);
    const { reports } = await runs(1, 1);
    expect(reports[0]).toMatchObject({ checked: 14, mismatches: [] });
  });

  it('stops when the time budget is spent', async () => {
    const { reports } = await runs(1, 1, 0);
    expect(reports[0]?.checked).toBeLessThanOrEqual(1);
  });
});
