/**
 * The JSON API behind the page. Each route maps its query or body onto a library operation (the
 * same ones the CLI, the socket and MCP run) through `env.invoke`, as a remote caller: paths given
 * by the page are confined to the roots by the operations themselves.
 */
import { AliceError, ErrorCode } from '../domain/errors.js';
import type { WebEnv, WebRequest, WebResponse } from './web-env.js';

/** Assets seen in recent answers (hash → media type, mime, present paths, when seen). */
export type KnownAssets = Map<
  string,
  { mediaType: string; mime: string | null; paths: string[]; at: number }
>;

const KNOWN_MAX = 20_000;

function reply(status: number, data: unknown): WebResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(data),
  };
}

function bodyOf(req: WebRequest): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(req.body.toString('utf8') || '{}');
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Falls through to the error below.
  }
  throw new AliceError(ErrorCode.INVALID_INPUT, 'the request body must be a JSON object');
}

const list = (q: URLSearchParams, key: string): string[] | undefined => {
  const all = q
    .getAll(key)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  return all.length > 0 ? all : undefined;
};

/**
 * The search box's words as search filters, until the one-box query language lands: `cat:value`
 * and `#word` are tags, everything else is prompt/description words ("quoted phrases" kept).
 */
export function boxToFilters(box: string): { tags?: string[]; prompt?: string } {
  const tags: string[] = [];
  const words: string[] = [];
  for (const m of box.matchAll(/"[^"]*"|\S+/g)) {
    const w = m[0];
    if (w.startsWith('#') && w.length > 1) tags.push(w.slice(1));
    else if (!w.startsWith('"') && /^[^:\s]+:[^:\s]+$/.test(w)) tags.push(w);
    else words.push(w);
  }
  const out: { tags?: string[]; prompt?: string } = {};
  if (tags.length > 0) out.tags = tags;
  if (words.length > 0) out.prompt = words.join(' ');
  return out;
}

/** Query string of `/api/search` → parameters of the `search` operation. */
export function searchParams(q: URLSearchParams): Record<string, unknown> {
  const box = boxToFilters(q.get('q') ?? '');
  const params: Record<string, unknown> = { facets: q.get('facets') === '1' };
  const tags = [...(box.tags ?? []), ...(list(q, 'tags') ?? [])];
  if (tags.length > 0) params['tags'] = tags;
  if (box.prompt !== undefined) params['prompt'] = box.prompt;
  for (const key of ['source', 'model', 'since', 'until', 'sort', 'project'] as const) {
    const v = q.get(key);
    if (v !== null && v !== '') params[key] = v;
  }
  const formats = list(q, 'formats');
  if (formats !== undefined) params['formats'] = formats;
  const media = list(q, 'media_type');
  if (media !== undefined) params['media_type'] = media;
  for (const key of ['limit', 'offset'] as const) {
    const v = q.get(key);
    if (v !== null && /^\d+$/.test(v)) params[key] = Number(v);
  }
  const seed = q.get('seed');
  if (seed !== null) params['seed'] = seed;
  return params;
}

interface Locatable {
  content_hash: string;
  media_type: string;
  path: string | null;
  locations?: string[];
  status?: string;
}

function remember(known: KnownAssets, items: readonly Locatable[]): void {
  if (known.size > KNOWN_MAX) known.clear();
  const at = Date.now();
  for (const r of items) {
    const paths = r.status === 'missing' ? [] : (r.locations ?? (r.path === null ? [] : [r.path]));
    if (paths.length > 0) known.set(r.content_hash, { mediaType: r.media_type, mime: null, paths, at });
  }
}

async function run(env: WebEnv, op: string, params: Record<string, unknown>): Promise<unknown> {
  return (await env.invoke(op, params)).result;
}

const HASH = /^[0-9a-f]{64}$/;

function hashOf(s: string | undefined): string {
  if (s === undefined || !HASH.test(s)) throw new AliceError(ErrorCode.INVALID_INPUT, 'not a content hash');
  return s;
}

type Route = (env: WebEnv, known: KnownAssets, req: WebRequest, m: RegExpExecArray) => Promise<unknown>;

const GET_ROUTES: [RegExp, Route][] = [
  [
    /^\/api\/search$/,
    async (env, known, req) => {
      const answer = await env.invoke('search', searchParams(req.query));
      const res = answer.result as { results: Locatable[] };
      remember(known, res.results);
      // While the agent builds the index, the page says results may be incomplete (as the CLI does).
      const building = answer.meta?.['building'];
      return building === undefined ? res : { ...res, building };
    },
  ],
  [/^\/api\/asset\/([0-9a-f]{64})$/, async (env, _k, _r, m) => run(env, 'asset.show', { ref: hashOf(m[1]) })],
  [
    /^\/api\/similar\/([0-9a-f]{64})$/,
    async (env, known, req, m) => {
      const limit = Number(req.query.get('limit') ?? '12');
      const res = (await run(env, 'similar', {
        ref: hashOf(m[1]),
        limit: Number.isInteger(limit) ? Math.min(limit, 100) : 12,
      })) as { results: Locatable[] };
      remember(known, res.results);
      return res;
    },
  ],
  [
    // Similar to a file by path (confined to the roots by the operation).
    /^\/api\/similar$/,
    async (env, _k, req) => run(env, 'similar', { path: req.query.get('path') ?? '', limit: 12 }),
  ],
  [
    /^\/api\/dupes$/,
    async (env, _k, req) => {
      const threshold = Number(req.query.get('threshold') ?? '6');
      return run(env, 'dupes', {
        near: req.query.get('near') !== '0',
        ...(Number.isInteger(threshold) ? { threshold } : {}),
      });
    },
  ],
  [/^\/api\/projects$/, async (env) => run(env, 'project.list', {})],
  [
    /^\/api\/status$/,
    async (env) => {
      const agent = await env.agentStatus();
      let index: unknown;
      try {
        index = await run(env, 'index.status', {});
      } catch (err) {
        index = { error: err instanceof Error ? err.message : String(err) };
      }
      return { agent, index };
    },
  ],
];

const POST_ROUTES: [RegExp, Route][] = [
  [
    /^\/api\/tags$/,
    async (env, _k, req) => {
      const b = bodyOf(req);
      const ref = hashOf(typeof b['hash'] === 'string' ? b['hash'] : undefined);
      const add = Array.isArray(b['add']) ? b['add'] : [];
      const remove = Array.isArray(b['remove']) ? b['remove'] : [];
      const added = add.length > 0 ? await run(env, 'tag.add', { refs: [ref], tags: add }) : null;
      const removed = remove.length > 0 ? await run(env, 'tag.remove', { refs: [ref], tags: remove }) : null;
      return { added, removed };
    },
  ],
  [
    /^\/api\/project\/select$/,
    async (env, _k, req) => {
      const b = bodyOf(req);
      return run(env, 'project.select', { name: b['name'], refs: b['hashes'], why: b['why'] });
    },
  ],
  [
    /^\/api\/trash$/,
    async (env, known, req) => {
      const res = (await run(env, 'trash.move', { paths: bodyOf(req)['paths'] })) as {
        moved: { content_hash: string }[];
      };
      for (const m of res.moved) known.delete(m.content_hash);
      return res;
    },
  ],
  [/^\/api\/trash\/undo$/, async (env, _k, req) => run(env, 'trash.undo', { batch: bodyOf(req)['batch'] })],
];

export async function apiRoute(env: WebEnv, known: KnownAssets, req: WebRequest): Promise<WebResponse> {
  const table = req.method === 'POST' ? POST_ROUTES : req.method === 'GET' ? GET_ROUTES : [];
  for (const [re, route] of table) {
    const m = re.exec(req.path);
    if (m !== null) return reply(200, await route(env, known, req, m));
  }
  return reply(404, { error: { code: 'NOT_FOUND', message: `no API route ${req.method} ${req.path}` } });
}
