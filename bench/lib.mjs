/**
 * Shared helpers for the benchmarks: arguments, medians, timed child processes with peak RSS,
 * a throwaway ALICE_HOME with a settings file, and the `alice` CLI as a user runs it.
 */
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = path.dirname(BENCH_DIR);
export const CLI = path.join(REPO_DIR, 'dist', 'cli', 'main.js');
export const OUT_DIR = path.join(BENCH_DIR, 'out');
export const CORPUS_DIR = path.join(BENCH_DIR, 'corpus');

/** `--name value` as a number (or string when `asString`), `--flag` as true. */
export function arg(name, fallback, asString = false) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const next = process.argv[i + 1];
  if (typeof fallback === 'boolean') return true;
  if (next === undefined) return fallback;
  return asString ? next : Number(next);
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function quantile(values, q) {
  const v = [...values].sort((a, b) => a - b);
  return v.length === 0 ? NaN : v[Math.min(v.length - 1, Math.floor(q * v.length))];
}

/** Deterministic PRNG (mulberry32): the same seed always gives the same numbers in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Absolute path of a program on PATH, or undefined. */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export const TIME_BIN = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Reads one field (kB) of /proc/<pid>/status, e.g. VmHWM or VmRSS; NaN when gone. */
export function procStatusKb(pid, field) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** utime + stime of a process in clock ticks (USER_HZ, 100 on Linux). */
export function procCpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Runs a command to completion: wall seconds, exit code, stdout/stderr, and peak RSS in MB (from
 * `/usr/bin/time -f %M` when present, else by polling VmHWM, which can miss a late peak).
 */
export function run(cmd, args, opts = {}) {
  const timeFile = TIME_BIN ? path.join(os.tmpdir(), `alice-bench-time-${process.pid}-${Math.random()}`) : '';
  const [bin, argv] = TIME_BIN ? [TIME_BIN, ['-f', '%M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(bin, argv, {
      cwd: opts.cwd ?? REPO_DIR,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let hwm = NaN;
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = TIME_BIN
      ? undefined
      : setInterval(() => {
          const v = procStatusKb(child.pid, 'VmHWM');
          if (Number.isFinite(v)) hwm = Math.max(Number.isFinite(hwm) ? hwm : 0, v);
        }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      if (poll) clearInterval(poll);
      if (TIME_BIN) {
        try {
          hwm = Number(fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop());
          fs.rmSync(timeFile, { force: true });
        } catch {
          /* time could not write: keep NaN */
        }
      }
      const res = { code, seconds, stdout, stderr, peakRssMb: hwm / 1024 };
      if (code !== 0 && !opts.allowFail) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      } else resolve(res);
    });
  });
}

/** A temp ALICE_HOME whose settings.yaml indexes `roots`; `extra` is appended YAML. */
export function aliceHome(roots, extra = '') {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-bench-home-'));
  const yaml = [
    'storage:',
    `  search_db: ${JSON.stringify(path.join(home, 'search.duckdb'))}`,
    '  asset_paths:',
    ...roots.map((r) => `    - ${JSON.stringify(r)}`),
    '  project_paths: []',
    extra,
  ].join('\n');
  fs.writeFileSync(path.join(home, 'settings.yaml'), `${yaml}\n`);
  return {
    home,
    env: { ALICE_HOME: home, ALICE_CONFIG: path.join(home, 'settings.yaml') },
    db: path.join(home, 'search.duckdb'),
    remove: () => fs.rmSync(home, { recursive: true, force: true }),
  };
}

/** Runs `alice --json --no-progress <args>` against a home; parses stdout as JSON when asked. */
export async function alice(home, args, opts = {}) {
  const res = await run(process.execPath, [CLI, '--json', '--no-progress', ...args], {
    ...opts,
    env: { ...home.env, ...opts.env },
  });
  if (opts.json === false) return res;
  try {
    return { ...res, json: JSON.parse(res.stdout) };
  } catch {
    return { ...res, json: undefined };
  }
}

/** Deletes what alice wrote into a root and its index, so the next rebuild starts cold. */
export function resetAlice(home, roots) {
  for (const r of roots) fs.rmSync(path.join(r, '.metadata'), { recursive: true, force: true });
  for (const f of fs.readdirSync(home.home)) {
    if (f.startsWith('search.duckdb')) fs.rmSync(path.join(home.home, f), { force: true });
  }
}

/** Every regular file below `dir` (skipping `.metadata` and hidden entries), sorted. */
export function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

export function totalBytes(files) {
  return files.reduce((s, f) => s + fs.statSync(f).size, 0);
}

/** Reads every file once so the page cache is warm for every tool alike. */
export function warmCache(files) {
  spawnSync('sh', ['-c', 'xargs -0 cat > /dev/null'], { input: files.join('\0') });
}

export function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CRC-32 (PNG chunks). */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
export function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A PNG tEXt chunk (keyword NUL text, Latin-1). */
export function pngTextChunk(keyword, text) {
  const data = Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]);
  const type = Buffer.from('tEXt', 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, data])));
  return Buffer.concat([len, type, data, crc]);
}

/** Inserts chunks right after IHDR (signature 8 bytes + IHDR 25 bytes). */
export function pngInsert(png, ...chunks) {
  return Buffer.concat([png.subarray(0, 33), ...chunks, png.subarray(33)]);
}

/**
 * Distinct bytes, same picture: a PNG gets a tEXt chunk, a JPEG a COM segment after SOI.
 * Returns undefined for formats it cannot mark safely (WebP).
 */
export function uniquify(buf, tag) {
  if (buf[0] === 0x89 && buf[1] === 0x50) return pngInsert(buf, pngTextChunk('bench', tag));
  if (buf[0] === 0xff && buf[1] === 0xd8) {
    const text = Buffer.from(`bench ${tag}`, 'latin1');
    const seg = Buffer.alloc(4);
    seg.writeUInt16BE(0xfffe, 0);
    seg.writeUInt16BE(text.length + 2, 2);
    return Buffer.concat([buf.subarray(0, 2), seg, text, buf.subarray(2)]);
  }
  return undefined;
}
