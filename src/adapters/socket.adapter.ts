/**
 * The agent's local control socket: a Unix socket (mode 0600) speaking JSON lines.
 * Request `{"id", "op", "params"}` → response `{"id", "ok": true, "result"}` or
 * `{"id", "ok": false, "error": {code, message, hint}}`. Requests are size-limited and parsed
 * defensively; handlers validate params themselves.
 */
import fs from 'node:fs';
import net from 'node:net';
import { errnoCode } from '../domain/errors.js';

const MAX_LINE = 1024 * 1024;

export interface SocketRequest {
  id: number;
  op: string;
  params: unknown;
  /** False when the caller is the owner's own CLI; paths from other clients stay confined to the roots. */
  confine: boolean;
  /** The caller's working directory, for relative paths (absolute, or '/' when unknown). */
  cwd: string;
}

export interface SocketError {
  code: string;
  message: string;
  hint?: string | undefined;
  details?: readonly string[] | undefined;
}

export type SocketResponse =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SocketError };

export type SocketHandler = (op: string, params: unknown, confine: boolean, cwd: string) => Promise<unknown>;

export interface SocketServer {
  close(): Promise<void>;
}

function parseRequest(line: string): SocketRequest | undefined {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const r = data as Record<string, unknown>;
  if (typeof r['id'] !== 'number' || typeof r['op'] !== 'string') return undefined;
  const cwd = typeof r['cwd'] === 'string' && r['cwd'].startsWith('/') ? r['cwd'] : '/';
  return { id: r['id'], op: r['op'], params: r['params'] ?? {}, confine: r['confine'] !== false, cwd };
}

function serveConnection(
  conn: net.Socket,
  handler: SocketHandler,
  toError: (err: unknown) => SocketError,
): void {
  let buffer = '';
  const send = (res: SocketResponse): void => {
    if (!conn.destroyed) conn.write(`${JSON.stringify(res)}\n`);
  };
  conn.setEncoding('utf8');
  conn.on('error', () => conn.destroy());
  conn.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE && !buffer.includes('\n')) {
      send({ id: -1, ok: false, error: { code: 'INVALID_INPUT', message: 'request too large' } });
      conn.destroy();
      return;
    }
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const req = parseRequest(line);
      if (req === undefined) {
        send({ id: -1, ok: false, error: { code: 'INVALID_INPUT', message: 'malformed request' } });
        continue;
      }
      handler(req.op, req.params, req.confine, req.cwd).then(
        (result) => send({ id: req.id, ok: true, result }),
        (err: unknown) => send({ id: req.id, ok: false, error: toError(err) }),
      );
    }
  });
}

/** Listens on `socketPath` (replacing a stale socket file) with owner-only permissions. */
export async function serveSocket(
  socketPath: string,
  handler: SocketHandler,
  toError: (err: unknown) => SocketError,
): Promise<SocketServer> {
  try {
    fs.unlinkSync(socketPath);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const server = net.createServer((conn) => serveConnection(conn, handler, toError));
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  fs.chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          fs.unlinkSync(socketPath);
        } catch {
          // already gone
        }
      }),
  };
}

/** Thrown by `callSocket` when nothing listens (no agent, or a stale socket file). */
export class NoAgentError extends Error {
  constructor(socketPath: string) {
    super(`no agent listening on ${socketPath}`);
  }
}

/** One request over a fresh connection. Rejects NoAgentError when nothing listens. */
export function callSocket(
  socketPath: string,
  op: string,
  params: unknown,
  timeoutMs = 600_000,
  confine = true,
): Promise<SocketResponse> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socketPath);
    let buffer = '';
    let settled = false;
    const done = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      fn();
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`agent did not answer within ${timeoutMs} ms`))),
      timeoutMs,
    );
    conn.setEncoding('utf8');
    conn.on('connect', () =>
      conn.write(`${JSON.stringify({ id: 1, op, params, confine, cwd: process.cwd() })}\n`),
    );
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      try {
        const res = JSON.parse(buffer.slice(0, nl)) as SocketResponse;
        done(() => resolve(res));
      } catch (err) {
        done(() => reject(err instanceof Error ? err : new Error(String(err))));
      }
    });
    conn.on('error', (err) => {
      const code = errnoCode(err);
      done(() =>
        reject(
          code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK'
            ? new NoAgentError(socketPath)
            : err,
        ),
      );
    });
    conn.on('close', () => done(() => reject(new Error('agent closed the connection'))));
  });
}
