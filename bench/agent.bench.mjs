/**
 * The resident agent, started as a user would (`alice watch` with its own ALICE_HOME): latency
 * from a file landing to it being returned by the agent, a burst of many images dropped at once
 * against `alice index rebuild` on the same files, and idle CPU/RSS while watching a big tree.
 * Queries go through the agent's control socket, the path every `alice` command takes while the
 * agent runs (spawning a CLI per poll would measure Node start-up, not the agent).
 */
import { clearTimeout, setTimeout } from 'node:timers';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { callSocket } from '../dist/adapters/socket.adapter.js';
import {
  CLI,
  alice,
  aliceHome,
  log,
  median,
  procCpuTicks,
  procStatusKb,
  quantile,
  resetAlice,
  sleep,
  uniquify,
} from './lib.mjs';

function readStatus(home) {
  try {
    return JSON.parse(fs.readFileSync(path.join(home.home, 'status.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

async function op(home, name, params) {
  try {
    const res = await callSocket(path.join(home.home, 'agent.sock'), name, params, 30_000);
    return res.ok ? res.result : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `alice watch`; resolves once the socket answers and the status says watching. */
async function startAgent(home, timeoutS = 600) {
  const logFile = fs.openSync(path.join(home.home, 'bench-agent.out'), 'a');
  const child = spawn(process.execPath, [CLI, 'watch'], {
    env: { ...process.env, ...home.env },
    stdio: ['ignore', logFile, logFile],
  });
  fs.closeSync(logFile);
  let exited = false;
  const exit = new Promise((r) => child.on('exit', (code) => ((exited = true), r(code))));
  const t0 = performance.now();
  while (!exited && performance.now() - t0 < timeoutS * 1000) {
    const s = readStatus(home);
    if (
      s?.pid === child.pid &&
      s.state === 'watching' &&
      (await op(home, 'search', { limit: 1 })) !== undefined
    )
      break;
    await sleep(100);
  }
  if (exited) throw new Error(`alice watch exited early; see ${home.home}/bench-agent.out`);
  return {
    pid: child.pid,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exit;
      clearTimeout(killer);
    },
  };
}

async function total(home) {
  return (await op(home, 'search', { limit: 1 }))?.total;
}

/** Waits until the agent has `n` assets and an empty queue; returns seconds or undefined on timeout. */
async function waitIndexed(home, n, t0, timeoutS) {
  while (performance.now() - t0 < timeoutS * 1000) {
    const s = readStatus(home);
    const q = s?.queue;
    if ((await total(home)) >= n && q && q.pending_paths === 0 && q.in_flight === 0)
      return (performance.now() - t0) / 1000;
    await sleep(200);
  }
  return undefined;
}

function dirs(prefix) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const root = path.join(base, 'root');
  const staging = path.join(base, 'staging');
  fs.mkdirSync(root);
  fs.mkdirSync(staging);
  return { base, root, staging, remove: () => fs.rmSync(base, { recursive: true, force: true }) };
}

/** Drops images one at a time; landing = the rename into the watched folder. */
export async function latencyBench({ images, drops }) {
  const d = dirs('alice-bench-lat-');
  const home = aliceHome([d.root]);
  const agent = await startAgent(home);
  const ms = [];
  try {
    for (let i = 0; i < drops; i++) {
      const src = images[i % images.length];
      const name = `drop-${i}${path.extname(src)}`;
      const buf = uniquify(fs.readFileSync(src), `lat-${i}`) ?? fs.readFileSync(src);
      fs.writeFileSync(path.join(d.staging, name), buf);
      const target = path.join(d.root, name);
      const t0 = performance.now();
      fs.renameSync(path.join(d.staging, name), target);
      let found = false;
      while (!found && performance.now() - t0 < 30_000) {
        found = (await op(home, 'asset.show', { ref: target }))?.indexed === true;
        if (!found) await sleep(20);
      }
      ms.push(found ? performance.now() - t0 : NaN);
    }
  } finally {
    await agent.stop();
    home.remove();
    d.remove();
  }
  const ok = ms.filter(Number.isFinite);
  const [p50, p95] = [quantile(ok, 0.5) / 1000, quantile(ok, 0.95) / 1000];
  log(
    `watch latency over ${drops} drops: p50 ${p50.toFixed(2)} s, p95 ${p95.toFixed(2)} s, ${drops - ok.length} not found in 30 s`,
  );
  const base = { section: 'agent', unit: 's', samples: { ms, lost: drops - ok.length } };
  return [
    {
      ...base,
      metric: `watch latency p50 (${drops} drops, landing → returned)`,
      value: p50,
      goal: '≤ 1 s',
      pass: p50 <= 1 && ok.length === drops,
    },
    {
      ...base,
      metric: `watch latency p95 (${drops} drops)`,
      value: p95,
      goal: '≤ 2 s',
      pass: p95 <= 2 && ok.length === drops,
    },
  ];
}

/** Writes `n` distinct images (corpus PNG/JPEG with a marker) into staging sub-folders. */
function stageBurst(images, n, staging) {
  const usable = images.filter((f) => /\.(png|jpe?g)$/i.test(f));
  const rels = [];
  for (let i = 0; i < n; i++) {
    const src = usable[i % usable.length];
    const rel = path.join(
      `b${String(Math.floor(i / 250)).padStart(3, '0')}`,
      `burst-${i}${path.extname(src)}`,
    );
    fs.mkdirSync(path.join(staging, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(staging, rel), uniquify(fs.readFileSync(src), `burst-${i}`));
    rels.push(rel);
  }
  return rels;
}

/** A burst of `n` images renamed into the watched root at once, then a cold rebuild of the same files. */
export async function burstBench({ images, n, runs }) {
  const d = dirs('alice-bench-burst-');
  const home = aliceHome([d.root]);
  const rows = [];
  try {
    log(`burst: staging ${n} images`);
    const rels = stageBurst(images, n, d.staging);
    for (const sub of new Set(rels.map((r) => path.dirname(r)))) fs.mkdirSync(path.join(d.root, sub));
    const agent = await startAgent(home);
    const t0 = performance.now();
    for (const rel of rels) fs.renameSync(path.join(d.staging, rel), path.join(d.root, rel));
    const secs = await waitIndexed(home, n, t0, Math.max(600, n * 2));
    const hwm = procStatusKb(agent.pid, 'VmHWM') / 1024;
    const counters = readStatus(home)?.counters;
    const assets = await total(home);
    await agent.stop();
    log(
      `burst: ${n} images in ${secs?.toFixed(1)} s, indexed counter ${counters?.indexed}, assets ${assets}, peak ${hwm.toFixed(0)} MB`,
    );
    const reb = [];
    for (let i = 0; i < runs; i++) {
      resetAlice(home, [d.root]);
      reb.push((await alice(home, ['index', 'rebuild'])).seconds);
    }
    const agentRate = secs === undefined ? NaN : n / secs;
    const rebRate = n / median(reb);
    rows.push(
      {
        section: 'agent',
        metric: `burst of ${n}: images/s (vs alice index rebuild)`,
        value: agentRate,
        unit: 'files/s',
        peer: 'alice index rebuild',
        peer_value: rebRate,
        ratio: agentRate / rebRate,
        goal: 'ratio ≥ 0.8',
        pass: agentRate / rebRate >= 0.8,
        samples: { burst_s: secs, rebuild_s: reb },
      },
      {
        section: 'agent',
        metric: `burst of ${n}: indexed exactly once`,
        value: counters?.indexed,
        unit: 'files',
        goal: `${n}`,
        pass: counters?.indexed === n && assets === n,
        detail: `assets in index ${assets}, errors ${counters?.errors}`,
      },
      {
        section: 'agent',
        metric: `burst of ${n}: agent peak RSS`,
        value: hwm,
        unit: 'MB',
        goal: '≤ 400 MB',
        pass: hwm <= 400,
      },
    );
  } finally {
    home.remove();
    d.remove();
  }
  return rows;
}

/** CPU% and RSS of a watching agent over `seconds` with nothing changing; `home` may hold an index of `root` already. */
export async function idleBench({ root, home: indexed, count, dirCount, seconds }) {
  const home = indexed ?? aliceHome([root]);
  try {
    if (indexed === undefined) {
      log(`idle: indexing ${count} files in ${dirCount} folders (setup)`);
      await alice(home, ['index', 'rebuild']);
    }
    const agent = await startAgent(home);
    try {
      await waitIndexed(home, count, performance.now(), 600);
      await sleep(5000);
      const c0 = procCpuTicks(agent.pid);
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const cpu = ((procCpuTicks(agent.pid) - c0) / 100 / ((performance.now() - t0) / 1000)) * 100;
      const rss = procStatusKb(agent.pid, 'VmRSS') / 1024;
      log(`idle over ${count} files: CPU ${cpu.toFixed(2)}%, RSS ${rss.toFixed(0)} MB`);
      const label = `${count} files in ${dirCount} folders, ${seconds} s`;
      return [
        {
          section: 'agent',
          metric: `idle CPU (${label})`,
          value: cpu,
          unit: '%',
          goal: '≤ 1%',
          pass: cpu <= 1,
        },
        {
          section: 'agent',
          metric: `idle RSS (${label})`,
          value: rss,
          unit: 'MB',
          goal: '≤ 200 MB',
          pass: rss <= 200,
        },
      ];
    } finally {
      await agent.stop();
    }
  } finally {
    resetAlice(home, [root]);
    home.remove();
  }
}
