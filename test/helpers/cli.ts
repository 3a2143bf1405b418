/**
 * Runs the built alice binary (`dist/cli/main.js`) in a child process, as a user would. Build first
 * (`npm run build`; `npm test` does it). The parent's ALICE_* variables are never inherited, so a
 * test only sees the home and settings it passes in `env`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository (the folder holding package.json). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built command-line entry point. */
export const ALICE_BIN = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  /** Exit code; -1 when the process was killed by a signal. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON; throws with the raw output when it is not JSON. */
  json<T = unknown>(): T;
}

export interface RunOptions {
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Extra environment; a value of `undefined` removes the variable. */
  env?: Record<string, string | undefined>;
  /** Kills the child after this many milliseconds (default 60 s). */
  timeoutMs?: number;
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Run as this user/group (only possible when the tests run as root). */
  uid?: number;
  gid?: number;
}

/** Throws a clear error when the binary has not been built. */
export function assertBuilt(): void {
  if (!fs.existsSync(ALICE_BIN)) {
    throw new Error(`${ALICE_BIN} does not exist: run \`npm run build\` before the e2e tests`);
  }
}

function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ALICE_') && k !== 'USE_REDIS_EVENTS' && k !== 'REDIS_URL') env[k] = v;
  }
  env['NO_COLOR'] = '1';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `alice <args>` and resolves when the process exits (never rejects on a non-zero exit). */
export function runAlice(args: readonly string[], opts: RunOptions = {}): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ALICE_BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: childEnv(opts.env ?? {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
      ...(opts.gid === undefined ? {} : { gid: opts.gid }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        json<T>(): T {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(
              `alice ${args.join(' ')} did not print JSON.\nstdout: ${stdout}\nstderr: ${stderr}`,
            );
          }
        },
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}
