#!/usr/bin/env node
/**
 * Child process for the decode floor: decodes every image listed (NUL-separated) in argv[2] with
 * sharp as alice's hash pipeline does (shrunk to at most 128 × 128 with Lanczos, JPEG and WebP
 * shrinking on load), `argv[3]` at a time with one libvips thread each, and prints
 * `{ files, seconds }` as JSON. Nothing else is done with the pixels: this is the least time any
 * indexer that decodes every image spends on the corpus on this machine.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import sharp from 'sharp';

sharp.concurrency(1);
sharp.cache(false);
const files = fs.readFileSync(process.argv[2], 'utf8').split('\0').filter(Boolean);
const concurrency = Number(process.argv[3] ?? 2);
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < files.length) {
      const data = fs.readFileSync(files[next++]);
      await sharp(data).resize(128, 128, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ files: files.length, seconds })}\n`);
