/**
 * The bad-input corpus: more than twenty kinds of broken, hostile or odd files, each made for real
 * in the test (sharp, ffmpeg, hand-built PNG chunks, FIFOs, symlinks, raw-byte names), each with
 * the outcome alice must record for it:
 *
 * - `error`: not indexed; a per-file error with this code in `alice index update --json`;
 * - `warning`: indexed (the file is content, its hash is known) with a sidecar warning that says why
 *   it could not be read;
 * - `ok`: indexed cleanly (odd but valid);
 * - `ignored`: never indexed and never an error (partial downloads, hidden files, a file that was
 *   gone before the agent looked).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { chunk, tEXt } from '../generation/png-helpers.js';
import { hasFfmpeg, imageBytes, noisePixels, writeMp4 } from '../helpers/fixtures.js';

export type Outcome =
  | { kind: 'error'; code: string; message: RegExp }
  | { kind: 'warning'; warning: RegExp }
  | { kind: 'ok' }
  | { kind: 'ignored' };

export interface BadFile {
  /** What is wrong with it (for messages). */
  readonly label: string;
  /** Path below the root, as a Buffer-free string (see `rawName` for a non-UTF-8 name). */
  readonly rel: string;
  readonly outcome: Outcome;
}

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG whose header claims `width`×`height` (grey, 8 bit) around a tiny, valid zlib stream. */
export function pngWithHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    PNG_SIG,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Flips the CRC of the first IDAT chunk of a PNG. */
export function breakIdatCrc(png: Buffer): Buffer {
  const out = Buffer.from(png);
  let at = 8;
  while (at + 12 <= out.length) {
    const len = out.readUInt32BE(at);
    const type = out.subarray(at + 4, at + 8).toString('latin1');
    if (type === 'IDAT') {
      const crcAt = at + 8 + len;
      out.writeUInt32BE((out.readUInt32BE(crcAt) ^ 0xffffffff) >>> 0, crcAt);
      return out;
    }
    at += 12 + len;
  }
  throw new Error('no IDAT chunk');
}

/** A real PNG with extra chunks before IEND and bytes after it. */
async function pngAround(seed: number, chunks: Buffer[], trailing?: Buffer): Promise<Buffer> {
  const png = await imageBytes('png', seed, 32);
  const iend = png.length - 12;
  return Buffer.concat([
    png.subarray(0, iend),
    ...chunks,
    png.subarray(iend),
    ...(trailing ? [trailing] : []),
  ]);
}

/** A highly compressible, flat PNG of `side`×`side` pixels (a decompression bomb). */
export async function bombPng(side: number): Promise<Buffer> {
  return sharp({
    create: { width: side, height: side, channels: 3, background: '#808080' },
    limitInputPixels: false,
  })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

function write(root: string, rel: string, data: Buffer | string): void {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, data);
}

const UNREADABLE =
  /cannot (be )?decode|corrupt|truncat|unsupported|premature|failed|invalid|bad|error|too large|pixel/i;

/** The raw bytes of the file name that is not valid UTF-8. */
export const BAD_UTF8_NAME = Buffer.concat([
  Buffer.from('bad-'),
  Buffer.from([0xff, 0xfe]),
  Buffer.from('.png'),
]);

/**
 * Writes every static kind of the corpus below `root` and returns what each must yield. The
 * dynamic kinds (a vanishing file, a file growing while it is hashed, many files in one folder)
 * are made by the test itself while the agent runs.
 */
export async function writeCorpus(root: string): Promise<BadFile[]> {
  const files: BadFile[] = [];
  const add = (label: string, rel: string, outcome: Outcome): void =>
    void files.push({ label, rel, outcome });
  const png = await imageBytes('png', 501, 64);
  const jpg = await imageBytes('jpeg', 502, 64);
  const webp = await imageBytes('webp', 503, 64);

  write(root, 'empty.png', Buffer.alloc(0));
  add('empty file', 'empty.png', { kind: 'error', code: 'EEMPTY', message: /empty/ });
  write(root, 'truncated.png', png.subarray(0, Math.floor(png.length * 0.6)));
  add('truncated PNG', 'truncated.png', { kind: 'warning', warning: UNREADABLE });
  write(root, 'truncated.jpg', jpg.subarray(0, Math.floor(jpg.length * 0.5)));
  add('truncated JPEG', 'truncated.jpg', { kind: 'warning', warning: UNREADABLE });
  write(root, 'truncated.webp', webp.subarray(0, Math.floor(webp.length * 0.5)));
  add('truncated WebP', 'truncated.webp', { kind: 'warning', warning: UNREADABLE });
  write(root, 'jpeg-bytes.png', await imageBytes('jpeg', 504, 48));
  add('JPEG bytes named .png', 'jpeg-bytes.png', {
    kind: 'warning',
    warning: /JPEG content with \.png extension/,
  });
  write(root, 'text.jpg', 'this is not an image, just some text\n'.repeat(20));
  add('text named .jpg', 'text.jpg', { kind: 'warning', warning: UNREADABLE });
  write(root, 'huge-header.png', pngWithHeader(100_000, 100_000));
  add('100000×100000 header in a tiny file', 'huge-header.png', {
    kind: 'warning',
    warning: /too large|pixel/i,
  });
  write(root, 'zero-width.png', pngWithHeader(0, 16));
  add('zero-pixel PNG', 'zero-width.png', { kind: 'warning', warning: UNREADABLE });
  write(
    root,
    'one-pixel.png',
    await sharp(noisePixels(505, 1, 1), { raw: { width: 1, height: 1, channels: 3 } })
      .png()
      .toBuffer(),
  );
  add('1×1 image', 'one-pixel.png', { kind: 'ok' });
  write(root, 'bad-crc.png', breakIdatCrc(png));
  add('corrupt chunk (bad IDAT CRC)', 'bad-crc.png', { kind: 'warning', warning: UNREADABLE });
  write(
    root,
    'after-iend.png',
    await pngAround(506, [], Buffer.from('trailing text after IEND\n'.repeat(50))),
  );
  add('text after IEND', 'after-iend.png', { kind: 'ok' });
  write(
    root,
    'big-text.png',
    await pngAround(507, [tEXt('parameters', `${'word '.repeat(1_200_000)}\nSteps: 20`)]),
  );
  add('6 MB text chunk', 'big-text.png', { kind: 'warning', warning: /cap|too large|cut|limit|skipped/i });
  const [bomb, bigFlat] = await Promise.all([bombPng(20_000), bombPng(12_000)]);
  if (bomb.length > 4 * 1024 * 1024) throw new Error(`the bomb is not small: ${bomb.length} bytes`);
  write(root, 'bomb.png', bomb);
  add('decompression bomb (20000×20000 flat PNG)', 'bomb.png', {
    kind: 'warning',
    warning: /too large|pixel/i,
  });
  write(root, 'big-flat.png', bigFlat);
  add('12000×12000 flat PNG under the pixel limit', 'big-flat.png', { kind: 'ok' });
  write(root, 'garbage.mp4', noisePixels(508, 128, 128));
  add('binary garbage .mp4', 'garbage.mp4', {
    kind: 'warning',
    warning: /ffprobe|ffmpeg|corrupt|invalid|no video|failed/i,
  });
  if (hasFfmpeg()) {
    const full = path.join(root, 'truncated-moov.mp4');
    const mp4 = writeMp4(full, 509);
    fs.writeFileSync(full, mp4.subarray(0, Math.floor(mp4.length * 0.6)));
    add('MP4 with a truncated moov', 'truncated-moov.mp4', {
      kind: 'warning',
      warning: /ffprobe|ffmpeg|moov|corrupt|invalid|failed/i,
    });
  }
  execFileSync('mkfifo', [path.join(root, 'fifo.png')]);
  // Not a regular file: skipped like every FIFO, socket or device, and never opened (it would block).
  add('FIFO named .png', 'fifo.png', { kind: 'ignored' });
  await writeDirNamedJpg(root, add);
  fs.symlinkSync(path.join(root, 'nowhere.png'), path.join(root, 'broken-link.png'));
  add('broken symlink', 'broken-link.png', { kind: 'error', code: 'ENOENT', message: /broken symlink/ });
  fs.symlinkSync('loop-b.png', path.join(root, 'loop-a.png'));
  fs.symlinkSync('loop-a.png', path.join(root, 'loop-b.png'));
  add('symlink loop (a)', 'loop-a.png', { kind: 'error', code: 'ELOOP', message: /symlink loop/ });
  add('symlink loop (b)', 'loop-b.png', { kind: 'error', code: 'ELOOP', message: /symlink loop/ });
  // A folder linking to the root: never walked (the test checks nothing is indexed through it).
  fs.symlinkSync('.', path.join(root, 'loop-dir'));
  fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/`), BAD_UTF8_NAME]), png);
  add('invalid UTF-8 name', 'bad-\uFFFD\uFFFD.png', { kind: 'error', code: 'EBADNAME', message: /UTF-8/ });
  const deep = Array.from({ length: 50 }, (_, i) => `d${i}`).join('/');
  write(root, `${deep}/deep.png`, await imageBytes('png', 510, 24));
  add('depth 50', `${deep}/deep.png`, { kind: 'ok' });
  write(root, 'download.png.part', png);
  add('partial download (.part)', 'download.png.part', { kind: 'ignored' });
  write(root, 'photo.jpg.crdownload', jpg);
  add('partial download (.crdownload)', 'photo.jpg.crdownload', { kind: 'ignored' });
  write(root, '.hidden.png', await imageBytes('png', 511, 24));
  add('hidden file', '.hidden.png', { kind: 'ignored' });
  return files;
}

async function writeDirNamedJpg(
  root: string,
  add: (l: string, r: string, o: Outcome) => void,
): Promise<void> {
  write(root, 'folder.jpg/inside.png', await imageBytes('png', 512, 24));
  add('a directory named folder.jpg (its content is indexed)', 'folder.jpg/inside.png', { kind: 'ok' });
}
