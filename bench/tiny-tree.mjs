/* global console */
/**
 * Trees of many tiny distinct PNGs (an 8×8 picture plus a tEXt chunk naming the file, so every
 * file has its own bytes) for the no-op update and idle benchmarks, where the number of files
 * matters and their size does not. Cached under bench/corpus/tiny-<count>-<dirs>/.
 */
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { CORPUS_DIR, arg, log, pngInsert, pngTextChunk } from './lib.mjs';

/** Returns the root folder holding `count` tiny PNGs spread over `dirs` folders. */
export async function buildTinyTree(count, dirs) {
  const dir = path.join(CORPUS_DIR, `tiny-${count}-${dirs}`);
  const root = path.join(dir, 'files');
  const done = path.join(dir, 'complete');
  if (fs.existsSync(done)) return root;
  fs.rmSync(dir, { recursive: true, force: true });
  log(`tiny tree: writing ${count} files in ${dirs} folders`);
  const raw = Buffer.alloc(8 * 8 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) & 0xff;
  const png = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
    .png()
    .toBuffer();
  for (let d = 0; d < dirs; d++)
    fs.mkdirSync(path.join(root, `d${String(d).padStart(5, '0')}`), { recursive: true });
  for (let i = 0; i < count; i++) {
    const rel = path.join(`d${String(i % dirs).padStart(5, '0')}`, `t${String(i).padStart(6, '0')}.png`);
    fs.writeFileSync(path.join(root, rel), pngInsert(png, pngTextChunk('bench', rel)));
  }
  fs.writeFileSync(done, '');
  return root;
}

// `node bench/tiny-tree.mjs --files N --dirs M` builds (or finds) a tree and prints its root, for
// timing `alice index rebuild` on it by hand (bench/README.md, "Indexing many tiny files").
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await buildTinyTree(arg('files', 10000), arg('dirs', 100)));
}
