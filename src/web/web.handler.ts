/**
 * The web page's requests: the guard first, then the page (one HTML shell for every page route, the
 * built scripts and styles by exact name: no directory listing), thumbnails and files by content
 * hash only (never by path, and only for indexed assets with a present copy), and the JSON API in
 * api.routes.ts. Errors become JSON with the AliceError code and hint.
 */
import { isAliceError, errorMessage } from '../domain/errors.js';
import { apiRoute, type KnownAssets } from './api.routes.js';
import { checkRequest } from './guard.js';
import type { WebEnv, WebRequest, WebResponse } from './web-env.js';

const HASH = /^[0-9a-f]{64}$/;
const PAGE_ROUTES = /^\/(?:|asset\/[0-9a-f]{64}|dupes|status|projects)$/;

const MIME: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Headers of every answer: no framing, no sniffing, nothing loaded from elsewhere. */
const BASE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
};

export function json(status: number, data: unknown): WebResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(data),
  };
}

function text(status: number, body: string): WebResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

function withBase(res: WebResponse): WebResponse {
  return { ...res, headers: { ...BASE_HEADERS, ...res.headers } };
}

/** A small SVG saying why there is no picture (damaged file, no ffmpeg, busy). */
function placeholder(reason: string): WebResponse {
  const esc = reason.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`).slice(0, 120);
  const lines = (esc.match(/.{1,34}(\s|$)/g) ?? [esc]).slice(0, 4);
  const text = lines
    .map(
      (l, i) =>
        `<text x="160" y="${185 + i * 18}" fill="#ccc" font-family="sans-serif" font-size="13" text-anchor="middle">${l.trim()}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320" viewBox="0 0 320 320"><rect width="320" height="320" fill="#2a2a2e"/><text x="160" y="150" fill="#e0a040" font-family="sans-serif" font-size="40" text-anchor="middle">!</text>${text}</svg>`;
  return {
    status: 200,
    headers: {
      'content-type': 'image/svg+xml',
      'cache-control': 'no-store',
      'x-alice-thumb-error': reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 120),
    },
    body: svg,
  };
}

export class WebHandler {
  /** Assets seen in recent answers: thumbnails of a page of results need no lookup each. */
  private readonly known: KnownAssets = new Map();

  constructor(private readonly env: WebEnv) {}

  async handle(req: WebRequest): Promise<WebResponse> {
    const refused = checkRequest(this.env.policy, req);
    if (refused !== null) return withBase(text(refused.status, refused.reason));
    try {
      return withBase(await this.route(req));
    } catch (err) {
      if (isAliceError(err)) {
        const status = err.code === 'NOT_FOUND' ? 404 : err.code === 'OUTSIDE_ROOTS' ? 403 : 400;
        return withBase(json(status, { error: { code: err.code, message: err.message, hint: err.hint } }));
      }
      this.env.log('error', `web: ${req.method} ${req.path}: ${errorMessage(err)}`);
      return withBase(json(500, { error: { code: 'INTERNAL', message: errorMessage(err) } }));
    }
  }

  private async route(req: WebRequest): Promise<WebResponse> {
    const p = req.path;
    if (p.startsWith('/api/')) {
      const t0 = performance.now();
      const res = await apiRoute(this.env, this.known, req);
      // Server time of the call (operation included), for the page's devtools and the bench.
      return {
        ...res,
        headers: { ...res.headers, 'server-timing': `op;dur=${(performance.now() - t0).toFixed(1)}` },
      };
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed');
    if (PAGE_ROUTES.test(p)) return this.shell(req);
    if (p.startsWith('/static/')) return this.staticFile(p.slice('/static/'.length));
    const thumb = /^\/thumb\/([0-9a-f]{64})$/.exec(p);
    if (thumb?.[1] !== undefined)
      return this.thumb(thumb[1], req.query.get('s') === 'large' ? 'large' : 'small');
    const file = /^\/file\/([0-9a-f]{64})$/.exec(p);
    if (file?.[1] !== undefined) return this.file(file[1]);
    return text(404, 'not found');
  }

  /** The page shell with this session's CSRF token; the token cookie when one was given in the URL. */
  private shell(req: WebRequest): WebResponse {
    const html = this.env.page.get('index.html');
    if (html === undefined) return text(500, 'the page is not built: run `npm run build`');
    const headers: Record<string, string> = {
      'content-type': MIME['.html'] ?? '',
      'cache-control': 'no-store',
    };
    const token = req.query.get('token');
    if (this.env.policy.token !== null && token !== null)
      headers['set-cookie'] = `alice_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
    return { status: 200, headers, body: html.toString('utf8').replace('%CSRF%', this.env.policy.csrf) };
  }

  private staticFile(name: string): WebResponse {
    const bytes = name === 'index.html' ? undefined : this.env.page.get(name);
    if (bytes === undefined) return text(404, 'not found');
    const ext = name.slice(name.lastIndexOf('.'));
    return {
      status: 200,
      headers: { 'content-type': MIME[ext] ?? 'application/octet-stream', 'cache-control': 'no-cache' },
      body: bytes,
    };
  }

  /** A present copy of an indexed asset, from recent answers or asked of the index. */
  private async locate(
    hash: string,
  ): Promise<{ mediaType: string; mime: string | null; paths: string[] } | null> {
    if (!HASH.test(hash)) return null;
    const seen = this.known.get(hash);
    if (seen !== undefined && Date.now() - seen.at < 60_000 && seen.paths.length > 0) return seen;
    const found = (await this.env.invoke('asset.locate', { hash })).result as {
      media_type: string;
      mime: string | null;
      paths: string[];
    } | null;
    if (found === null) return null;
    const entry = { mediaType: found.media_type, mime: found.mime, paths: found.paths, at: Date.now() };
    this.known.set(hash, entry);
    return entry;
  }

  private async thumb(hash: string, size: 'small' | 'large'): Promise<WebResponse> {
    const asset = await this.locate(hash);
    const file = asset?.paths[0];
    if (asset === null || file === undefined) return text(404, 'not an indexed asset with a present file');
    const t = await this.env.thumbnail({ hash, mediaType: asset.mediaType, file, size });
    if (!t.ok)
      return t.busy ? { ...text(503, t.reason), headers: { 'retry-after': '1' } } : placeholder(t.reason);
    return {
      status: 200,
      headers: { 'content-type': 'image/webp', 'cache-control': 'private, max-age=86400, immutable' },
      file: t.file,
      size: t.size,
    };
  }

  private async file(hash: string): Promise<WebResponse> {
    const asset = await this.locate(hash);
    for (const file of asset?.paths ?? []) {
      const size = await this.env.fileSize(file);
      if (size === null) continue;
      return {
        status: 200,
        headers: {
          'content-type': asset?.mime ?? 'application/octet-stream',
          'cache-control': 'private, max-age=3600',
        },
        file,
        size,
      };
    }
    return text(404, 'not an indexed asset with a present file');
  }
}
