/**
 * Issue 17, for scripts: `alice events tail -n N`, `alice completion bash|zsh|fish`, and `--json`
 * listed in every command's `--help`. Runs the built binary.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ALICE_BIN, runAlice } from '../helpers/cli.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

let ws: Workspace;

beforeAll(async () => {
  ws = makeWorkspace({ roots: ['lib'] });
  const lib = ws.roots[0] ?? '';
  for (let i = 0; i < 3; i++) await writeImage(path.join(lib, `img-${i}.png`), { seed: i + 1 });
  const r = await runAlice(['index', 'rebuild'], { env: ws.env, cwd: ws.dir, timeoutMs: 170_000 });
  if (r.code !== 0) throw new Error(`index rebuild: ${r.stderr}`);
});

afterAll(() => ws.cleanup());

const alice = (...args: string[]) => runAlice(args, { env: ws.env, cwd: ws.dir });

describe('alice events tail -n', () => {
  it('prints only the last N events, the same ones as the end of the full log', async () => {
    const all = (await alice('events', 'tail', '--json')).stdout.split('\n').filter((l) => l !== '');
    expect(all.length).toBeGreaterThan(2);
    const last2 = (await alice('events', 'tail', '-n', '2', '--json')).stdout
      .split('\n')
      .filter((l) => l !== '');
    expect(last2).toEqual(all.slice(-2));
    const none = await alice('events', 'tail', '-n', '0', '--json');
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect((await alice('events', 'tail', '-n', 'many')).code).toBe(2);
  });
});

describe('alice completion', () => {
  it('bash: completes commands, subcommands and options', async () => {
    const r = await alice('completion', 'bash');
    expect(r.code).toBe(0);
    const file = path.join(ws.dir, 'alice.bash');
    fs.writeFileSync(file, r.stdout);
    const complete = (words: string[]): string[] => {
      const script = `source "${file}"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _alice; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const out = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      return out.stdout.split('\n').filter((l) => l !== '');
    };
    expect(complete(['alice', 'sea'])).toEqual(['search']);
    expect(complete(['alice', 'index', 'reb'])).toEqual(['rebuild']);
    expect(complete(['alice', 'search', '--tag', 'x', '--pa'])).toEqual(['--path', '--paths']);
    expect(complete(['alice', 'events', 'tail', '--fo'])).toEqual(['--follow']);
    expect(complete(['alice', 'completion', ''])).toEqual(expect.arrayContaining(['--help']));
  });

  it('zsh and fish scripts name every command; an unknown shell is exit 2', async () => {
    const zsh = await alice('completion', 'zsh');
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toContain('bashcompinit');
    const fish = await alice('completion', 'fish');
    expect(fish.code).toBe(0);
    for (const cmd of ['search', 'similar', 'dupes', 'index', 'events', 'completion']) {
      expect(fish.stdout).toContain(`-a '${cmd}'`);
    }
    expect(fish.stdout).toMatch(/__fish_seen_subcommand_from search' -l paths/);
    expect((await alice('completion', 'tcsh')).code).toBe(2);
  });
});

describe('--help', () => {
  it('lists --json for every command and subcommand', () => {
    const out = spawnSync(process.execPath, [ALICE_BIN, 'completion', 'bash'], { encoding: 'utf8' });
    const commands = [...out.stdout.matchAll(/^ {4}"([a-z -]+)"\)/gm)].map((m) => m[1] ?? '');
    expect(commands).toEqual(expect.arrayContaining(['search', 'dupes', 'index rebuild', 'events tail']));
    for (const cmd of commands) {
      const help = spawnSync(process.execPath, [ALICE_BIN, ...cmd.split(' '), '--help'], {
        encoding: 'utf8',
        env: { ...process.env, ...ws.env },
      });
      expect(help.stdout, cmd).toContain('--json');
    }
  }, 600_000); // a node start per command: minutes on a loaded machine
});
