/**
 * The control socket against real Unix sockets in a temp dir: owner-only mode, JSON-lines
 * requests and responses, malformed and oversized input, errors mapped through `toError`, a stale
 * socket file replaced, and NoAgentError when nothing listens.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentTimeoutError,
  NoAgentError,
  callSocket,
  type ProgressMessage,
  serveSocket,
  type SocketServer,
} from '../../src/adapters/socket.adapter.js';
import { makeTempDir, removeDir } from '../helpers/fixtures.js';

let dir: string;
let sock: string;
let server: SocketServer | undefined;

beforeEach(() => {
  dir = makeTempDir('alice-sock-');
  sock = path.join(dir, 'agent.sock');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  removeDir(dir);
});

async function start(): Promise<SocketServer> {
  server = await serveSocket(
    sock,
    async ({ op, params }, send) => {
      if (op === 'echo') return { result: params };
      if (op === 'slow') return new Promise((r) => setTimeout(() => r({ result: 'late' }), 100));
      if (op === 'long') {
        // Longer than the caller's deadline, but talking all the time.
        for (let i = 0; i < 6; i++) {
          await new Promise((r) => setTimeout(r, 100));
          send({ kind: 'tick', n: 1 });
        }
        return { result: 'finished', meta: { note: 'x' } };
      }
      throw Object.assign(new Error(`no such op ${op}`), { code: 'UNKNOWN_OP' });
    },
    (err) => ({ code: 'MAPPED', message: err instanceof Error ? err.message : String(err) }),
  );
  return server;
}

/** Sends raw bytes and collects `n` response lines (or whatever arrived before the close). */
function raw(payload: string, n: number): Promise<{ lines: unknown[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(sock);
    let buf = '';
    const lines: unknown[] = [];
    const finish = (closed: boolean): void => {
      conn.destroy();
      resolve({ lines, closed });
    };
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(payload));
    conn.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
        if (lines.length >= n) finish(false);
      }
    });
    conn.on('close', () => finish(true));
    conn.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'EPIPE' ? finish(true) : reject(e)));
  });
}

describe('serveSocket', () => {
  it('closes at once even while a client keeps its connection open', async () => {
    const srv = await start();
    const idle = net.createConnection(sock);
    await new Promise<void>((r) => idle.once('connect', () => r()));
    const hungUp = new Promise<void>((r) => idle.once('close', () => r()));
    const began = Date.now();
    await srv.close();
    server = undefined;
    await hungUp;
    // server.close() alone would wait for the client to hang up: forever.
    expect(Date.now() - began).toBeLessThan(2000);
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('listens with owner-only permissions', async () => {
    await start();
    const st = fs.statSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('answers requests by id, with results and mapped errors', async () => {
    await start();
    expect(await callSocket(sock, 'echo', { a: [1, 2] })).toEqual({ id: 1, ok: true, result: { a: [1, 2] } });
    expect(await callSocket(sock, 'nope', {})).toEqual({
      id: 1,
      ok: false,
      error: { code: 'MAPPED', message: 'no such op nope' },
    });
  });

  it('answers malformed lines with INVALID_INPUT and keeps serving the connection', async () => {
    await start();
    const { lines, closed } = await raw(
      [
        'not json',
        '[1,2]',
        '"str"',
        'null',
        '{"op":"echo"}',
        '{"id":"7","op":"echo"}',
        '{"id":7,"op":"echo","params":{"x":1}}',
      ].join('\n') + '\n',
      7,
    );
    expect(closed).toBe(false);
    const errors = lines.slice(0, 6);
    for (const e of errors) expect(e).toMatchObject({ id: -1, ok: false, error: { code: 'INVALID_INPUT' } });
    expect(lines[6]).toEqual({ id: 7, ok: true, result: { x: 1 } });
  });

  it('pipelines several requests on one connection, each answered under its own id', async () => {
    await start();
    const { lines } = await raw('{"id":1,"op":"slow"}\n{"id":2,"op":"echo","params":2}\n', 2);
    expect(lines).toEqual([
      { id: 2, ok: true, result: 2 },
      { id: 1, ok: true, result: 'late' },
    ]);
  });

  it('refuses an oversized request without a newline and closes the connection', async () => {
    await start();
    const { lines, closed } = await raw('x'.repeat(1024 * 1024 + 10), 1);
    expect(lines[0]).toMatchObject({
      id: -1,
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'request too large' },
    });
    if (!closed) expect(lines).toHaveLength(1);
    // the server still serves others
    expect((await callSocket(sock, 'echo', 1)).ok).toBe(true);
  });

  it('replaces a stale socket file left by a killed agent, and removes its file on close', async () => {
    const stale = net.createServer();
    await new Promise<void>((r) => stale.listen(sock, () => r()));
    // simulate a crash: the file stays, nothing listens
    await new Promise<void>((r) => {
      stale.close(() => r());
    });
    if (!fs.existsSync(sock)) fs.writeFileSync(sock, '');
    const s = await start();
    expect((await callSocket(sock, 'echo', 'hi')).ok).toBe(true);
    await s.close();
    server = undefined;
    expect(fs.existsSync(sock)).toBe(false);
  });
});

describe('callSocket', () => {
  it('rejects NoAgentError when no socket exists', async () => {
    await expect(callSocket(sock, 'echo', {})).rejects.toBeInstanceOf(NoAgentError);
  });

  it('rejects NoAgentError when a file is there but nothing listens', async () => {
    fs.writeFileSync(sock, '');
    await expect(callSocket(sock, 'echo', {}, { deadlineMs: 2000 })).rejects.toBeInstanceOf(NoAgentError);
  });

  it('times out when the agent does not answer', async () => {
    const silent = net.createServer((c) => c.on('data', () => undefined));
    await new Promise<void>((r) => silent.listen(sock, () => r()));
    try {
      const err = await callSocket(sock, 'echo', {}, { deadlineMs: 200 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgentTimeoutError);
      expect(String(err)).toMatch(/did not answer within 0\.[2-9] s/);
    } finally {
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('a long operation streams progress: its deadline applies between messages, not to the whole call', async () => {
    await start();
    const seen: ProgressMessage[] = [];
    const res = await callSocket(
      sock,
      'long',
      {},
      { deadlineMs: 350, between: true, onProgress: (m) => seen.push(m) },
    );
    expect(res).toEqual({ id: 1, ok: true, result: 'finished', meta: { note: 'x' } });
    expect(seen).toHaveLength(6);
    // The same call as a query (one deadline for the whole answer) times out.
    await expect(callSocket(sock, 'long', {}, { deadlineMs: 350 })).rejects.toBeInstanceOf(AgentTimeoutError);
  });
});
