#!/usr/bin/env node
/**
 * Child process for the hashing benchmarks: hashes the files listed (NUL-separated) in argv[2]
 * with alice's own streamed hasher, `argv[3]` at a time, and prints
 * `{ files, bytes, seconds }` as JSON. Run as its own process so its peak RSS is its own.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { sha256File } from '../dist/adapters/hash.adapter.js';

const files = fs.readFileSync(process.argv[2], 'utf8').split('\0').filter(Boolean);
const concurrency = Number(process.argv[3] ?? 2);
let next = 0;
let bytes = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < files.length) {
      const r = await sha256File(files[next++]);
      bytes += r.size;
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ files: files.length, bytes, seconds })}\n`);
