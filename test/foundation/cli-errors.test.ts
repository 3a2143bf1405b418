/**
 * Bad input at the process level, through the built binary: settings with errors, an index locked
 * by another process, a corrupt index, and a file alice may not read. Each gives a stable error
 * code and a hint (exit 2), or a per-file error while the run goes on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import { assertBuilt, REPO_ROOT, runAlice, type CliResult } from '../helpers/cli.js';
import { isRoot, makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { readIndex, rebuild } from '../helpers/library.js';

/** Several child processes per test: generous, for a loaded 2-core machine; a hang still fails. */
const CLI_TIMEOUT = 180_000;

interface ErrorJson {
  error: { code: string; message: string; details: string[]; hint: string | null };
}

const workspaces: Workspace[] = [];
function workspace(...args: Parameters<typeof makeWorkspace>): Workspace {
  const ws = makeWorkspace(...args);
  workspaces.push(ws);
  return ws;
}
beforeAll(() => assertBuilt());
afterAll(() => {
  for (const ws of workspaces) ws.cleanup();
});

/** Raw DuckDB wording that must never reach the user. */
const RAW_DUCKDB = /IO Error|Conflicting lock|Could not set lock|DuckDB|duckdb\.cpp|PID \d+/;

function expectAliceError(res: CliResult, code: string): ErrorJson['error'] {
  expect(res.code, res.stderr).toBe(2);
  const err = res.json<ErrorJson>().error;
  expect(err.code).toBe(code);
  expect(err.hint).toBeTruthy();
  expect(res.stderr).toContain(`error [${code}]`);
  expect(res.stderr).toContain(`hint: ${err.hint ?? ''}`);
  return err;
}

async function indexedWorkspace(): Promise<Workspace> {
  const ws = workspace();
  await writeImage(path.join(ws.roots[0] as string, 'a.png'), { seed: 1 });
  await writeImage(path.join(ws.roots[0] as string, 'b.jpg'), { seed: 2 });
  await rebuild(ws);
  return ws;
}

describe('settings with errors', { timeout: CLI_TIMEOUT }, () => {
  it('lists every problem at once with key paths and "did you mean", exit 2', async () => {
    const ws = workspace();
    fs.writeFileSync(
      ws.settingsFile,
      [
        'storage:',
        '  asset_paths: lib',
        '  serch_db: x.duckdb',
        'wach: {}',
        'pipeline:',
        '  hash_concurrency: -1',
        '',
      ].join('\n'),
    );
    const res = await runAlice(['index', 'update', '--json'], { env: ws.env });
    const err = expectAliceError(res, 'CONFIG_INVALID');
    expect(err.details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^storage\.asset_paths: /),
        'storage.serch_db: unknown key (did you mean "search_db"?)',
        'wach: unknown key (did you mean "watch"?)',
        expect.stringMatching(/^pipeline\.hash_concurrency: /),
      ]),
    );
    for (const d of err.details) expect(res.stderr).toContain(`  - ${d}`);
    expect(fs.existsSync(ws.searchDb)).toBe(false);
  });

  it('overlapping roots are refused, exit 2', async () => {
    const ws = workspace({ roots: ['lib', 'lib/nested'] });
    const res = await runAlice(['index', 'rebuild', '--json'], { env: ws.env });
    const err = expectAliceError(res, 'CONFIG_INVALID');
    expect(err.details.join('\n')).toMatch(/overlaps/);
    expect(fs.existsSync(ws.searchDb)).toBe(false);
  });
});

describe('an index locked by another process', { timeout: CLI_TIMEOUT }, () => {
  let holder: ChildProcess | undefined;
  afterEach(() => {
    holder?.kill('SIGKILL');
    holder = undefined;
  });

  /** A separate node process that opens the index with @duckdb/node-api and keeps it open. */
  async function holdIndex(dbFile: string): Promise<ChildProcess> {
    const duckdb = pathToFileURL(
      createRequire(path.join(REPO_ROOT, 'package.json')).resolve('@duckdb/node-api'),
    );
    const script = [
      `const { DuckDBInstance } = await import(${JSON.stringify(duckdb.href)});`,
      `const db = await DuckDBInstance.create(${JSON.stringify(dbFile)});`,
      `const conn = await db.connect();`,
      `await conn.run('SELECT 1');`,
      `process.stdout.write('ready\\n');`,
      `setInterval(() => {}, 1000);`,
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`index holder exited early (${code})`)));
    });
    return child;
  }

  it('update, verify and rebuild stop with INDEX_LOCKED and a hint, never a raw DuckDB message', async () => {
    const ws = await indexedWorkspace();
    const ino = fs.statSync(ws.searchDb).ino;
    holder = await holdIndex(ws.searchDb);
    for (const cmd of [
      ['index', 'update'],
      ['index', 'verify'],
      ['index', 'rebuild'],
    ]) {
      const res = await runAlice([...cmd, '--json'], { env: ws.env });
      const err = expectAliceError(res, 'INDEX_LOCKED');
      expect(`${err.message} ${res.stderr}`).not.toMatch(RAW_DUCKDB);
    }
    // Rebuild did not swap a new file in under the process holding the old one.
    expect(fs.statSync(ws.searchDb).ino).toBe(ino);
    expect(fs.existsSync(`${ws.searchDb}.rebuilding`)).toBe(false);
  });
});

describe('a corrupt index file', { timeout: CLI_TIMEOUT }, () => {
  it('garbage: INDEX_CORRUPT with a hint to rebuild; then `index rebuild` succeeds', async () => {
    const ws = await indexedWorkspace();
    const good = await readIndex(ws.searchDb);
    fs.writeFileSync(ws.searchDb, Buffer.alloc(64 * 1024, 'not a database '));
    const err = expectAliceError(
      await runAlice(['index', 'update', '--json'], { env: ws.env }),
      'INDEX_CORRUPT',
    );
    expect(err.hint).toMatch(/alice index rebuild/);

    const res = await runAlice(['index', 'rebuild', '--json'], { env: ws.env });
    expect(res.code, res.stderr).toBe(0);
    expect(res.json<{ summary: ScanSummary }>().summary).toMatchObject({ assets: 2, errors: [] });
    expect(await readIndex(ws.searchDb)).toEqual(good);
  });

  it('damaged data blocks behind a valid header: INDEX_CORRUPT too, not a raw error', async () => {
    const ws = await indexedWorkspace();
    const bytes = fs.readFileSync(ws.searchDb);
    for (let i = Math.floor(bytes.length / 2); i < bytes.length; i++) bytes[i] = (bytes[i] ?? 0) ^ 0x5a;
    fs.writeFileSync(ws.searchDb, bytes);
    const err = expectAliceError(
      await runAlice(['index', 'update', '--json'], { env: ws.env }),
      'INDEX_CORRUPT',
    );
    expect(err.hint).toMatch(/alice index rebuild/);
  });
});

describe('a file alice may not read', { timeout: CLI_TIMEOUT }, () => {
  // chmod 000 does not stop root, so as root the binary runs as `nobody` (uid 65534); otherwise it
  // runs as the current user. Either way the file really is unreadable to alice.
  it('is a per-file "permission denied" error; the other files are indexed', async () => {
    const ws = workspace();
    const root = ws.roots[0] as string;
    const ok = path.join(root, 'ok.png');
    const locked = path.join(root, 'locked.png');
    await writeImage(ok, { seed: 3 });
    await writeImage(locked, { seed: 4 });
    fs.chmodSync(locked, 0o000);
    const as = isRoot() ? { uid: 65534, gid: 65534 } : {};
    if (isRoot()) {
      fs.chmodSync(ws.dir, 0o755);
      for (const p of [ws.home, root, ok, ws.settingsFile]) fs.chownSync(p, 65534, 65534);
      fs.chownSync(ws.dir, 65534, 65534);
    }
    const res = await runAlice(['index', 'rebuild', '--json'], { env: ws.env, ...as });
    expect(res.code, res.stderr).toBe(0);
    const s = res.json<{ summary: ScanSummary }>().summary;
    expect(s.errors).toEqual([
      expect.objectContaining({
        path: locked,
        code: 'EACCES',
        message: expect.stringMatching(/permission denied/),
      }),
    ]);
    expect(s.assets).toBe(1);
    const idx = await readIndex(ws.searchDb);
    expect(Object.keys(idx.assets)).toEqual([sha256Of(ok)]);
  });
});
