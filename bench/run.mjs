#!/usr/bin/env node
/**
 * `npm run bench`: builds (or reuses) the corpus, runs every benchmark, prints one table and
 * writes it as JSON to bench/out/report-<timestamp>.json and bench/out/latest.json.
 * Options and what each row means: bench/README.md.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { burstBench, idleBench, latencyBench } from './agent.bench.mjs';
import { buildCorpus } from './corpus.mjs';
import { exactDupesBench, nearDupesBench } from './dupes.bench.mjs';
import { externalRows } from './external.mjs';
import { bigFileBench, hashingBench } from './hash.bench.mjs';
import { noopBench, rebuildBench } from './index.bench.mjs';
import { BENCH_DIR, OUT_DIR, alice, aliceHome, arg, log, resetAlice } from './lib.mjs';
import { printTable } from './table.mjs';
import { buildTinyTree } from './tiny-tree.mjs';

const quick = arg('quick', false);
const q = (full, small) => (quick ? small : full);
const opts = {
  quick,
  runs: arg('runs', q(3, 1)),
  images: arg('images', q(2000, 200)),
  seed: arg('seed', 1),
  videos: arg('videos', q(3, 1)),
  bigGb: arg('big-gb', q(2, 0.25)),
  noopFiles: arg('noop-files', q(10_000, 1000)),
  drops: arg('drops', q(20, 5)),
  burst: arg('burst', q(5000, 100)),
  idleFiles: arg('idle-files', q(100_000, 1000)),
  idleDirs: arg('idle-dirs', q(5000, 10)),
  idleSeconds: arg('idle-seconds', q(30, 10)),
  searchRows: arg('search-rows', q(1_000_000, 20_000)),
  bases: arg('bases', q(100, 20)),
  serveAssets: arg('serve-assets', q(10_000, 1000)),
  only: arg('only', '', true).split(',').filter(Boolean),
  skip: arg('skip', '', true).split(',').filter(Boolean),
};
const noopDirs = () => Math.max(1, Math.round(opts.noopFiles / 100));
const wanted = (s) => (opts.only.length === 0 || opts.only.includes(s)) && !opts.skip.includes(s);

const rows = [];
const external = {};

/** Runs one section; a failure becomes a row saying so and the bench goes on. */
async function section(name, fn, always = false) {
  if (!always && !wanted(name)) return;
  const t0 = performance.now();
  log(`— ${name}`);
  try {
    rows.push(...(await fn()));
  } catch (err) {
    log(`${name} failed: ${err?.stack ?? err}`);
    rows.push({
      section: name,
      metric: name,
      error: String(err?.message ?? err)
        .split('\n')[0]
        .slice(0, 200),
    });
  }
  log(`— ${name} took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

/** Runs another engineer's bench script if it exists; its JSON lands in bench/out/<name>.json. */
function spawnScript(script, args) {
  const file = path.join(BENCH_DIR, script);
  if (!fs.existsSync(file)) return Promise.resolve(`bench/${script} not found`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 2, 2] });
    child.on('exit', (code) => resolve(code === 0 ? undefined : `bench/${script} exited ${code}`));
  });
}

async function externalSection(name, script, args, outName) {
  await section(name, async () => {
    const out = path.join(OUT_DIR, outName);
    const t0 = Date.now();
    const failed = await spawnScript(script, args);
    if (failed) return [{ section: name, metric: name, skipped: failed }];
    if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < t0)
      return [{ section: name, metric: name, error: `${outName} not written` }];
    external[name] = JSON.parse(fs.readFileSync(out, 'utf8'));
    return externalRows(name, external[name]);
  });
}

async function main() {
  const started = new Date();
  const load0 = os.loadavg();
  let corpus;
  let files = [];
  let bytes = 0;
  const corpusSections = ['hashing', 'index', 'dupes', 'near', 'latency', 'burst'];
  if (corpusSections.some(wanted) || wanted('corpus')) {
    // Built (or taken from the cache) whenever a section needs it, even with --only that omits it.
    await section(
      'corpus',
      async () => {
        corpus = await buildCorpus({ images: opts.images, videos: opts.videos, seed: opts.seed });
        files = corpus.manifest.files.map((f) => path.join(corpus.root, f.rel));
        bytes = corpus.manifest.files.reduce((s, f) => s + f.bytes, 0);
        // A run that was interrupted may have left sidecars in the cached corpus.
        fs.rmSync(path.join(corpus.root, '.metadata'), { recursive: true, force: true });
        const m = corpus.manifest;
        const count = (k) => m.files.filter((f) => f.kind === k).length;
        return [
          {
            section: 'corpus',
            metric: `corpus: ${count('base')} images + ${count('copy')} copies + ${count('variant')} variants + ${count('video')} videos`,
            value: bytes / 1e6,
            unit: 'MB',
            detail: `generated in ${m.generation_seconds.toFixed(0)} s on ${m.cpus} CPUs${corpus.cached ? ' (cached)' : ''}`,
            samples: { dir: corpus.dir, generation_seconds: m.generation_seconds, cached: corpus.cached },
          },
        ];
      },
      true,
    );
  }
  if (corpus) await corpusBenches(corpus, files, bytes);
  await section('bigfile', () => bigFileBench({ gb: opts.bigGb, runs: opts.runs }));
  // When the idle tree is the no-op tree (as in --quick), the idle run reuses its index.
  const shared = opts.idleFiles === opts.noopFiles && opts.idleDirs === noopDirs() ? {} : undefined;
  await section('noop', async () => {
    const root = await buildTinyTree(opts.noopFiles, noopDirs());
    const home = aliceHome([root]);
    try {
      return await noopBench({ home, root, count: opts.noopFiles, runs: opts.runs });
    } finally {
      if (shared && wanted('idle')) Object.assign(shared, { home, root });
      else {
        resetAlice(home, [root]);
        home.remove();
      }
    }
  });
  await section('idle', async () => {
    const root = shared?.root ?? (await buildTinyTree(opts.idleFiles, opts.idleDirs));
    return idleBench({
      root,
      home: shared?.home,
      count: opts.idleFiles,
      dirCount: opts.idleDirs,
      seconds: opts.idleSeconds,
    });
  });
  await externalSection(
    'search',
    'search.bench.mjs',
    ['--rows', String(opts.searchRows), '--near', String(Math.min(100_000, opts.searchRows))],
    'search.json',
  );
  await externalSection('serve', 'serve.bench.mjs', ['--assets', String(opts.serveAssets)], 'serve.json');
  await externalSection(
    'similarity',
    'similarity-quality.bench.mjs',
    ['--bases', String(opts.bases)],
    'similarity-quality.json',
  );
  const report = {
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      mem_gb: os.totalmem() / 2 ** 30,
      node: process.version,
      loadavg_start: load0,
      loadavg_end: os.loadavg(),
    },
    options: opts,
    rows,
    external,
  };
  printTable(report);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const text = `${JSON.stringify(report, null, 2)}\n`;
  fs.writeFileSync(path.join(OUT_DIR, `report-${stamp}.json`), text);
  fs.writeFileSync(path.join(OUT_DIR, 'latest.json'), text);
  log(`wrote bench/out/report-${stamp}.json and bench/out/latest.json`);
}

async function corpusBenches(corpus, files, bytes) {
  const { root, manifest } = corpus;
  const images = files.filter((f) => /\.(png|jpe?g|webp)$/i.test(f) && f.includes('/gen/'));
  await section('hashing', () => hashingBench({ files, bytes, runs: opts.runs }));
  const home = aliceHome([root]);
  let rebuildSeconds;
  try {
    await section('index', async () => {
      const r = await rebuildBench({ home, root, files, bytes, runs: opts.runs });
      rebuildSeconds = r.rebuildSeconds;
      return r.rows;
    });
    if (wanted('dupes') || wanted('near')) {
      if (rebuildSeconds === undefined) {
        resetAlice(home, [root]);
        await section(
          'index-setup',
          async () => {
            await alice(home, ['index', 'rebuild']);
            return [];
          },
          true,
        );
      }
      await section('dupes', () =>
        exactDupesBench({ home, root, manifest, runs: opts.runs, rebuildSeconds }),
      );
      await section('near', () =>
        nearDupesBench({
          home,
          root,
          manifest,
          runs: opts.runs,
          rebuildSeconds,
          files: files.length,
          imageFiles: files.filter((f) => /\.(png|jpe?g|webp)$/i.test(f)),
        }),
      );
    }
  } finally {
    resetAlice(home, [root]);
    home.remove();
  }
  await section('latency', () => latencyBench({ images, drops: opts.drops }));
  await section('burst', () => burstBench({ images, n: opts.burst, runs: opts.runs }));
}

await main();
