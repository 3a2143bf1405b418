/** HTTP requests for the web server tests (node:http, so the Host header can be anything). */
import http from 'node:http';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: () => unknown;
}

export function request(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; host?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: {
          host: opts.host ?? `127.0.0.1:${port}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(parts);
          const text = buf.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: buf,
            text,
            json: () => JSON.parse(text) as unknown,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
