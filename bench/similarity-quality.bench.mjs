#!/usr/bin/env node
/* global console */
/**
 * Quality of perceptual-hash similarity (build first: `npm run build`).
 *
 *   node bench/similarity-quality.bench.mjs [--bases 100] [--seed 1]
 *
 * Generates `--bases` unrelated images with sharp (gradient background, random circles and
 * rotated rectangles, fine noise; 256–512 px, random aspect) and four variants of each:
 *   resize   – 50% of the width and height (PNG)
 *   jpeg70   – re-encoded as JPEG quality 70
 *   bright   – brightness +10% (sharp modulate)
 *   crop5    – 5% cropped away (2.5% from each side, so the central 95% × 95% remains)
 * Every file is hashed by alice's own adapter (`analyseImage`, the code the agent runs). For
 * thresholds 4/6/8/10 and each hash kind it reports recall (share of base/variant pairs within
 * the threshold) and the false-positive rate (share of pairs of a base with an unrelated base or
 * with an unrelated base's variant that fall within it). Prints a table, writes
 * bench/out/similarity-quality.json.
 */
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { analyseImage } from '../dist/adapters/sharp.adapter.js';
import { hammingHex, hexToBigInt } from '../dist/domain/perceptual-hash.js';
import { nearDistance } from '../dist/domain/near-duplicates.js';
import { OUT_DIR, arg, rng } from './lib.mjs';

const BASES = arg('bases', 100);
const SEED = arg('seed', 1);
const THRESHOLDS = [4, 6, 8, 10];
// `phash+crops`: what `alice dupes --near` compares (full pHash, and crop pHashes against full).
const KINDS = ['phash+crops', 'phash', 'dhash', 'ahash'];

function distance(kind, a, b) {
  if (kind !== 'phash+crops') return hammingHex(a[kind], b[kind]);
  const item = (h) => ({ id: '', hash: hexToBigInt(h.phash), crops: (h.phash_crops ?? []).map(hexToBigInt) });
  return nearDistance(item(a), item(b));
}
const VARIANTS = ['resize', 'jpeg70', 'bright', 'crop5'];

/** A random scene as a PNG buffer: gradient, 6–20 shapes, grey noise. */
async function baseImage(seed) {
  const r = rng(seed * 9973 + SEED);
  const w = 256 + Math.floor(r() * 257);
  const h = 256 + Math.floor(r() * 257);
  const hue = () =>
    `hsl(${Math.floor(r() * 360)},${30 + Math.floor(r() * 60)}%,${20 + Math.floor(r() * 60)}%)`;
  const shapes = [];
  const count = 6 + Math.floor(r() * 15);
  for (let i = 0; i < count; i++) {
    const x = Math.floor(r() * w);
    const y = Math.floor(r() * h);
    const s = Math.floor(Math.min(w, h) * (0.05 + r() * 0.3));
    shapes.push(
      r() < 0.5
        ? `<circle cx="${x}" cy="${y}" r="${s}" fill="${hue()}"/>`
        : `<rect x="${x - s}" y="${y - s / 2}" width="${s * 2}" height="${s}" fill="${hue()}" transform="rotate(${Math.floor(r() * 90)} ${x} ${y})"/>`,
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="${r().toFixed(2)}" y2="1">
    <stop offset="0" stop-color="${hue()}"/><stop offset="1" stop-color="${hue()}"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${shapes.join('')}</svg>`;
  const noise = Buffer.alloc(w * h * 4);
  for (let i = 0; i < noise.length; i += 4) {
    const v = Math.floor(r() * 256);
    noise[i] = v;
    noise[i + 1] = v;
    noise[i + 2] = v;
    noise[i + 3] = 24;
  }
  const noisePng = await sharp(noise, { raw: { width: w, height: h, channels: 4 } })
    .png()
    .toBuffer();
  const png = await sharp(Buffer.from(svg))
    .composite([{ input: noisePng }])
    .png()
    .toBuffer();
  return { png, w, h };
}

async function variants({ png, w, h }) {
  const cx = Math.round(w * 0.025);
  const cy = Math.round(h * 0.025);
  return {
    resize: await sharp(png)
      .resize(Math.round(w / 2), Math.round(h / 2))
      .png()
      .toBuffer(),
    jpeg70: await sharp(png).jpeg({ quality: 70 }).toBuffer(),
    bright: await sharp(png).modulate({ brightness: 1.1 }).png().toBuffer(),
    crop5: await sharp(png)
      .extract({ left: cx, top: cy, width: w - 2 * cx, height: h - 2 * cy })
      .png()
      .toBuffer(),
  };
}

async function hashes(buf) {
  const res = await analyseImage(buf);
  if (!res.ok) throw new Error(`cannot hash a generated image: ${res.reason}`);
  return res.hashes;
}

function measure(bases, vars) {
  const table = {};
  for (const kind of KINDS) {
    table[kind] = {};
    for (const v of VARIANTS) {
      const own = bases.map((b, i) => distance(kind, b, vars[i][v]));
      const others = [];
      for (let i = 0; i < bases.length; i++)
        for (let j = 0; j < bases.length; j++) if (i !== j) others.push(distance(kind, bases[i], vars[j][v]));
      table[kind][v] = Object.fromEntries(
        THRESHOLDS.map((t) => [
          t,
          {
            recall: own.filter((d) => d <= t).length / own.length,
            false_positive_rate: others.filter((d) => d <= t).length / others.length,
          },
        ]),
      );
    }
    const pairs = [];
    for (let i = 0; i < bases.length; i++)
      for (let j = i + 1; j < bases.length; j++) pairs.push(distance(kind, bases[i], bases[j]));
    table[kind].unrelated_bases = Object.fromEntries(
      THRESHOLDS.map((t) => [t, { false_positive_rate: pairs.filter((d) => d <= t).length / pairs.length }]),
    );
  }
  return table;
}

function pct(x) {
  return `${(x * 100).toFixed(1)}%`.padStart(7);
}

function print(table) {
  for (const kind of KINDS) {
    console.log(`\n${kind}: recall / false-positive rate by threshold (${BASES} bases)`);
    console.log(`${'variant'.padEnd(16)}${THRESHOLDS.map((t) => `t=${t}`.padStart(17)).join('')}`);
    for (const v of VARIANTS) {
      const cells = THRESHOLDS.map(
        (t) => `${pct(table[kind][v][t].recall)} / ${pct(table[kind][v][t].false_positive_rate)}`,
      );
      console.log(`${v.padEnd(16)}${cells.map((c) => c.padStart(17)).join('')}`);
    }
    const u = THRESHOLDS.map((t) => `      - / ${pct(table[kind].unrelated_bases[t].false_positive_rate)}`);
    console.log(`${'base vs base'.padEnd(16)}${u.map((c) => c.padStart(17)).join('')}`);
  }
}

async function main() {
  const t0 = performance.now();
  const bases = [];
  const vars = [];
  for (let i = 0; i < BASES; i++) {
    const img = await baseImage(i + 1);
    bases.push(await hashes(img.png));
    const v = await variants(img);
    const hv = {};
    for (const name of VARIANTS) hv[name] = await hashes(v[name]);
    vars.push(hv);
  }
  const table = measure(bases, vars);
  print(table);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`\n${BASES * 5} images generated and hashed in ${seconds.toFixed(1)} s`);
  const out = {
    bases: BASES,
    seed: SEED,
    thresholds: THRESHOLDS,
    variants: VARIANTS,
    seconds,
    results: table,
  };
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, 'similarity-quality.json'), `${JSON.stringify(out, null, 2)}\n`);
}

await main();
