/**
 * Issue 9 end to end: `alice mcp` (the built `dist/cli/main.js`) as a child process with its own
 * ALICE_HOME and settings file, driven by the MCP SDK's own Client over stdio, on a library indexed
 * in the test (scenes made with sharp, a re-encoded near duplicate, tags added with `alice tag add`
 * and with the `tag_asset` tool).
 * First without an agent (each call opens and closes the index itself), then with `alice watch`
 * running (calls go through its control socket). The tests of each describe build on each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAgent, type AgentProcess, FAST_AGENT_SETTINGS } from '../helpers/agent.js';
import { ALICE_BIN, assertBuilt, runAlice } from '../helpers/cli.js';
import { makeWorkspace, sha256Of, type Workspace } from '../helpers/fixtures.js';
import { makeImage } from '../search/fixtures.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 90_000 });

let ws: Workspace;
let lib: string;
const file: Record<string, string> = {};
const hash: Record<string, string> = {};

interface Session {
  client: Client;
  stderr: () => string;
  protocolErrors: Error[];
}

/** Starts `alice mcp` and connects the SDK client to it. */
async function connect(): Promise<Session> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [ALICE_BIN, 'mcp'],
    env: { ...ws.env, NO_COLOR: '1' },
    cwd: ws.dir,
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const client = new Client({ name: 'alice-e2e', version: '1.0.0' });
  const protocolErrors: Error[] = [];
  // Anything but protocol messages on the server's stdout shows up here.
  client.onerror = (e) => protocolErrors.push(e);
  await client.connect(transport);
  return { client, stderr: () => err, protocolErrors };
}

async function call(s: Session, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await s.client.callTool({ name, arguments: args })) as CallToolResult;
}

function textOf(res: CallToolResult): string {
  const first = res.content[0];
  return first?.type === 'text' ? first.text : '';
}

async function data<T>(s: Session, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const res = await call(s, name, args);
  if (res.isError === true) throw new Error(`${name} failed: ${textOf(res)}\nstderr: ${s.stderr()}`);
  return JSON.parse(textOf(res)) as T;
}

interface SearchData {
  total: number;
  results: { content_hash: string; path: string; tags: Record<string, string[]>; prompt: string | null }[];
}

const hashes = (d: { results: { content_hash: string }[] }): string[] =>
  d.results.map((r) => r.content_hash).sort();

async function alice(args: string[]): Promise<void> {
  const res = await runAlice([...args, '--json'], { env: ws.env });
  if (res.code !== 0) throw new Error(`alice ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
}

beforeAll(async () => {
  assertBuilt();
  ws = makeWorkspace({
    settings: { mcp: { max_results: 10, thumbnails: 2, thumbnail_px: 48 }, ...FAST_AGENT_SETTINGS },
  });
  lib = ws.roots[0] as string;
  const images = [
    ['neon.png', { seed: 1, format: 'png' }],
    ['neon-copy.jpg', { seed: 1, format: 'jpeg', quality: 70 }],
    ['alley.png', { seed: 2, format: 'png' }],
    ['forest.png', { seed: 3, format: 'png' }],
    ['city.webp', { seed: 4, format: 'webp' }],
  ] as const;
  for (const [name, spec] of images) {
    file[name] = path.join(lib, name);
    fs.writeFileSync(file[name], await makeImage({ ...spec, width: 64, height: 64 }));
    hash[name] = sha256Of(file[name]);
  }
  await alice(['index', 'update']);
  await alice([
    'tag',
    'add',
    file['neon.png'] ?? '',
    file['alley.png'] ?? '',
    '-t',
    'style:cyberpunk',
    '-t',
    'portrait',
  ]);
});

afterAll(() => ws.cleanup());

describe('alice mcp over stdio, no agent running', () => {
  let s: Session;
  beforeAll(async () => (s = await connect()));
  afterAll(async () => {
    await s.client.close();
    expect(s.protocolErrors).toEqual([]);
  });

  it('lists the tools, each with an input schema', async () => {
    const { tools } = await s.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'find_similar',
      'get_asset',
      'index_status',
      'list_projects',
      'search_images',
      'select_for_project',
      'tag_asset',
    ]);
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.description?.length).toBeGreaterThan(20);
    }
  });

  it('tag_asset adds a tag, embedded into the file', async () => {
    const res = await data<{ content_hash: string; tags: string[] }>(s, 'tag_asset', {
      path: file['forest.png'],
      add: ['landscape'],
    });
    expect(res).toMatchObject({
      content_hash: hash['forest.png'],
      tags: expect.arrayContaining(['keywords:landscape']),
    });
    expect(sha256Of(file['forest.png'] ?? '')).not.toBe(hash['forest.png']);
  });

  it('search_images with tags gives the right assets and total', async () => {
    const cyber = await data<SearchData>(s, 'search_images', { tags: ['style:cyberpunk'] });
    expect(cyber.total).toBe(2);
    expect(hashes(cyber)).toEqual([hash['alley.png'], hash['neon.png']].sort());
    expect(cyber.results[0]).toHaveProperty('prompt');
    expect(cyber.results[0]?.tags['style']).toEqual(['cyberpunk']);
    const both = await data<SearchData>(s, 'search_images', { tags: ['cyberpunk', 'portrait'] });
    expect(hashes(both)).toEqual(hashes(cyber));
    const landscape = await data<SearchData>(s, 'search_images', { tags: ['landscape'] });
    expect(landscape).toMatchObject({
      total: 1,
      results: [{ content_hash: hash['forest.png'], path: file['forest.png'] }],
    });
    const excluded = await data<SearchData>(s, 'search_images', { exclude_tags: ['cyberpunk', 'landscape'] });
    expect(hashes(excluded)).toEqual([hash['city.webp'], hash['neon-copy.jpg']].sort());
  });

  it('find_similar finds the re-encoded copy, by content hash and by path', async () => {
    type Similar = { results: { content_hash: string; distance: number }[] };
    const byHash = await data<Similar>(s, 'find_similar', { content_hash: hash['neon.png'] });
    expect(byHash.results[0]?.content_hash).toBe(hash['neon-copy.jpg']);
    expect(byHash.results[0]?.distance).toBeLessThanOrEqual(10);
    expect(byHash.results.map((r) => r.content_hash)).not.toContain(hash['forest.png']);
    const byPath = await data<Similar>(s, 'find_similar', { path: file['neon-copy.jpg'] });
    expect(byPath.results[0]?.content_hash).toBe(hash['neon.png']);
  });

  it('a path outside the configured roots is a clear tool error, and the server keeps serving', async () => {
    const outside = path.join(ws.dir, 'elsewhere', 'neon.png');
    fs.mkdirSync(path.dirname(outside));
    fs.copyFileSync(file['neon.png'] ?? '', outside);
    const res = await call(s, 'find_similar', { path: outside });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toContain('OUTSIDE_ROOTS');
    expect(textOf(res)).toContain(`outside the configured roots: ${outside}`);
    const asset = await call(s, 'get_asset', { path: '/etc/hostname' });
    expect(asset.isError).toBe(true);
    expect(textOf(asset)).toMatch(/outside the configured roots/);
    expect((await data<SearchData>(s, 'search_images', {})).total).toBe(5);
  });

  it('get_asset gives the sidecar and locations', async () => {
    const rec = await data<{
      content_hash: string;
      locations: { path: string; present: boolean }[];
      sidecar: unknown;
    }>(s, 'get_asset', { path: file['forest.png'] });
    expect(rec.content_hash).toBe(hash['forest.png']);
    expect(rec.locations).toEqual([expect.objectContaining({ path: file['forest.png'], present: true })]);
    expect(rec.sidecar).toMatchObject({ content_hash: hash['forest.png'] });
  });

  it('search with thumbnails returns bounded JPEG image content', async () => {
    const res = await call(s, 'search_images', { tags: ['portrait'], thumbnails: true });
    const images = res.content.filter((c) => c.type === 'image');
    expect(images).toHaveLength(2);
    for (const img of images) {
      if (img.type !== 'image') continue;
      expect(img.mimeType).toBe('image/jpeg');
      const meta = await sharp(Buffer.from(img.data, 'base64')).metadata();
      expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(48);
    }
  });

  it('index_status reports counts and that no agent runs', async () => {
    const st = await data<{ index: Record<string, unknown>; agent: Record<string, unknown> }>(
      s,
      'index_status',
    );
    expect(st.index).toMatchObject({ exists: true, assets: 5, present: 5, missing: 0, read_via: 'local' });
    expect(st.agent).toMatchObject({ running: false });
  });

  it('does not hold the index between calls: another process can write it meanwhile', async () => {
    await alice(['index', 'update']);
    expect((await data<SearchData>(s, 'search_images', { limit: 0 })).total).toBe(5);
  });
});

describe('alice mcp with the agent running', () => {
  let s: Session;
  let agent: AgentProcess;
  beforeAll(async () => {
    agent = await startAgent(ws);
    s = await connect();
  });
  afterAll(async () => {
    await s.client.close();
    await agent.stop();
    expect(s.protocolErrors).toEqual([]);
  });

  it('goes through the agent: same search results, and index_status reads via the agent', async () => {
    const cyber = await data<SearchData>(s, 'search_images', { tags: ['style:cyberpunk'] });
    expect(hashes(cyber)).toEqual([hash['alley.png'], hash['neon.png']].sort());
    const st = await data<{ index: Record<string, unknown>; agent: Record<string, unknown> }>(
      s,
      'index_status',
    );
    expect(st.index).toMatchObject({ assets: 5, read_via: 'agent' });
    expect(st.agent).toMatchObject({ running: true, pid: agent.pid });
    expect(st.agent['heartbeat_age_s']).toEqual(expect.any(Number));
  });

  it('the agent confines paths too', async () => {
    const res = await call(s, 'get_asset', { path: path.join(ws.dir, 'elsewhere', 'neon.png') });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/outside the configured roots/);
  });
});
