#!/usr/bin/env node
/* global console */
/**
 * Benchmark corpus: realistic 1024×1024 images (gradients, shapes, fine noise, so they compress
 * like real pictures) as PNG/JPEG/WebP, exact copies, near-duplicate variants (resized 50%, JPEG
 * q70, brightness +10%, 5% crop), AUTOMATIC1111 `parameters` chunks on some PNGs, and a few
 * ffmpeg test videos. Ground truth goes to manifest.json. Cached under
 * bench/corpus/<params-hash>/ so repeated runs reuse it (delete the folder to regenerate).
 *
 *   node bench/corpus.mjs [--images 2000] [--seed 1]
 */
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { CORPUS_DIR, arg, log, pngInsert, pngTextChunk, rng, which } from './lib.mjs';

const VERSION = 3;
const SIZE = 1024;
export const VARIANT_KINDS = ['resize50', 'jpeg70', 'bright10', 'crop5'];
const EXT = { png: 'png', jpeg: 'jpg', webp: 'webp' };
const PROMPTS = [
  'a lighthouse on a cliff at dusk, oil painting, dramatic sky',
  'portrait of an astronaut cat, studio lighting, 85mm',
  'isometric city block, pastel colors, low poly',
  'misty pine forest, morning fog, volumetric light',
  'retro robot in a diner, 1950s poster style',
];

function sceneSvg(r) {
  const hsl = (a = 1) =>
    `hsla(${Math.floor(r() * 360)},${25 + Math.floor(r() * 65)}%,${15 + Math.floor(r() * 70)}%,${a})`;
  const shapes = [];
  for (let i = 0, n = 8 + Math.floor(r() * 18); i < n; i++) {
    const [x, y, s] = [r() * SIZE, r() * SIZE, SIZE * (0.03 + r() * 0.28)];
    const op = (0.5 + r() * 0.5).toFixed(2);
    const k = r();
    if (k < 0.4) shapes.push(`<circle cx="${x}" cy="${y}" r="${s}" fill="${hsl(op)}"/>`);
    else if (k < 0.75)
      shapes.push(
        `<rect x="${x - s}" y="${y - s / 2}" width="${2 * s}" height="${s}" fill="${hsl(op)}" transform="rotate(${Math.floor(r() * 90)} ${x} ${y})"/>`,
      );
    else {
      const pts = [0, 1, 2].map(() => `${x + (r() - 0.5) * 2 * s},${y + (r() - 0.5) * 2 * s}`).join(' ');
      shapes.push(`<polygon points="${pts}" fill="${hsl(op)}"/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}"><defs>
    <linearGradient id="g" x1="0" y1="0" x2="${r().toFixed(2)}" y2="1"><stop offset="0" stop-color="${hsl()}"/><stop offset="1" stop-color="${hsl()}"/></linearGradient>
    <radialGradient id="v"><stop offset="0.4" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.5"/></radialGradient>
    </defs>
    <rect width="100%" height="100%" fill="url(#g)"/><g>${shapes.join('')}</g>
    <rect width="100%" height="100%" fill="url(#v)"/></svg>`;
}

/** Fine grey noise (an alpha-weighted layer), made once per worker: film grain for the encoders. */
let noiseLayers;
function noiseLayer(seed) {
  if (noiseLayers === undefined) {
    noiseLayers = [1, 2, 3].map((n) => {
      const r = rng(n * 7919);
      const buf = Buffer.alloc(SIZE * SIZE * 2);
      for (let i = 0; i < buf.length; i += 2) {
        buf[i] = Math.floor(r() * 256);
        buf[i + 1] = 12;
      }
      return buf;
    });
  }
  return noiseLayers[seed % noiseLayers.length];
}

/** A scene with grain, as a sharp pipeline ready to encode. */
function baseImage(seed) {
  return sharp(Buffer.from(sceneSvg(rng(seed))))
    .composite([{ input: noiseLayer(seed), raw: { width: SIZE, height: SIZE, channels: 2 } }])
    .removeAlpha();
}

function encode(img, format) {
  if (format === 'png') return img.png({ compressionLevel: 6 }).toBuffer();
  if (format === 'jpeg') return img.jpeg({ quality: 90 }).toBuffer();
  return img.webp({ quality: 85, effort: 2 }).toBuffer();
}

function a1111(seed) {
  const p = PROMPTS[seed % PROMPTS.length];
  return `${p}\nNegative prompt: blurry, lowres\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: ${seed}, Size: 1024x1024, Model hash: 31e35c80fc, Model: sdxl_base_1.0`;
}

/** One job in a worker: a base image, or a variant of an existing file. */
async function doJob(job) {
  let buf;
  if (job.type === 'base') {
    buf = await encode(baseImage(job.seed), job.format);
    if (job.prompt) buf = pngInsert(buf, pngTextChunk('parameters', a1111(job.seed)));
  } else {
    const src = sharp(fs.readFileSync(job.source));
    const c = Math.round(SIZE * 0.025);
    if (job.variant === 'resize50') buf = await encode(src.resize(SIZE / 2, SIZE / 2), job.format);
    else if (job.variant === 'jpeg70') buf = await src.jpeg({ quality: 70 }).toBuffer();
    else if (job.variant === 'bright10') buf = await encode(src.modulate({ brightness: 1.1 }), job.format);
    else
      buf = await encode(
        src.extract({ left: c, top: c, width: SIZE - 2 * c, height: SIZE - 2 * c }),
        job.format,
      );
  }
  fs.mkdirSync(path.dirname(job.target), { recursive: true });
  fs.writeFileSync(job.target, buf);
}

if (!isMainThread) {
  sharp.concurrency(1);
  parentPort.on('message', (job) => {
    doJob(job).then(
      () => parentPort.postMessage({ ok: true }),
      (err) => parentPort.postMessage({ ok: false, error: String(err?.stack ?? err) }),
    );
  });
}

/** Runs jobs on `size` worker threads. */
async function pool(jobs, size) {
  let next = 0;
  let done = 0;
  const workers = Array.from(
    { length: Math.min(size, jobs.length) },
    () => new Worker(fileURLToPath(import.meta.url)),
  );
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve, reject) => {
            const feed = () => {
              if (next >= jobs.length) return resolve();
              w.postMessage(jobs[next++]);
            };
            w.on('message', (m) => {
              if (!m.ok) return reject(new Error(m.error));
              if (++done % 100 === 0) log(`corpus: ${done}/${jobs.length} images`);
              feed();
            });
            w.on('error', reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Which files exist and how they relate (the ground truth), before anything is written. */
export function plan(images, seed) {
  const copies = Math.round(images * 0.05);
  const variants = Math.round(images * 0.1);
  const bases = images - copies - variants;
  const formats = (i) => (i % 10 < 5 ? 'png' : i % 10 < 8 ? 'jpeg' : 'webp');
  const files = [];
  for (let i = 0; i < bases; i++) {
    const format = formats(i);
    const rel = `gen/${String(Math.floor(i / 100)).padStart(3, '0')}/img-${String(i).padStart(5, '0')}.${EXT[format]}`;
    const prompt = format === 'png' && i % 4 === 0;
    files.push({ rel, kind: 'base', format, family: rel, seed: seed * 1_000_003 + i, prompt });
  }
  const step = Math.max(1, Math.floor(bases / Math.max(1, variants)));
  for (let j = 0; j < variants; j++) {
    const base = files[(j * step) % bases];
    const variant = VARIANT_KINDS[j % VARIANT_KINDS.length];
    const format = variant === 'jpeg70' ? 'jpeg' : base.format;
    const rel = `variants/${variant}/v-${String(j).padStart(5, '0')}.${EXT[format]}`;
    files.push({ rel, kind: 'variant', variant, format, family: base.family, source: base.rel });
  }
  const copyStep = Math.max(1, Math.floor(bases / Math.max(1, copies)));
  for (let j = 0; j < copies; j++) {
    const base = files[(j * copyStep + 1) % bases];
    const rel = `copies/${String(Math.floor(j / 100)).padStart(2, '0')}/copy-${String(j).padStart(5, '0')}.${EXT[base.format]}`;
    files.push({ rel, kind: 'copy', format: base.format, family: base.family, source: base.rel });
  }
  return files;
}

function makeVideos(root, count) {
  const ffmpeg = which('ffmpeg');
  if (!ffmpeg || count === 0) return [];
  fs.mkdirSync(path.join(root, 'video'), { recursive: true });
  const out = [];
  for (let i = 0; i < count; i++) {
    const rel = `video/clip-${i}.mp4`;
    const res = spawnSync(ffmpeg, [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=24`, '-t', '3'],
      ...['-vf', `hue=h=${i * 60}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
      path.join(root, rel),
    ]);
    if (res.status === 0) out.push({ rel, kind: 'video', format: 'mp4', family: rel });
  }
  return out;
}

function sha256(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Builds (or reuses) the corpus. Returns `{ dir, root, manifest, cached }`; `root` is the folder of
 * media to index; `manifest.files[]` has rel, kind, format, family, sha256, bytes (and variant).
 */
export async function buildCorpus({ images = 2000, seed = 1, videos = 3, workers = 2 } = {}) {
  const params = { version: VERSION, images, seed, videos, size: SIZE };
  const key = createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 12);
  const dir = path.join(CORPUS_DIR, key);
  const root = path.join(dir, 'files');
  const manifestPath = path.join(dir, 'manifest.json');
  if (fs.existsSync(manifestPath)) {
    // The real path: peers such as findimagedupes and rmlint print resolved paths, so a corpus
    // reached through a symlink (a shared cache) must be named the way they name it.
    const real = fs.realpathSync(root);
    return {
      dir: path.dirname(real),
      root: real,
      manifest: JSON.parse(fs.readFileSync(manifestPath, 'utf8')),
      cached: true,
    };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const t0 = performance.now();
  const files = plan(images, seed);
  const abs = (rel) => path.join(root, rel);
  log(`corpus: generating ${images} images of ${SIZE}×${SIZE} with ${workers} workers in ${dir}`);
  await pool(
    files.filter((f) => f.kind === 'base').map((f) => ({ ...f, type: 'base', target: abs(f.rel) })),
    workers,
  );
  await pool(
    files
      .filter((f) => f.kind === 'variant')
      .map((f) => ({ ...f, type: 'variant', source: abs(f.source), target: abs(f.rel) })),
    workers,
  );
  log(`corpus: images done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const f of files.filter((x) => x.kind === 'copy')) {
    fs.mkdirSync(path.dirname(abs(f.rel)), { recursive: true });
    fs.copyFileSync(abs(f.source), abs(f.rel));
  }
  files.push(...makeVideos(root, videos));
  log(`corpus: videos done at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const f of files)
    Object.assign(f, { sha256: sha256(abs(f.rel)), bytes: fs.statSync(abs(f.rel)).size });
  const manifest = {
    params,
    created_at: new Date().toISOString(),
    generation_seconds: (performance.now() - t0) / 1000,
    cpus: os.cpus().length,
    files,
  };
  fs.writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
  return { dir, root, manifest, cached: false };
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  const c = await buildCorpus({ images: arg('images', 2000), seed: arg('seed', 1) });
  const bytes = c.manifest.files.reduce((s, f) => s + f.bytes, 0);
  console.log(
    `${c.root}: ${c.manifest.files.length} files, ${(bytes / 1e6).toFixed(0)} MB, generated in ${c.manifest.generation_seconds.toFixed(0)} s${c.cached ? ' (cached)' : ''}`,
  );
}
