/**
 * Wires the web page: the http adapter on 127.0.0.1 and ::1 (or `serve.host` with a token), the
 * guard policy, the thumbnail service over sharp and ffmpeg, and the built page from the package.
 * `alice serve` runs it with the agent-or-local invoker; the agent runs it with its own operations.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractFrame, hasFfmpeg } from '../adapters/ffmpeg.adapter.js';
import { serveHttp } from '../adapters/http.adapter.js';
import { runCommand } from '../adapters/process.adapter.js';
import { webpThumbnail } from '../adapters/sharp.adapter.js';
import type { Config } from '../config/config.js';
import { AliceError, ErrorCode, errnoCode, errorMessage } from '../domain/errors.js';
import { ThumbnailService } from '../services/thumbs/thumbnail.service.js';
import { allowedHosts } from '../web/guard.js';
import { WebHandler } from '../web/web.handler.js';
import type { WebInvoke } from '../web/web-env.js';
import { agentHealth } from './invoker.js';

export interface WebServerOptions {
  /** Overrides `serve.port` (0: any free port). */
  port?: number;
  /** Overrides `serve.host`. */
  host?: string | null;
  /** Where the built page is (default: the package's `dist/page`). */
  pageDir?: string;
  /**
   * The agent's live status document (the agent serving its own page): the status page then sees
   * progress ticks as they happen, not as of the last heartbeat write. Default: the status file.
   */
  liveStatus?: () => unknown;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface WebServer {
  /** The address to open, e.g. `http://127.0.0.1:7878/`. */
  readonly url: string;
  readonly port: number;
  /** This session's CSRF token (tests send it like the page does). */
  readonly csrf: string;
  close(): Promise<void>;
}

const LOOPBACK = ['127.0.0.1', '::1'];

/** The package's built page: `dist/page`, found from this file in `src/app` or `dist/app`. */
export function defaultPageDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'page');
}

/** Every file of the built page, read once: the server never lists or walks a folder per request. */
function readPage(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return out;
    throw err;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    if (/^[\w.-]+$/.test(name) && fs.statSync(file).isFile()) out.set(name, fs.readFileSync(file));
  }
  return out;
}

function accessToken(config: Config, host: string | null): string | null {
  if (host === null) return null;
  const name = config.settings.serve.token_env;
  const token = process.env[name];
  if (token === undefined || token.length < 16) {
    throw new AliceError(ErrorCode.CONFIG_INVALID, `serving on ${host} needs an access token in $${name}`, {
      hint: `set ${name} to a random secret of 16 or more characters (e.g. \`openssl rand -hex 24\`), or drop serve.host to serve on this machine only`,
    });
  }
  return token;
}

function localNames(): string[] {
  const out = [os.hostname()];
  for (const list of Object.values(os.networkInterfaces())) for (const i of list ?? []) out.push(i.address);
  return out;
}

export async function startWebServer(
  config: Config,
  invoke: WebInvoke,
  opts: WebServerOptions,
): Promise<WebServer> {
  const s = config.settings.serve;
  const host = opts.host === undefined ? s.host : opts.host;
  const token = accessToken(config, host);
  const csrf = randomBytes(24).toString('hex');
  const ffmpeg = hasFfmpeg();
  const thumbs = new ThumbnailService({
    dir: path.join(config.home, 'thumbs'),
    concurrency: s.thumbnail_concurrency,
    makeWebp: async (input, px) => {
      const t = await webpThumbnail(input, px);
      return t.ok ? { ok: true, data: t.data } : { ok: false, reason: t.reason };
    },
    posterFrame: async (file) => {
      if (!(await ffmpeg)) return { ok: false, reason: 'no poster frame: ffmpeg not found' };
      const f = await extractFrame(file);
      return f.ok ? { ok: true, data: f.png } : { ok: false, reason: f.reason };
    },
  });
  let policy = { hosts: new Set<string>(), token, csrf };
  const handler = new WebHandler({
    invoke,
    thumbnail: (req) => thumbs.get(req),
    agentStatus: async () => ({
      ...(await agentHealth(config)),
      status:
        opts.liveStatus !== undefined
          ? opts.liveStatus()
          : await fs.promises
              .readFile(config.paths.status, 'utf8')
              .then((t) => JSON.parse(t) as unknown)
              .catch(() => null),
    }),
    fileSize: async (file) => {
      try {
        const st = await fs.promises.stat(file);
        return st.isFile() ? st.size : null;
      } catch {
        return null;
      }
    },
    page: readPage(opts.pageDir ?? defaultPageDir()),
    get policy() {
      return policy;
    },
    log: opts.log,
  });
  const server = await serveHttp({
    hosts: host === null ? LOOPBACK : [host],
    optional: ['::1'],
    port: opts.port ?? s.port,
    handler: (req) => handler.handle(req),
    onError: (err) => opts.log('error', `web server: ${errorMessage(err)}`),
  });
  const port = server.addresses[0]?.port ?? 0;
  policy = { hosts: allowedHosts(port, host === null ? [] : [host, ...localNames()]), token, csrf };
  const shown = host === null ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shown}:${port}/`, port, csrf, close: () => server.close() };
}

/** Opens the page in the desktop's browser (`xdg-open`, `open` on macOS); false when that failed. */
export async function openInBrowser(url: string): Promise<boolean> {
  const cmd = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const r = await runCommand(cmd, [url], 10_000).catch(() => null);
  return r !== null && r.code === 0;
}
