/**
 * Issue 17, honest errors, through the built `alice` binary: input that can never match is an
 * error with a hint (exit 2), never "no matches"; `--path DIR` is that folder and everything under
 * it; a missing index names `alice index rebuild`; a closed pipe ends a command quietly; MCP tools
 * reject unknown arguments.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SearchResponse } from '../../src/index.js';
import { ALICE_BIN, runAlice } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/fixtures.js';
import { buildIndex, LIBRARY, type BuiltIndex } from './fixtures.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let ws: Workspace;
let index: BuiltIndex;
let lib: string;

beforeAll(async () => {
  ws = makeWorkspace({ roots: ['lib'], settings: { storage: { project_paths: ['projects'] } } });
  const projects = path.join(ws.dir, 'projects');
  fs.mkdirSync(projects);
  lib = ws.roots[0] ?? '';
  index = await buildIndex(ws.searchDb, { lib, projects }, LIBRARY);
  index.db.close();
});

afterAll(() => ws.cleanup());

const alice = (args: string[], cwd = ws.dir) => runAlice(args, { env: ws.env, cwd });
const keys = (res: SearchResponse): string[] => res.results.map((r) => index.keyOf(r.content_hash)).sort();

interface ErrorJson {
  error: { code: string; message: string; hint: string | null };
}

describe('values that can never match are errors with a hint', () => {
  it('--format banana lists the known formats (exit 2)', async () => {
    const r = await alice(['search', '--format', 'banana', '--json']);
    expect(r.code).toBe(2);
    const e = r.json<ErrorJson>().error;
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('banana');
    expect(e.hint).toMatch(/known formats: .*jpeg.*png.*webp/);
    // A real format still works, aliases included.
    expect(keys((await alice(['search', '--format', 'JPG', '--json'])).json<SearchResponse>())).toEqual([
      'city',
      'forest-small',
    ]);
  });

  it('--seed without --sort random points to --gen-seed (exit 2)', async () => {
    const r = await alice(['search', '--seed', '42']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--gen-seed');
    expect((await alice(['search', '--seed', '42', '--sort', 'random', '--json'])).code).toBe(0);
  });
});

describe('text with no word in it', () => {
  it('search words or a prompt of only symbols or emoji are an error, not the whole library (exit 2)', async () => {
    for (const args of [['🐱'], ['%'], ['--prompt', '!!!'], ['--prompt', '"" ?']]) {
      const r = await alice(['search', ...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      const e = r.json<ErrorJson>().error;
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toContain('no word to search for');
    }
    expect((await alice(['search', '🐱', '--json'])).json<ErrorJson>().error.hint).toContain('--path');
    // Blank text is no filter; a word beside a symbol still searches.
    const all = await alice(['search', '', '--json']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.json<SearchResponse>().total).toBe(LIBRARY.filter((a) => a.missing !== true).length);
    const cyber = await alice(['search', 'cyberpunk', '🐱', '--json']);
    expect(cyber.code).toBe(0);
    expect(keys(cyber.json<SearchResponse>())).toContain('portrait');
  });
});

describe('<file|hash> references', () => {
  it('a hash prefix no asset has says so, and the hint names prefixes (exit 2)', async () => {
    const r = await alice(['show', 'deadbeefdeadbeef', '--json']);
    expect(r.code).toBe(2);
    const e = r.json<ErrorJson>().error;
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain("no asset's content hash starts with deadbeefdeadbeef");
    expect(e.hint).toContain('unique prefix of at least 8 hex digits');
    const prefix = index.hashOf('portrait').slice(0, 10);
    const ok = await alice(['show', prefix, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const file = await alice(['show', 'no-such-file.png', '--json']);
    expect(file.json<ErrorJson>().error.message).toContain('no such file, and not a content hash');
  });
});

describe('--path', () => {
  it('a folder means that folder and everything under it, relative to the working directory', async () => {
    const byRel = (await alice(['search', '--path', 'cyber', '--json'], lib)).json<SearchResponse>();
    expect(keys(byRel)).toEqual(['city', 'portrait']);
    const byAbs = (await alice(['search', '--path', `${lib}/`, '--json'])).json<SearchResponse>();
    expect(byAbs.total).toBe(LIBRARY.filter((a) => a.project !== true && a.missing !== true).length);
    // Globs keep their meaning.
    expect(keys((await alice(['search', '--path', '*.webp', '--json'])).json<SearchResponse>())).toEqual([
      'forest',
    ]);
  });

  it('a glob starting with ./ or ../ is relative to the working directory', async () => {
    const cyber = path.join(lib, 'cyber');
    expect(keys((await alice(['search', '--path', './*', '--json'], cyber)).json<SearchResponse>())).toEqual([
      'city',
      'portrait',
    ]);
    const up = await alice(['search', '--path', '../cyber/p*', '--json'], path.join(lib, 'copies'));
    expect(keys(up.json<SearchResponse>())).toEqual(['portrait']);
    expect(
      (await alice(['search', '--path', './*.png', '--json'], ws.dir)).json<SearchResponse>().total,
    ).toBe(0);
  });

  it('a folder that does not exist is an error with a hint (exit 2)', async () => {
    const r = await alice(['search', '--path', 'no-such-folder', '--json'], lib);
    expect(r.code).toBe(2);
    const e = r.json<ErrorJson>().error;
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain(path.join(lib, 'no-such-folder'));
    expect(e.hint).toContain('glob');
  });
});

/** Runs a bash pipeline with pipefail, so its status is alice's when alice fails. */
function pipeline(cmd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const sh = spawn('bash', ['-o', 'pipefail', '-c', cmd], {
      cwd: ws.dir,
      env: { ...process.env, ...ws.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    sh.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    sh.stdout.resume();
    sh.on('error', reject);
    sh.on('close', (code) => resolve({ code, stderr: err }));
  });
}

describe('a closed pipe', () => {
  const bin = `"${process.execPath}" "${ALICE_BIN}"`;

  it('`alice dupes --json | head -1` exits 0 without a stack trace', async () => {
    const r = await pipeline(`${bin} dupes --near --json | head -1`);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('a reader gone before alice writes (EPIPE for sure): every command still exits 0, silently', async () => {
    // `true` exits at once, long before node has started: alice's first write hits a closed pipe.
    for (const cmd of ['dupes --json', 'search', 'search --json', '--help']) {
      const r = await pipeline(`${bin} ${cmd} | true`);
      expect(r.code, cmd).toBe(0);
      expect(r.stderr, cmd).toBe('');
    }
  });
});

describe('MCP', () => {
  it('a tool call with an unknown argument is an error naming the arguments it takes', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [ALICE_BIN, 'mcp'],
      env: { ...ws.env, NO_COLOR: '1', PATH: process.env['PATH'] ?? '' },
      cwd: ws.dir,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'alice-honest-errors', version: '1.0.0' });
    await client.connect(transport);
    try {
      const bad = (await client.callTool({
        name: 'search_images',
        arguments: { tag: 'cyberpunk' },
      })) as CallToolResult;
      expect(bad.isError).toBe(true);
      const text = bad.content[0]?.type === 'text' ? bad.content[0].text : '';
      expect(text).toContain('"tag"');
      expect(text).toMatch(/hint: search_images takes .*tags/);
      const good = (await client.callTool({
        name: 'search_images',
        arguments: { tags: ['cyberpunk'] },
      })) as CallToolResult;
      expect(good.isError).not.toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('a missing index', () => {
  it('search and dupes fail with exit 2 and name `alice index rebuild`', async () => {
    fs.rmSync(ws.searchDb);
    for (const cmd of [['search'], ['search', 'cyberpunk'], ['dupes']]) {
      const r = await alice([...cmd]);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stderr).toContain('INDEX_MISSING');
      expect(r.stderr).toContain('alice index rebuild');
      expect(r.stdout).not.toMatch(/no matches|0 groups/);
    }
  });
});
