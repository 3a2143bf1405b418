/** Helpers for the tagging tests: an exiftool process of its own, and plain index queries. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { openDb, type SqlParam } from '../../src/adapters/duckdb.adapter.js';
import { runAlice, type CliResult } from '../helpers/cli.js';
import { sha256sum, type Workspace } from '../helpers/fixtures.js';

const run = promisify(execFile);

/** Debian's perl exiftool when installed, else the vendored script: never alice's process pool. */
const OUTSIDE_EXIFTOOL = fs.existsSync('/usr/bin/exiftool')
  ? '/usr/bin/exiftool'
  : new URL('../../node_modules/exiftool-vendored.pl/bin/exiftool', import.meta.url).pathname;

/** Reads tags as another program would: `exiftool -j -G1 [-n]`. */
export async function outsideRead(file: string, ...tags: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(OUTSIDE_EXIFTOOL, ['-j', '-G1', '-n', ...tags, file]);
  return (JSON.parse(stdout) as Record<string, unknown>[])[0] ?? {};
}

/** {@link outsideRead} for several files in one exiftool run, keyed by path. */
export async function outsideReadMany(
  files: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const { stdout } = await run(OUTSIDE_EXIFTOOL, ['-j', '-G1', '-n', ...files]);
  const out = new Map<string, Record<string, unknown>>();
  for (const r of JSON.parse(stdout) as Record<string, unknown>[]) out.set(String(r['SourceFile']), r);
  return out;
}

/** Writes tags as another program would (the arguments are constants of the tests). */
export async function outsideWrite(file: string, ...args: string[]): Promise<void> {
  await run(OUTSIDE_EXIFTOOL, ['-q', '-overwrite_original', ...args, file]);
}

/** An exiftool value as a list of strings (exiftool prints one value as a scalar). */
export function asList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * Each CLI run starts node, DuckDB and exiftool: about a second on an idle machine, but far more
 * on a shared, loaded one. Tests and hooks that run the CLI use {@link SLOW}.
 */
export const CLI_TIMEOUT_MS = 120_000;
/** Timeout for a test or hook that runs the CLI several times. */
export const SLOW = 300_000;

/** Runs alice in the workspace with `--json` and fails with its output when the exit code differs. */
export async function aliceJson<T>(ws: Workspace, args: string[], expectCode = 0): Promise<T> {
  const r: CliResult = await runAlice(['--json', '--no-progress', ...args], {
    env: ws.env,
    cwd: ws.dir,
    timeoutMs: CLI_TIMEOUT_MS,
  });
  if (r.code !== expectCode)
    throw new Error(`alice ${args.join(' ')} exited ${r.code}, not ${expectCode}\n${r.stdout}\n${r.stderr}`);
  return r.json<T>();
}

/** Rows of a query on the workspace's index, opened read-only (no alice process may be running). */
export async function queryIndex(
  ws: Workspace,
  sql: string,
  params: SqlParam[] = [],
): Promise<Record<string, unknown>[]> {
  const db = await openDb(ws.searchDb, { readOnly: true });
  try {
    return await db.all(sql, params);
  } finally {
    db.close();
  }
}

/** What must not change when nothing is rewritten: bytes (coreutils sha256sum), mtime, inode. */
export function fileState(file: string): { hash: string; mtimeMs: number; ino: number } {
  const st = fs.statSync(file);
  return { hash: sha256sum(file), mtimeMs: st.mtimeMs, ino: st.ino };
}
