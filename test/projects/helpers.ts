/** A workspace with one asset root (`lib`) and one project root (`projects`), and a CLI runner for it. */
import fs from 'node:fs';
import path from 'node:path';
import { runAlice, type CliResult } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/fixtures.js';

export interface ProjectWorkspace extends Workspace {
  readonly lib: string;
  readonly projects: string;
  /** Runs `alice <args>` with this workspace's settings, in its folder. */
  alice(...args: string[]): Promise<CliResult>;
  /** Like `alice(...args, '--json')`, failing the test with the output when the exit code differs. */
  json<T>(args: string[], expectCode?: number): Promise<T>;
}

export function makeProjectWorkspace(): ProjectWorkspace {
  const ws = makeWorkspace({ roots: ['lib'], settings: { storage: { project_paths: ['projects'] } } });
  const projects = path.join(ws.dir, 'projects');
  fs.mkdirSync(projects);
  const alice = (...args: string[]): Promise<CliResult> => runAlice(args, { cwd: ws.dir, env: ws.env });
  return {
    ...ws,
    lib: path.join(ws.dir, 'lib'),
    projects,
    alice,
    async json<T>(args: string[], expectCode = 0): Promise<T> {
      const r = await alice('--json', ...args);
      if (r.code !== expectCode) {
        throw new Error(
          `alice ${args.join(' ')} exited ${r.code}, expected ${expectCode}\n${r.stdout}\n${r.stderr}`,
        );
      }
      return r.json<T>();
    },
  };
}

/** The `{ error }` object printed with --json on failure. */
export interface JsonError {
  error: { code: string; message: string; details: string[]; hint: string | null };
}
