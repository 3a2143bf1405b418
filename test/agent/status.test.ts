/**
 * The status file: written atomically and owner-only by StatusService, and judged by readStatus
 * (running, stopped, stale heartbeat, dead process, no file).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/adapters/fs.adapter.js';
import { StatusService, readStatus, type StatusDoc } from '../../src/services/watch/status.service.js';
import { makeTempDir, removeDir } from '../helpers/fixtures.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = makeTempDir('alice-status-');
  file = path.join(dir, 'status.json');
});
afterEach(() => removeDir(dir));

function service(pid = process.pid): StatusService {
  return new StatusService(file, (f, data, mode) => writeFileAtomic(f, data, mode), {
    pid,
    version: '9.9.9',
    started_at: new Date().toISOString(),
    home: dir,
    socket: path.join(dir, 'agent.sock'),
    index: path.join(dir, 'search.duckdb'),
  });
}

function writeDoc(patch: Partial<StatusDoc>): void {
  const s = service();
  const doc = { ...s.doc, ...patch };
  fs.writeFileSync(file, JSON.stringify(doc));
}

/** A pid that surely belongs to no running process: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid;
}

describe('StatusService', () => {
  it('writes the document owner-only, with a fresh heartbeat, on flush', async () => {
    const s = service();
    s.setState('watching');
    await s.flush();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as StatusDoc;
    expect(doc).toMatchObject({ pid: process.pid, version: '9.9.9', state: 'watching' });
    expect(Date.now() - Date.parse(doc.heartbeat)).toBeLessThan(5000);
    expect(fs.readdirSync(dir)).toEqual(['status.json']);
  });

  it('keeps only the last 20 errors, newest first, and counts them all', async () => {
    const s = service();
    for (let i = 0; i < 25; i++) s.recordError({ path: `/p/${i}`, code: 'EIO', message: `e${i}` });
    await s.flush();
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as StatusDoc;
    expect(doc.counters.errors).toBe(25);
    expect(doc.last_errors).toHaveLength(20);
    expect(doc.last_errors[0]?.path).toBe('/p/24');
    expect(doc.last_errors[19]?.path).toBe('/p/5');
  });

  it('writes a state change by itself within a moment, and the final state on stop', async () => {
    const s = service();
    s.setState('scanning');
    await new Promise((r) => setTimeout(r, 50));
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as StatusDoc).state).toBe('scanning');
    s.start(60_000);
    s.setState('stopped');
    await s.stop();
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as StatusDoc).state).toBe('stopped');
  });
});

describe('readStatus', () => {
  it('says no_status when there is no file, or it is not JSON', async () => {
    expect(await readStatus(file, 30)).toEqual({ running: false, reason: 'no_status', status: null });
    fs.writeFileSync(file, '{"pid": 1, "heart');
    expect(await readStatus(file, 30)).toEqual({ running: false, reason: 'no_status', status: null });
  });

  it('is running with a live pid and a fresh heartbeat', async () => {
    writeDoc({ state: 'watching', heartbeat: new Date().toISOString() });
    const r = await readStatus(file, 30);
    expect(r.running).toBe(true);
    expect(r.status?.state).toBe('watching');
  });

  it('is stale when the heartbeat is older than the limit, though the pid lives', async () => {
    const now = Date.now();
    writeDoc({ state: 'watching', heartbeat: new Date(now - 45_000).toISOString() });
    const r = await readStatus(file, 30, now);
    expect(r).toMatchObject({ running: false, reason: 'stale', age_s: 45 });
    expect((await readStatus(file, 60, now)).running).toBe(true);
  });

  it('is dead when the process is gone without having stopped', async () => {
    writeDoc({ state: 'watching', pid: deadPid(), heartbeat: new Date().toISOString() });
    expect(await readStatus(file, 30)).toMatchObject({ running: false, reason: 'dead' });
  });

  it('is stopped after a clean stop, whatever the pid or heartbeat', async () => {
    writeDoc({ state: 'stopped', heartbeat: new Date(Date.now() - 3_600_000).toISOString() });
    expect(await readStatus(file, 30)).toMatchObject({ running: false, reason: 'stopped' });
  });
});
