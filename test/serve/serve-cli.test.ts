/**
 * `alice serve` as a user runs it (the built binary): it prints where it listens, answers the page
 * and the API without an agent, stops cleanly on SIGTERM, and refuses bad flags and a host beyond
 * loopback without a token, with hints.
 */
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE_BIN, REPO_ROOT, assertBuilt, runAlice } from '../helpers/cli.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';
import { rebuild } from '../helpers/library.js';
import { request } from './helpers.js';

let ws: Workspace;
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

describe('alice serve', () => {
  it('listens on loopback, answers without an agent, stops on SIGTERM', async () => {
    assertBuilt();
    await writeImage(`${ws.roots[0]}/a.png`, { seed: 1 });
    await rebuild(ws);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ALICE_')) env[k] = v;
    const child = spawn(process.execPath, [ALICE_BIN, '--json', 'serve', '--port', '0'], {
      cwd: REPO_ROOT,
      env: { ...env, ...ws.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString('utf8');
          if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
        });
        child.once('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      const { url, port } = JSON.parse(first) as { url: string; port: number };
      expect(url).toBe(`http://127.0.0.1:${port}/`);
      expect((await request(port, '/')).status).toBe(200);
      const search = await request(port, '/api/search');
      expect(search.status).toBe(200);
      expect((search.json() as { total: number }).total).toBe(1);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);

  it('refuses a bad port and a host beyond loopback without a token, with hints', async () => {
    const bad = await runAlice(['serve', '--port', 'eighty'], { env: ws.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port: not a port number/);
    const open = await runAlice(['serve', '--host', '0.0.0.0', '--port', '0'], {
      env: { ...ws.env, ALICE_SERVE_TOKEN: undefined },
    });
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/ALICE_SERVE_TOKEN/);
    const help = await runAlice(['serve', '--help']);
    expect(help.stdout).toMatch(/--port <n>[\s\S]*--host <address>[\s\S]*--open/);
  }, 60_000);
});
