#!/usr/bin/env node
/* global console */
/**
 * Search benchmark over synthetic rows (build first: `npm run build`).
 *
 *   node bench/search.bench.mjs [--rows 1000000] [--near 100000] [--runs 25] [--brute 10000]
 *
 * Generates `--rows` assets in a temp DuckDB file entirely in SQL (INSERT … SELECT FROM range):
 * 4 tags each from a 200-value vocabulary in 5 categories, prompts of 8–19 distinct words from a
 * 2,000-word vocabulary (a third of the words from the 50 most common), one present location,
 * and pHashes where every tenth asset is a 1–2-bit variant of its neighbour; the rows fill the
 * columns the index's write path fills (asset ids, tag and term keys, document lengths), and tags
 * and terms end sorted by key as after an `index rebuild` (postings carry their asset's sort time,
 * presence and document length, as the write path copies them). Then it times, through
 * the package's `Search` class (the same code path as `alice search`), the p50/p95 of a tag query,
 * a prompt word query and `findSimilar`; and near-duplicate grouping of `--near` pHashes at t = 6
 * by multi-index hashing against brute force measured in the same run (brute force on a
 * `--brute`-sized subsample, extrapolated by n², because the full run would take minutes).
 * Prints a table and writes bench/out/search.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { openDb } from '../dist/adapters/duckdb.adapter.js';
import { AssetRepository } from '../dist/adapters/index/asset.repository.js';
import { indexKeySql, tagKeyTextSql } from '../dist/adapters/index/rows.js';
import { docLenSql, migrate, POSTING_COPY_SQL } from '../dist/adapters/index/schema.js';
import { findNearDuplicates, findNearDuplicatesBruteForce } from '../dist/domain/near-duplicates.js';
import { Search } from '../dist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}

const ROWS = arg('rows', 1_000_000);
const NEAR = Math.min(arg('near', 100_000), ROWS);
const RUNS = arg('runs', 25);
const BRUTE = Math.min(arg('brute', 10_000), NEAR);
/** `--db FILE`: generate into FILE and keep it, or reuse it when it exists (for profiling). */
const DB_AT = process.argv.indexOf('--db') >= 0 ? process.argv[process.argv.indexOf('--db') + 1] : undefined;

/** Bulk SQL over the same columns the index's write path fills (asset.repository.ts upsertAssets). */
const TAG_KEY = indexKeySql(tagKeyTextSql('category', 'value_norm'));
const GENERATE = [
  `CREATE TEMP TABLE words AS SELECT list('w' || x ORDER BY x) AS wl FROM range(2000) t(x)`,
  `CREATE TEMP TABLE vocab AS SELECT list(c || ':' || c || 'v' || x ORDER BY c, x) AS tl
     FROM (VALUES ('style'), ('subject'), ('color'), ('mood'), ('keywords')) cs(c), range(40) r(x)`,
  `CREATE TEMP TABLE gen AS SELECT i, nextval('asset_ids') AS asset_id, sha256(i::VARCHAR) AS h,
     list_distinct([ (hash(i * 7 + k) % 200)::INT + 1 FOR k IN range(4)]) AS tagidx,
     list_distinct([ (CASE WHEN hash(i * 13 + k) % 3 = 0 THEN hash(i * 13 + k) % 50 ELSE hash(i * 13 + k) % 2000 END)::INT + 1
                     FOR k IN range((8 + hash(i) % 12)::BIGINT)]) AS widx
     FROM range(?) t(i)`,
  `INSERT INTO assets (asset_id, doc_len, content_hash, file_path, file_name, file_size, media_type, format, mime,
       width, height, tags, prompt, source, model, created_at, first_seen, updated_at, status, warnings)
     SELECT asset_id, ${docLenSql('prompt', 'NULL::VARCHAR')}, * EXCLUDE (asset_id) FROM (
       SELECT asset_id, h, '/lib/' || (i % 1000) || '/img' || i || '.png', 'img' || i || '.png', 1000 + hash(i) % 5000000,
         CASE WHEN i % 20 = 0 THEN 'video' ELSE 'image' END, CASE WHEN i % 3 = 0 THEN 'jpeg' ELSE 'png' END, NULL,
         256 + (hash(i + 1) % 8) * 128, 256 + (hash(i + 2) % 8) * 128,
         [tl[x] FOR x IN tagidx], array_to_string([wl[x] FOR x IN widx], ' ') AS prompt,
         CASE WHEN i % 4 = 0 THEN 'comfyui' ELSE 'automatic1111' END, 'sdxl',
         TIMESTAMP '2024-01-01' + to_seconds((hash(i) % 31536000)::BIGINT),
         TIMESTAMP '2024-01-01' + to_seconds((hash(i) % 31536000)::BIGINT), NULL, 'present', []
       FROM gen, words, vocab)`,
  `INSERT INTO asset_tags (asset_id, tag_key, category, value, value_norm, source, sort_at, present)
     SELECT asset_id, ${TAG_KEY}, category, value, value_norm, 'user', sort_at, present FROM (
       SELECT asset_id, split_part(t, ':', 1) AS category, split_part(t, ':', 2) AS value,
         lower(split_part(t, ':', 2)) AS value_norm, sort_at, present
       FROM (SELECT asset_id, unnest(tags) AS t, ${POSTING_COPY_SQL} FROM assets a))`,
  `INSERT INTO prompt_terms (term_key, asset_id, tf, term, sort_at, present, doc_len)
     SELECT ${indexKeySql('term')}, g.asset_id, 1, term, ${POSTING_COPY_SQL}, a.doc_len FROM (
       SELECT asset_id, wl[x] AS term FROM (SELECT asset_id, unnest(widx) AS x FROM gen), words) g
     JOIN assets a ON a.asset_id = g.asset_id`,
  `INSERT INTO search_terms SELECT term_key, any_value(term) FROM prompt_terms GROUP BY term_key`,
  `INSERT INTO search_tags SELECT tag_key, any_value(category), any_value(value_norm) FROM asset_tags GROUP BY tag_key`,
  `INSERT INTO locations SELECT file_path, content_hash, content_hash, '/lib', substr(file_path, 6), file_size, 0, 0,
     true, first_seen, first_seen, NULL, asset_id FROM assets`,
  `INSERT INTO perceptual_hashes (content_hash, phash, phash_u64, dhash_u64, ahash_u64)
     SELECT h, lpad(lower(to_hex(p)), 16, '0'), p, hash(h || 'd'), hash(h || 'a') FROM (
       SELECT h, CASE WHEN i % 10 = 0
         THEN xor(hash(i + 1), (1::UBIGINT << (hash(i * 3) % 64)) | (1::UBIGINT << (hash(i * 5) % 64)))
         ELSE hash(i) END AS p FROM gen)`,
  `UPDATE perceptual_hashes SET dhash = lpad(lower(to_hex(dhash_u64)), 16, '0'), ahash = lpad(lower(to_hex(ahash_u64)), 16, '0')`,
  `DROP TABLE gen`,
];

async function generate(file) {
  const reuse = fs.existsSync(file);
  const db = await openDb(file);
  await migrate(db);
  if (!reuse) {
    for (const sql of GENERATE) await db.run(sql, sql.includes('range(?)') ? [ROWS] : []);
    // An index rebuild writes every asset in one pass, which ends with tags and terms sorted by key.
    await new AssetRepository(db).sortSearchTables({ force: true });
  }
  await db.run('CHECKPOINT');
  const sample = await db.all(`SELECT content_hash FROM assets USING SAMPLE 200 ROWS (reservoir, 42)`);
  db.close();
  return { sample: sample.map((r) => r.content_hash) };
}

/**
 * The pHashes near-duplicate grouping runs on, read after the queries were timed, so the timed
 * queries do not run with `--near` row objects held in the heap.
 */
async function nearPhashes(file) {
  const db = await openDb(file, { readOnly: true });
  try {
    return await db.all(`SELECT content_hash, phash FROM perceptual_hashes ORDER BY content_hash LIMIT ?`, [
      NEAR,
    ]);
  } finally {
    db.close();
  }
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function timeQueries(label, n, fn) {
  for (let i = 0; i < 3; i++) await fn(i + 10_000); // warm-up: first touches load column segments
  const ms = [];
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    hits += await fn(i);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { label, runs: n, p50_ms: quantile(ms, 0.5), p95_ms: quantile(ms, 0.95), mean_hits: hits / n };
}

function nearDupBench(phashes) {
  const items = phashes.map((r) => ({ id: r.content_hash, hash: BigInt(`0x${r.phash}`) }));
  let t0 = performance.now();
  const fast = findNearDuplicates(items, { threshold: 6, maxPairs: 0 });
  const fastMs = performance.now() - t0;
  const sub = items.slice(0, BRUTE);
  t0 = performance.now();
  const brute = findNearDuplicatesBruteForce(sub, { threshold: 6, maxPairs: 0 });
  const bruteSubMs = performance.now() - t0;
  const check = findNearDuplicates(sub, { threshold: 6, maxPairs: 0 });
  const same = JSON.stringify(check.groups) === JSON.stringify(brute.groups);
  const bruteMs = bruteSubMs * (items.length / sub.length) ** 2;
  return {
    n: items.length,
    groups: fast.groups.length,
    mih_ms: fastMs,
    brute_subsample: sub.length,
    brute_subsample_ms: bruteSubMs,
    brute_ms_extrapolated: bruteMs,
    extrapolated: sub.length < items.length,
    speedup: bruteMs / fastMs,
    subsample_groups_equal: same,
  };
}

/**
 * The same questions answered by plain DuckDB full scans over the `assets` row (its `tags` list, its
 * prompt text, every pHash), in the same run: the baseline each query's ratio is taken against, and
 * a check that the index answers with the same totals.
 */
async function fullScans(file) {
  const db = await openDb(file, { readOnly: true });
  const top = (where) =>
    `SELECT content_hash, (SELECT count(*) FROM assets a WHERE ${where}) AS total FROM assets a WHERE ${where}
     ORDER BY COALESCE(a.created_at, a.first_seen) DESC NULLS LAST, content_hash LIMIT 50`;
  return {
    tag: async (t) => {
      const rows = await db.all(top(`a.status = 'present' AND list_contains(a.tags, $1)`), [t]);
      return Number(rows[0]?.total ?? 0);
    },
    word: async (w) => {
      const rows = await db.all(
        top(`a.status = 'present' AND list_contains(string_split(lower(a.prompt), ' '), $1)`),
        [w],
      );
      return Number(rows[0]?.total ?? 0);
    },
    similar: async (h) => {
      const rows = await db.all(
        `SELECT p.content_hash, bit_count(xor(p.phash_u64, q.phash_u64)) AS d
         FROM perceptual_hashes p, (SELECT phash_u64 FROM perceptual_hashes WHERE content_hash = ?) q
         WHERE bit_count(xor(p.phash_u64, q.phash_u64)) <= 10 ORDER BY d, p.content_hash LIMIT 51`,
        [h],
      );
      return rows.length;
    },
    close: () => db.close(),
  };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-bench-search-'));
  const file = DB_AT ?? path.join(dir, 'search.duckdb');
  try {
    let t0 = performance.now();
    const { sample } = await generate(file);
    const genS = (performance.now() - t0) / 1000;
    const search = await Search.open(file);
    const scan = await fullScans(file);
    const cats = ['style', 'subject', 'color', 'mood', 'keywords'];
    const tagAt = (i) => `${cats[i % 5]}:${cats[i % 5]}v${(i * 7) % 40}`;
    const wordAt = (i) => `w${i % 2 === 0 ? (i * 11) % 50 : 50 + ((i * 37) % 1950)}`;
    let mismatches = 0;
    const same = (a, b) => {
      if (a !== b) mismatches++;
      return a;
    };
    const pairs = [
      [
        'tag query (1 category:value tag, newest, 50)',
        async (i) => (await search.search({ tags: [tagAt(i)] })).total,
        async (i) => scan.tag(tagAt(i)),
      ],
      [
        'prompt word query (1 word, relevance, 50)',
        async (i) => (await search.search({ prompt: wordAt(i) })).total,
        async (i) => scan.word(wordAt(i)),
      ],
      [
        'find_similar (pHash, t=10, 50)',
        async (i) =>
          (await search.findSimilar({ contentHash: sample[i % sample.length], threshold: 10 })).results
            .length,
        // The scan's list holds the query asset itself (distance 0), which findSimilar leaves out.
        async (i) => (await scan.similar(sample[i % sample.length])) - 1,
      ],
    ];
    const results = [];
    for (const [label, viaIndex, viaScan] of pairs) {
      const fast = await timeQueries(label, RUNS, viaIndex);
      const slow = await timeQueries(`${label}: full scan`, RUNS, viaScan);
      for (let i = 0; i < Math.min(RUNS, 10); i++)
        same(await viaIndex(i), Math.min(await viaScan(i), label.startsWith('find') ? 50 : Infinity));
      results.push({
        ...fast,
        full_scan_p50_ms: slow.p50_ms,
        full_scan_p95_ms: slow.p95_ms,
        ratio: slow.p50_ms / fast.p50_ms,
      });
    }
    scan.close();
    await search.close();
    const near = nearDupBench(await nearPhashes(file));
    const out = {
      rows: ROWS,
      generate_s: genS,
      cpus: os.cpus().length,
      loadavg: os.loadavg(),
      queries: results,
      answers_equal_to_full_scan: mismatches === 0,
      near_duplicates: near,
      note: 'timings are end-to-end through Search (query, total, hydration of 50 rows with locations and tags)',
    };
    printTable(out);
    fs.mkdirSync(path.join(here, 'out'), { recursive: true });
    fs.writeFileSync(path.join(here, 'out', 'search.json'), `${JSON.stringify(out, null, 2)}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(out) {
  const f = (n) => n.toFixed(1).padStart(9);
  console.log(
    `\nsearch bench: ${out.rows.toLocaleString()} assets (generated in ${out.generate_s.toFixed(0)} s), ${out.cpus} CPUs, load ${out.loadavg.map((x) => x.toFixed(1)).join(' ')}`,
  );
  console.log(
    `${'query'.padEnd(48)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'scan p50'.padStart(9)}  ratio  mean hits`,
  );
  for (const q of out.queries)
    console.log(
      `${q.label.padEnd(48)} ${f(q.p50_ms)} ${f(q.p95_ms)} ${f(q.full_scan_p50_ms)}  ${q.ratio.toFixed(1).padStart(5)}×  ${q.mean_hits.toFixed(0)}`,
    );
  console.log(`totals equal to the full-scan answers: ${out.answers_equal_to_full_scan}`);
  const n = out.near_duplicates;
  console.log(`\nnear-duplicate grouping of ${n.n.toLocaleString()} pHashes at t=6: ${n.groups} groups`);
  console.log(`  multi-index hashing: ${(n.mih_ms / 1000).toFixed(2)} s`);
  console.log(
    `  brute force: ${(n.brute_ms_extrapolated / 1000).toFixed(1)} s${n.extrapolated ? ` (extrapolated by n² from ${n.brute_subsample.toLocaleString()} hashes in ${(n.brute_subsample_ms / 1000).toFixed(2)} s)` : ''}`,
  );
  console.log(
    `  ratio: ${n.speedup.toFixed(0)}× faster; subsample groups equal: ${n.subsample_groups_equal}`,
  );
}

await main();
