/**
 * The web server over a real library (no agent: operations run in-process per request): the page
 * shell, the JSON API, thumbnails and files by content hash, and the guard — a foreign Host header,
 * a changing request without the CSRF token, a path outside the roots and a non-indexed hash are
 * each refused; serving beyond loopback needs the token.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteInvoker } from '../../src/app/invoker.js';
import { startWebServer, type WebServer } from '../../src/app/web-server.js';
import { makeWorkspace, sha256Of, writeImage, type Workspace } from '../helpers/fixtures.js';
import { configOf, rebuild } from '../helpers/library.js';
import { request } from './helpers.js';

let ws: Workspace;
let lib: string;
let server: WebServer;
let port: number;
let hashA: string;
let hashBroken: string;
const pageDir = path.resolve('dist/page');

beforeAll(async () => {
  ws = makeWorkspace();
  lib = ws.roots[0] ?? '';
  await writeImage(path.join(lib, 'a.png'), { seed: 1, size: 96 });
  await writeImage(path.join(lib, 'broken.png'), { seed: 2 });
  await rebuild(ws);
  hashA = sha256Of(path.join(lib, 'a.png'));
  hashBroken = sha256Of(path.join(lib, 'broken.png'));
  // Damaged after indexing (the index still lists it): its thumbnail is a placeholder with the reason.
  const bytes = fs.readFileSync(path.join(lib, 'broken.png'));
  fs.writeFileSync(path.join(lib, 'broken.png'), bytes.subarray(0, 60));
  const config = configOf(ws);
  server = await startWebServer(config, remoteInvoker(config).invoke, {
    port: 0,
    pageDir,
    log: () => undefined,
  });
  port = server.port;
}, 60_000);

afterAll(async () => {
  await server.close();
  ws.cleanup();
});

describe('the page and the API', () => {
  it('serves the page shell with this session’s CSRF token, and no directory listing', async () => {
    const res = await request(port, '/?q=forest');
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<meta name="csrf" content="${server.csrf}"`);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await request(port, '/static/app.js')).status).toBe(200);
    for (const p of [
      '/static/',
      '/static',
      '/static/../../etc/passwd',
      '/static/%2e%2e%2fpackage.json',
      '/dist/',
    ])
      expect((await request(port, p)).status, p).toBe(404);
  });

  it('search answers with results, total and facets', async () => {
    const res = await request(port, '/api/search?facets=1&limit=10');
    expect(res.status).toBe(200);
    const body = res.json() as {
      total: number;
      results: { content_hash: string }[];
      facets: { formats: object };
    };
    expect(body.total).toBe(2);
    expect(body.results.map((r) => r.content_hash).sort()).toEqual([hashA, hashBroken].sort());
    expect(body.facets.formats).toEqual({ png: 2 });
  }, 30_000);

  it('makes a WebP thumbnail once, cached by content hash under $ALICE_HOME/thumbs', async () => {
    const res = await request(port, `/thumb/${hashA}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    const meta = await sharp(res.body).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.width).toBe(96);
    const cached = path.join(ws.home, 'thumbs', hashA.slice(0, 2), `${hashA}-320.webp`);
    expect(fs.readFileSync(cached).equals(res.body)).toBe(true);
    const large = await request(port, `/thumb/${hashA}?s=large`);
    expect(large.status).toBe(200);
    expect(fs.existsSync(path.join(ws.home, 'thumbs', hashA.slice(0, 2), `${hashA}-1024.webp`))).toBe(true);
  }, 30_000);

  it('a damaged file gets a placeholder that says why', async () => {
    const res = await request(port, `/thumb/${hashBroken}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/svg+xml');
    expect(String(res.headers['x-alice-thumb-error'])).toMatch(/decode|corrupt|premature|truncat/i);
  }, 30_000);

  it('serves an indexed file by hash, with ranges', async () => {
    const full = await request(port, `/file/${hashA}`);
    expect(full.status).toBe(200);
    expect(full.body.equals(fs.readFileSync(path.join(lib, 'a.png')))).toBe(true);
    const part = await request(port, `/file/${hashA}`, { headers: { range: 'bytes=0-7' } });
    expect(part.status).toBe(206);
    expect(part.body.equals(fs.readFileSync(path.join(lib, 'a.png')).subarray(0, 8))).toBe(true);
  }, 30_000);
});

describe('refused', () => {
  it('a foreign Host header (DNS rebinding)', async () => {
    for (const host of ['evil.example:80', `evil.example:${port}`, 'localhost', `127.0.0.2:${port}`])
      expect((await request(port, '/api/search', { host })).status, host).toBe(421);
    expect((await request(port, '/api/search', { host: `localhost:${port}` })).status).toBe(200);
  }, 30_000);

  it('a changing request without the CSRF token, or with a foreign Origin', async () => {
    const body = { hash: hashA, add: ['style:noir'] };
    const none = await request(port, '/api/tags', { body });
    expect(none.status).toBe(403);
    const wrong = await request(port, '/api/tags', { body, headers: { 'x-alice-csrf': 'nope' } });
    expect(wrong.status).toBe(403);
    const cross = await request(port, '/api/tags', {
      body,
      headers: { 'x-alice-csrf': server.csrf, origin: 'http://evil.example' },
    });
    expect(cross.status).toBe(403);
    const search = (await request(port, '/api/search?tags=style:noir')).json() as { total: number };
    expect(search.total).toBe(0);
    const trash = await request(port, '/api/trash', { body: { paths: [path.join(lib, 'a.png')] } });
    expect(trash.status).toBe(403);
    expect(fs.existsSync(path.join(lib, 'a.png'))).toBe(true);
  }, 30_000);

  it('a path outside the roots', async () => {
    const similar = await request(port, `/api/similar?path=${encodeURIComponent('/etc/hostname')}`);
    expect(similar.status).toBe(403);
    expect((similar.json() as { error: { code: string } }).error.code).toBe('OUTSIDE_ROOTS');
    const outside = path.join(ws.dir, 'outside.png');
    await writeImage(outside, { seed: 5 });
    const trash = await request(port, '/api/trash', {
      body: { paths: [outside] },
      headers: { 'x-alice-csrf': server.csrf },
    });
    expect(trash.status).toBe(200);
    expect((trash.json() as { moved: unknown[]; skipped: { reason: string }[] }).skipped[0]?.reason).toBe(
      'outside the asset roots',
    );
    expect(fs.existsSync(outside)).toBe(true);
  }, 30_000);

  it('thumbnails and files of anything not indexed', async () => {
    const unknown = 'f'.repeat(64);
    expect((await request(port, `/thumb/${unknown}`)).status).toBe(404);
    expect((await request(port, `/file/${unknown}`)).status).toBe(404);
    expect((await request(port, `/file/../../etc/passwd`)).status).toBe(404);
  }, 30_000);
});

describe('beyond loopback', () => {
  it('refuses to start without a token, and then every request without it', async () => {
    const config = configOf(ws);
    const invoke = remoteInvoker(config).invoke;
    const name = config.settings.serve.token_env;
    delete process.env[name];
    await expect(
      startWebServer(config, invoke, { port: 0, host: '127.0.0.1', pageDir, log: () => undefined }),
    ).rejects.toThrow(/access token/);
    process.env[name] = 'a-long-enough-test-token-0123456789';
    const open = await startWebServer(config, invoke, {
      port: 0,
      host: '127.0.0.1',
      pageDir,
      log: () => undefined,
    });
    try {
      expect((await request(open.port, '/')).status).toBe(401);
      expect((await request(open.port, '/api/search')).status).toBe(401);
      const auth = { authorization: `Bearer ${process.env[name]}` };
      expect((await request(open.port, '/api/search', { headers: auth })).status).toBe(200);
      const withCookie = await request(open.port, `/?token=${process.env[name]}`);
      expect(withCookie.status).toBe(200);
      expect(String(withCookie.headers['set-cookie'])).toContain('alice_token=');
    } finally {
      delete process.env[name];
      await open.close();
    }
  }, 30_000);
});
