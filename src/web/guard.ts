/**
 * What every web request must pass before anything runs: a Host header naming this server (a page
 * on another site that rebinds its DNS name to 127.0.0.1 sends its own name: refused), the access
 * token when the server listens beyond loopback, and for every changing request the per-session
 * CSRF token the page received (another site can neither read it nor guess it) plus a same-origin
 * Origin when the browser sends one. Pure functions over headers.
 */
import { timingSafeEqual } from 'node:crypto';

export interface GuardPolicy {
  /** Accepted Host header values, lower case, with the port (`127.0.0.1:7878`, `[::1]:7878`). */
  readonly hosts: ReadonlySet<string>;
  /** Required on every request when set (Authorization: Bearer, the `alice_token` cookie or `?token=`). */
  readonly token: string | null;
  /** Required in the `x-alice-csrf` header of every changing request. */
  readonly csrf: string;
}

export type Refusal = { status: number; reason: string } | null;

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Loopback names for a port: what a browser on this machine sends as Host. */
export function loopbackHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

/** The Host names this server answers to: loopback, plus `host` (and the given extra names). */
export function allowedHosts(port: number, extra: readonly string[]): Set<string> {
  const out = new Set(loopbackHosts(port));
  for (const h of extra) {
    const name = h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
    out.add(`${name.toLowerCase()}:${port}`);
  }
  return out;
}

function cookie(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  for (const part of (headers['cookie'] ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** The access token a request carries, from any of the three places. */
export function tokenOf(
  headers: Readonly<Record<string, string>>,
  query: URLSearchParams,
): string | undefined {
  const auth = headers['authorization'];
  if (auth?.startsWith('Bearer ') === true) return auth.slice(7).trim();
  return cookie(headers, 'alice_token') ?? query.get('token') ?? undefined;
}

/** Null when the request may proceed; else the status and reason to refuse it with. */
export function checkRequest(
  policy: GuardPolicy,
  req: { method: string; headers: Readonly<Record<string, string>>; query: URLSearchParams },
): Refusal {
  const host = (req.headers['host'] ?? '').toLowerCase();
  if (!policy.hosts.has(host)) return { status: 421, reason: `unknown Host header: ${host || '(none)'}` };
  if (policy.token !== null && !sameSecret(tokenOf(req.headers, req.query), policy.token))
    return { status: 401, reason: 'an access token is required' };
  if (SAFE_METHODS.has(req.method)) return null;
  const origin = req.headers['origin'];
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`)
    return { status: 403, reason: `cross-origin request from ${origin}` };
  if (!sameSecret(req.headers['x-alice-csrf'], policy.csrf))
    return { status: 403, reason: 'missing or wrong CSRF token: reload the page' };
  return null;
}
