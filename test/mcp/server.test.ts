/**
 * The MCP server in-process, over the SDK's in-memory transport with the SDK's own Client, wired
 * exactly as `alice mcp` wires it (each tool call runs its operation with a container of its own,
 * as a remote caller) on a real library: images made with sharp, indexed with the real analyser,
 * tags embedded with the real exiftool, a project folder. `mcp.max_results` is 2 and
 * `mcp.thumbnails` 1 here, so the caps show. The tests build on each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mcpEnv, mcpInvoker } from '../../src/app/mcp-host.js';
import type { Config } from '../../src/config/config.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { configOf } from '../helpers/library.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

let ws: Workspace;
let lib: string;
let config: Config;
let client: Client;
let invoker: ReturnType<typeof mcpInvoker>;
const hash: Record<string, string> = {};

async function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The JSON of a successful call (fails the test with the error text otherwise). */
async function data<T = Record<string, unknown>>(
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const res = await call(name, args);
  const first = res.content[0];
  if (first?.type !== 'text') throw new Error(`${name}: no text content`);
  if (res.isError === true) throw new Error(`${name} failed: ${first.text}`);
  return JSON.parse(first.text) as T;
}

async function errorOf(name: string, args: Record<string, unknown>): Promise<string> {
  const res = await call(name, args);
  expect(res.isError).toBe(true);
  const first = res.content[0];
  return first?.type === 'text' ? first.text : '';
}

interface SearchData {
  total: number;
  limit: number;
  next_offset: number | null;
  results: { content_hash: string; path: string; tags: Record<string, string[]> }[];
}

beforeAll(async () => {
  ws = makeWorkspace({
    settings: {
      storage: { project_paths: ['projects'] },
      mcp: { max_results: 2, thumbnails: 1, thumbnail_px: 32 },
    },
  });
  lib = ws.roots[0] as string;
  fs.mkdirSync(path.join(ws.dir, 'projects'));
  for (const [name, seed] of [
    ['a.png', 1],
    ['b.jpg', 2],
    ['c.webp', 3],
  ] as const) {
    await writeImage(path.join(lib, name), { seed, size: 64 });
    hash[name] = sha256Of(path.join(lib, name));
  }
  config = configOf(ws);
  invoker = mcpInvoker(config);
  await invoker.invoke('index.update', {});
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(mcpEnv(config, invoker.invoke, false)).connect(serverSide);
  client = new Client({ name: 'alice-test', version: '1.0.0' });
  await client.connect(clientSide);
});

afterAll(async () => {
  await client.close();
  await invoker.drain();
  ws.cleanup();
});

describe('alice MCP tools (in-process)', () => {
  it('lists every tool with an object input schema and honest read-only hints', async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual([
      'find_similar',
      'get_asset',
      'index_status',
      'list_projects',
      'search_images',
      'select_for_project',
      'tag_asset',
    ]);
    for (const t of tools) expect(t.inputSchema.type).toBe('object');
    expect(byName.get('search_images')?.annotations?.readOnlyHint).toBe(true);
    expect(byName.get('tag_asset')?.annotations?.readOnlyHint).toBe(false);
    expect(byName.get('search_images')?.inputSchema.properties).toHaveProperty('tags');
    expect(String(JSON.stringify(byName.get('search_images')?.inputSchema))).toContain('at most 2');
  });

  it('caps limits at mcp.max_results, reports the total and pages with next_offset', async () => {
    const first = await data<SearchData>('search_images', { limit: 50, sort: 'name' });
    expect(first.limit).toBe(2);
    expect(first.results).toHaveLength(2);
    expect(first.total).toBe(3);
    expect(first.next_offset).toBe(2);
    const second = await data<SearchData>('search_images', { offset: 2, sort: 'name' });
    expect(second.results.map((r) => r.content_hash)).toEqual([hash['c.webp']]);
    expect(second.next_offset).toBeNull();
    const count = await data<SearchData>('search_images', { limit: 0 });
    expect(count).toMatchObject({ total: 3, results: [] });
  });

  it('returns at most mcp.thumbnails thumbnails, as JPEG image content no larger than mcp.thumbnail_px', async () => {
    const res = await call('search_images', { thumbnails: true, sort: 'name' });
    const images = res.content.filter((c) => c.type === 'image');
    expect(images).toHaveLength(1);
    const img = images[0];
    if (img?.type !== 'image') throw new Error('no image');
    expect(img.mimeType).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(img.data, 'base64')).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(32);
    const label = res.content.find((c) => c.type === 'text' && c.text.startsWith('thumbnail 1:'));
    expect(label?.type === 'text' && label.text).toContain(hash['a.png']);
  });

  it('tag_asset adds tags (embedded into the file) and search_images finds the asset by them', async () => {
    const file = path.join(lib, 'b.jpg');
    const res = await data<{ content_hash: string; tags: string[] }>('tag_asset', {
      path: file,
      add: ['style:cyberpunk', 'portrait'],
    });
    expect(res.content_hash).toBe(hash['b.jpg']);
    expect(res.tags).toEqual(expect.arrayContaining(['style:cyberpunk']));
    expect(sha256Of(file)).not.toBe(hash['b.jpg']);
    const found = await data<SearchData>('search_images', { tags: ['cyberpunk', 'portrait'] });
    expect(found.total).toBe(1);
    expect(found.results[0]).toMatchObject({ content_hash: hash['b.jpg'], path: file });
    expect(found.results[0]?.tags['style']).toEqual(['cyberpunk']);
  });

  it('tag_asset removes tags by content hash', async () => {
    const res = await data<{ tags: string[] }>('tag_asset', {
      content_hash: hash['b.jpg'],
      remove: ['portrait'],
    });
    expect(res.tags.filter((t) => t.includes('portrait'))).toEqual([]);
    expect(res.tags).toContain('style:cyberpunk');
    expect((await data<SearchData>('search_images', { tags: ['portrait'] })).total).toBe(0);
    expect((await data<SearchData>('search_images', { tags: ['style:cyberpunk'] })).total).toBe(1);
  });

  it('get_asset by a hash prefix gives locations and the sidecar', async () => {
    const rec = await data<{ content_hash: string; locations: { path: string }[]; sidecar: unknown }>(
      'get_asset',
      { content_hash: hash['a.png']?.slice(0, 12) },
    );
    expect(rec.content_hash).toBe(hash['a.png']);
    expect(rec.locations.map((l) => l.path)).toEqual([path.join(lib, 'a.png')]);
    expect(rec.sidecar).toMatchObject({ content_hash: hash['a.png'] });
  });

  it('refuses paths outside the roots, relative paths and ambiguous references as tool errors', async () => {
    const outside = path.join(ws.dir, 'outside.png');
    await writeImage(outside, { seed: 9 });
    const extra: Record<string, Record<string, unknown>> = {
      get_asset: {},
      find_similar: {},
      tag_asset: { add: ['x'] },
      select_for_project: { project: 'p', reason: 'r' },
    };
    for (const [tool, more] of Object.entries(extra)) {
      expect(await errorOf(tool, { path: outside, ...more })).toMatch(
        /^error \[OUTSIDE_ROOTS\]: path is outside the configured roots/,
      );
    }
    expect(await errorOf('get_asset', { path: 'a.png' })).toMatch(/INVALID_INPUT.*absolute/);
    expect(
      await errorOf('get_asset', { path: path.join(lib, 'a.png'), content_hash: hash['a.png'] }),
    ).toMatch(/exactly one/);
    expect(await errorOf('get_asset', { content_hash: 'f'.repeat(64) })).toMatch(/^error \[NOT_FOUND\]/);
  });

  it('turns invalid arguments into tool errors and keeps serving', async () => {
    expect(await errorOf('search_images', { sort: 'sideways' })).toMatch(/sort/);
    expect(await errorOf('search_images', { since: 'not a date' })).toMatch(/^error \[INVALID_INPUT\]/);
    expect(await errorOf('tag_asset', { content_hash: hash['a.png'] })).toMatch(/nothing to do/);
    // Unknown arguments are refused, not dropped (which would answer as if they had not been given).
    expect(await errorOf('search_images', { tag: 'cyberpunk' })).toMatch(/unknown argument "tag".*tags/);
    expect((await data<SearchData>('search_images', {})).total).toBe(3);
  });

  it('find_similar answers by content hash with the query and distances', async () => {
    const res = await data<{ query: { content_hash: string; threshold: number }; results: unknown[] }>(
      'find_similar',
      { content_hash: hash['a.png'], threshold: 64, limit: 10 },
    );
    expect(res.query).toMatchObject({ content_hash: hash['a.png'], threshold: 64 });
    expect(res.results.length).toBeLessThanOrEqual(2);
  });

  it('lists projects and selects an asset for one with a reason', async () => {
    await invoker.invoke('project.create', { name: 'poster' });
    const list = await data<{ projects: { name: string; selections: number }[] }>('list_projects');
    expect(list.projects).toEqual([expect.objectContaining({ name: 'poster', selections: 0 })]);
    const sel = await data<{ selected: number }>('select_for_project', {
      project: 'poster',
      content_hash: hash['a.png'],
      reason: 'the hero image',
      role: 'hero',
    });
    expect(sel.selected).toBe(1);
    const after = await data<{ projects: { selections: number }[] }>('list_projects');
    expect(after.projects[0]?.selections).toBe(1);
    expect(
      await errorOf('select_for_project', { project: 'nope', content_hash: hash['a.png'], reason: 'x' }),
    ).toMatch(/^error \[PROJECT_NOT_FOUND\]/);
  });

  it('index_status gives index counts (read in-process) and says the agent is not running', async () => {
    const s = await data<{ index: Record<string, unknown>; agent: Record<string, unknown> }>('index_status');
    expect(s.index).toMatchObject({ exists: true, assets: 3, present: 3, missing: 0, read_via: 'local' });
    expect(s.agent).toMatchObject({ running: false, reason: 'no_status', heartbeat_age_s: null });
  });
});
