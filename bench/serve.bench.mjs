#!/usr/bin/env node
/* global console, fetch, Buffer */
/**
 * Web page benchmark (build first: `npm run build`).
 *
 *   node bench/serve.bench.mjs [--assets 10000] [--runs 10]
 *
 * Writes `--assets` distinct small PNGs (sharp, seeded noise, 96 px) into a temp root, indexes
 * them with `alice index rebuild`, starts the agent with `serve.enabled` (the set-and-forget
 * setup: requests run the agent's operations directly), then measures what a browser does when
 * it opens the search page:
 *  - search: `/api/search?limit=100` (the grid's first page), server time from the Server-Timing
 *    header (operation included), p50/p95 over `--runs`; the facets the page asks for alongside
 *    (`limit=0&facets=1`, in parallel) are reported separately;
 *  - first page of thumbnails, warm cache: the search (and facets) plus its 100 `/thumb/<hash>` requests with
 *    6 at a time (a browser's per-host limit), wall time until every byte arrived, p50/p95.
 * The first (cold) pass that makes the thumbnails is reported too. Writes bench/out/serve.json.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import sharp from 'sharp';
import { CLI, OUT_DIR, alice, aliceHome, arg, log, quantile, sleep } from './lib.mjs';

const ASSETS = arg('assets', 10_000);
const RUNS = arg('runs', 10);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function writeImages(root, n) {
  const size = 96;
  for (let i = 0; i < n; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, n - i) }, async (_, j) => {
        const k = i + j;
        const buf = Buffer.alloc(size * size * 3);
        let a = (k * 2654435761) >>> 0;
        for (let b = 0; b < buf.length; b++) {
          a = (a * 1664525 + 1013904223) >>> 0;
          buf[b] = a >>> 24;
        }
        const dir = path.join(root, `d${Math.floor(k / 500)}`);
        fs.mkdirSync(dir, { recursive: true });
        await sharp(buf, { raw: { width: size, height: size, channels: 3 } })
          .png({ compressionLevel: 1 })
          .toFile(path.join(dir, `img${k}.png`));
      }),
    );
  }
}

async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

function serverTime(res) {
  return Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN);
}

/** One page open: search, then every thumbnail of the first 100 results, 6 at a time. */
async function pageOpen(base) {
  const t0 = performance.now();
  const facets = fetch(`${base}/api/search?limit=0&facets=1`).then(async (r) => {
    await r.arrayBuffer();
    return serverTime(r);
  });
  const res = await fetch(`${base}/api/search?limit=100`);
  const timing = serverTime(res);
  const body = await res.json();
  const searchMs = performance.now() - t0;
  let bytes = 0;
  await pool(body.results, 6, async (r) => {
    const t = await fetch(`${base}/thumb/${r.content_hash}`);
    if (t.status !== 200) throw new Error(`thumb ${r.content_hash}: HTTP ${t.status}`);
    bytes += (await t.arrayBuffer()).byteLength;
  });
  const facetsMs = await facets;
  return {
    totalMs: performance.now() - t0,
    searchMs,
    serverMs: timing,
    facetsMs,
    thumbs: body.results.length,
    bytes,
  };
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-bench-serve-'));
  const port = await freePort();
  const home = aliceHome([root], `serve:\n  enabled: true\n  port: ${port}\nagent:\n  status_interval_s: 1`);
  let agent;
  try {
    log(`serve bench: writing ${ASSETS} images`);
    await writeImages(root, ASSETS);
    log('serve bench: alice index rebuild');
    const rebuilt = await alice(home, ['index', 'rebuild']);
    if (rebuilt.code !== 0) throw new Error(`rebuild failed: ${rebuilt.stderr}`);
    agent = spawn(process.execPath, [CLI, 'watch'], {
      env: { ...process.env, ...home.env },
      stdio: 'ignore',
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/api/status`)
        .then((r) => r.json())
        .then((s) => s.agent?.state === 'watching')
        .catch(() => false);
      if (ok) break;
      if (i > 600) throw new Error('the agent did not start serving');
      await sleep(200);
    }
    const cold = await pageOpen(base);
    log(`serve bench: cold page ${cold.totalMs.toFixed(0)} ms (thumbnails made)`);
    const warm = [];
    for (let i = 0; i < RUNS; i++) warm.push(await pageOpen(base));
    const total = warm.map((w) => w.totalMs);
    const server = warm.map((w) => w.serverMs);
    const out = {
      assets: ASSETS,
      runs: RUNS,
      cold_page_ms: cold.totalMs,
      warm_page_p50_ms: quantile(total, 0.5),
      warm_page_p95_ms: quantile(total, 0.95),
      search_server_p50_ms: quantile(server, 0.5),
      search_server_p95_ms: quantile(server, 0.95),
      facets_server_p50_ms: quantile(
        warm.map((w) => w.facetsMs),
        0.5,
      ),
      search_roundtrip_p50_ms: quantile(
        warm.map((w) => w.searchMs),
        0.5,
      ),
      thumbs_per_page: warm[0]?.thumbs ?? 0,
      thumb_bytes_per_page: warm[0]?.bytes ?? 0,
      machine: { cpus: os.cpus().length, loadavg: os.loadavg() },
    };
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.writeFileSync(path.join(OUT_DIR, 'serve.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(
      [
        `assets indexed                         ${ASSETS}`,
        `first page, 100 thumbnails, warm  p50  ${out.warm_page_p50_ms.toFixed(0)} ms  p95 ${out.warm_page_p95_ms.toFixed(0)} ms  (goal ≤ 1500 ms)`,
        `search server time (first 100)    p50  ${out.search_server_p50_ms.toFixed(1)} ms  p95 ${out.search_server_p95_ms.toFixed(1)} ms  (goal ≤ 150 ms)`,
        `facets server time (in parallel)  p50  ${out.facets_server_p50_ms.toFixed(1)} ms`,
        `cold first page (thumbnails made)      ${out.cold_page_ms.toFixed(0)} ms`,
      ].join('\n'),
    );
  } finally {
    agent?.kill('SIGTERM');
    if (agent) await new Promise((r) => agent.once('exit', r));
    fs.rmSync(root, { recursive: true, force: true });
    home.remove();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
