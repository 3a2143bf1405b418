/**
 * The agent's local control socket: a Unix socket (mode 0600) speaking JSON lines.
 * Request `{"id", "op", "params"}` → zero or more interim messages `{"id", "progress": {…}}` (a
 * long operation's progress) and `{"id", "alive": true}` (every couple of seconds while it runs),
 * then the response `{"id", "ok": true, "result", "meta"?}` or
 * `{"id", "ok": false, "error": {code, message, hint}}`. Requests are size-limited and parsed
 * defensively; handlers validate params themselves. Every call has a deadline: a stopped or hung
 * agent never hangs a client.
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

/** A long operation's progress, as the CLI's progress bar takes it. */
export type ProgressMessage =
  | { kind: 'start'; label: string; total?: number | undefined }
  | { kind: 'tick'; n: number; detail?: string | undefined }
  | { kind: 'done' };

export type SocketResponse =
  | { id: number; ok: true; result: unknown; meta?: Record<string, unknown> | undefined }
  | { id: number; ok: false; error: SocketError };

/** What a handler answers: the result, and facts about the answer (e.g. the index is being built). */
export interface HandlerAnswer {
  result: unknown;
  meta?: Record<string, unknown> | undefined;
}

export type SocketHandler = (
  req: SocketRequest,
  progress: (msg: ProgressMessage) => void,
) => Promise<HandlerAnswer>;

/** How often a running request tells its client the agent is alive. */
const ALIVE_MS = 2000;

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
      const write = (msg: object): void => {
        if (!conn.destroyed) conn.write(`${JSON.stringify({ id: req.id, ...msg })}\n`);
      };
      const alive = setInterval(() => write({ alive: true }), ALIVE_MS);
      handler(req, (p) => write({ progress: p }))
        .then(
          (a) =>
            send({
              id: req.id,
              ok: true,
              result: a.result,
              ...(a.meta === undefined ? {} : { meta: a.meta }),
            }),
          (err: unknown) => send({ id: req.id, ok: false, error: toError(err) }),
        )
        .finally(() => clearInterval(alive));
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
  // Open connections, so that closing does not wait for a client that never hangs up (an
  // `alice mcp` kept running by an assistant, a client stopped with SIGSTOP): server.close()
  // alone waits for every connection to end, and the agent's stop would hang with it.
  const conns = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    conns.add(conn);
    conn.on('close', () => conns.delete(conn));
    serveConnection(conn, handler, toError);
  });
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
        for (const conn of conns) conn.destroy();
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

/** Thrown by `callSocket` when the deadline passed without a message from the agent. */
export class AgentTimeoutError extends Error {
  constructor(readonly waitedMs: number) {
    super(`the agent did not answer within ${Math.round(waitedMs / 100) / 10} s`);
  }
}

export interface CallOptions {
  /** Milliseconds to wait for the answer (`between: false`) or for each message (`between: true`). */
  deadlineMs: number;
  /** Long operations: any message (progress, alive) from the agent restarts the deadline. */
  between: boolean;
  /** False when the caller is the owner's own CLI. */
  confine: boolean;
  onProgress?: (msg: ProgressMessage) => void;
}

/** One request over a fresh connection. Rejects NoAgentError when nothing listens, AgentTimeoutError at the deadline. */
export function callSocket(
  socketPath: string,
  op: string,
  params: unknown,
  options: Partial<CallOptions> = {},
): Promise<SocketResponse> {
  const opts: CallOptions = { deadlineMs: 10_000, between: false, confine: true, ...options };
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socketPath);
    let buffer = '';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const began = Date.now();
    const done = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      fn();
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () => done(() => reject(new AgentTimeoutError(Date.now() - began))),
        opts.deadlineMs,
      );
    };
    arm();
    conn.setEncoding('utf8');
    conn.on('connect', () =>
      conn.write(`${JSON.stringify({ id: 1, op, params, confine: opts.confine, cwd: process.cwd() })}\n`),
    );
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while (!settled && (nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch (err) {
          done(() => reject(err instanceof Error ? err : new Error(String(err))));
          return;
        }
        if (typeof msg['ok'] === 'boolean') {
          done(() => resolve(msg as unknown as SocketResponse));
          return;
        }
        if (opts.between) arm();
        if (msg['progress'] !== undefined) opts.onProgress?.(msg['progress'] as ProgressMessage);
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
