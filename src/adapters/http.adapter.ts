/**
 * The web server's transport (node:http): listens on a list of addresses, hands each request to a
 * handler as plain data (method, path, query, lower-cased headers, a size-capped body) and writes
 * what the handler returns: bytes, or a file streamed with Range support (video seeking). No
 * routing and no policy here: the web layer decides what is allowed.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpRequest {
  readonly method: string;
  /** Decoded path, without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export type HttpResponse =
  | {
      readonly status: number;
      readonly headers?: Record<string, string>;
      readonly body: string | Buffer;
    }
  | {
      readonly status: 200;
      readonly headers?: Record<string, string>;
      /** A file to stream; a `Range: bytes=a-b` request gets a 206 with that part. */
      readonly file: string;
      readonly size: number;
    };

export type HttpHandler = (req: HttpRequest) => Promise<HttpResponse>;

export interface HttpServer {
  /** `host:port` of every bound address (the port is the real one when 0 was asked). */
  readonly addresses: readonly { host: string; port: number }[];
  close(): Promise<void>;
}

/** Bodies above this are refused (413): the API takes small JSON only. */
const MAX_BODY = 1024 * 1024;

function headersOf(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** Parses one `bytes=a-b` range; null for anything else (the whole file is sent). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || size === 0) return null;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    start = Math.max(0, size - Number(b));
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  return start <= end && start < size ? { start, end } : null;
}

function send(req: http.IncomingMessage, res: http.ServerResponse, out: HttpResponse): void {
  if (!('file' in out)) {
    res.writeHead(out.status, out.headers);
    res.end(req.method === 'HEAD' ? undefined : out.body);
    return;
  }
  const range = parseRange(req.headers.range, out.size);
  const headers = { ...out.headers, 'accept-ranges': 'bytes' };
  if (range === null) res.writeHead(200, { ...headers, 'content-length': String(out.size) });
  else
    res.writeHead(206, {
      ...headers,
      'content-length': String(range.end - range.start + 1),
      'content-range': `bytes ${range.start}-${range.end}/${out.size}`,
    });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = fs.createReadStream(out.file, range ?? {});
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

async function dispatch(
  handler: HttpHandler,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const body = await readBody(req);
  if (body === null) {
    res.writeHead(413, { 'content-type': 'text/plain' }).end('request body too large');
    return;
  }
  const url = new URL(req.url ?? '/', 'http://x');
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('bad path');
    return;
  }
  const out = await handler({
    method: req.method ?? 'GET',
    path: pathname,
    query: url.searchParams,
    headers: headersOf(req),
    body,
  });
  send(req, res, out);
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Serves `handler` on every host (one server each, same port; port 0 picks one free port for all).
 * A handler that throws answers 500 without details; `onError` hears about it.
 */
export async function serveHttp(opts: {
  hosts: readonly string[];
  port: number;
  handler: HttpHandler;
  onError: (err: unknown) => void;
  /** Hosts that may be missing on this machine (`::1` without IPv6): skipped when they cannot bind. */
  optional?: readonly string[];
}): Promise<HttpServer> {
  const servers: http.Server[] = [];
  const addresses: { host: string; port: number }[] = [];
  let port = opts.port;
  try {
    for (const host of opts.hosts) {
      const server = http.createServer((req, res) => {
        dispatch(opts.handler, req, res).catch((err: unknown) => {
          opts.onError(err);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error');
        });
      });
      server.keepAliveTimeout = 5000;
      try {
        port = await listen(server, host, port);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (opts.optional?.includes(host) === true && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT'))
          continue;
        throw err;
      }
      servers.push(server);
      addresses.push({ host, port });
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return {
    addresses,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
