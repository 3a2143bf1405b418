/**
 * Reads the few bytes src/domain/file-completeness.ts judges: a PNG's chunk headers (seeking over
 * the data), an MP4's top-level box headers, a JPEG's or GIF's tail, a WebP's RIFF header. Cheap
 * next to a decode: the watcher asks it of every settled file before indexing it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { BufferPool } from './buffer-pool.js';
import { readAt, windowedReader } from './positional.js';
import { ascii, u32be } from '../domain/bytes.js';
import {
  gifComplete,
  jpegComplete,
  mp4WalkVerdict,
  pngWalkVerdict,
  webpComplete,
  type Completeness,
  type WalkStep,
} from '../domain/file-completeness.js';

const TAIL_BYTES = 64 * 1024;
const MAX_STEPS = 100_000;
const SCAN_BLOCK = 1024 * 1024;

/** PNG chunk headers are read through this window (8 KiB IDAT chunks: 32 headers per read). */
const PNG_WINDOW = 256 * 1024;

/** Window buffers of the PNG walks, reused: a burst checks thousands of PNGs, 16 at a time. */
const WINDOWS = new BufferPool(16 * PNG_WINDOW, PNG_WINDOW);

async function pngSteps(h: FileHandle, size: number): Promise<WalkStep[]> {
  const steps: WalkStep[] = [];
  const window = WINDOWS.acquire(PNG_WINDOW);
  try {
    // Each header is taken from the window before the next read reuses it.
    const read = windowedReader(h, PNG_WINDOW, window);
    for (let pos = 8; steps.length < MAX_STEPS && pos < size;) {
      const head = await read(pos, 8);
      if (head.length < 8) {
        steps.push({ type: 'header', end: pos + 8 });
        break;
      }
      const step = { type: ascii(head, 4, 4), end: pos + 12 + u32be(head, 0) };
      steps.push(step);
      if (step.type === 'IEND' || step.end > size) break;
      pos = step.end;
    }
  } finally {
    WINDOWS.release(window);
  }
  return steps;
}

async function mp4Steps(h: FileHandle, size: number): Promise<WalkStep[]> {
  const steps: WalkStep[] = [];
  for (let pos = 0; steps.length < MAX_STEPS && pos < size;) {
    const head = await readAt(h, pos, 16);
    if (head.length < 8) {
      steps.push({ type: 'header', end: pos + 8 });
      break;
    }
    let length = u32be(head, 0);
    if (length === 1) length = head.length < 16 ? Infinity : u32be(head, 8) * 2 ** 32 + u32be(head, 12);
    const step = { type: ascii(head, 4, 4), end: length === 0 ? Infinity : pos + Math.max(length, 8) };
    steps.push(step);
    if (step.end >= size) break;
    pos = step.end;
  }
  return steps;
}

/** Where a JPEG's entropy-coded data starts: past its marker segments (APPn may hold a thumbnail with an EOI of its own). */
async function jpegScanStart(h: FileHandle, size: number): Promise<number> {
  let pos = 2;
  for (let n = 0; n < MAX_STEPS && pos + 4 <= size; n++) {
    const m = await readAt(h, pos, 4);
    if (m[0] !== 0xff) return pos;
    if (m[1] === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    pos += 2 + (((m[2] ?? 0) << 8) | (m[3] ?? 0));
    if (m[1] === 0xda) return pos;
  }
  return pos;
}

/**
 * JPEG: an end-of-image marker in the entropy-coded data, where FF D9 means nothing else. The tail
 * is looked at first; data appended after the image (a phone's motion-photo video) costs a scan.
 */
async function jpegVerdict(h: FileHandle, size: number): Promise<Completeness> {
  const from = await jpegScanStart(h, size);
  if (from >= size) return 'JPEG cut before its image data';
  const tailFrom = Math.max(from, size - TAIL_BYTES);
  if (jpegComplete(await readAt(h, tailFrom, size - tailFrom)) === null) return null;
  for (let at = from; at < tailFrom; at += SCAN_BLOCK - 1) {
    if (jpegComplete(await readAt(h, at, Math.min(SCAN_BLOCK, tailFrom + 1 - at))) === null) return null;
  }
  return 'JPEG without its end-of-image marker';
}

/**
 * Whether `file` looks whole: null when it does (or alice has no rule for its format), else why
 * not. I/O errors reject (the caller lets the scan report them).
 */
export async function fileCompleteness(file: string): Promise<Completeness> {
  const h = await open(file, 'r');
  try {
    const { size } = await h.stat();
    const sig = await readAt(h, 0, 12);
    // By content, not by name: a renamed file is judged for what it is.
    if (sig[0] === 0x89 && ascii(sig, 1, 4).startsWith('PNG'))
      return pngWalkVerdict(await pngSteps(h, size), size);
    if (sig[0] === 0xff && sig[1] === 0xd8) return await jpegVerdict(h, size);
    if (ascii(sig, 0, 4) === 'RIFF' && ascii(sig, 8, 4) === 'WEBP') return webpComplete(sig, size);
    if (ascii(sig, 0, 4) === 'GIF8') return gifComplete(await readAt(h, Math.max(0, size - 1), 1));
    // A video being written starts with its ftyp box; anything else is left to the decoder.
    if (ascii(sig, 4, 4) === 'ftyp') return mp4WalkVerdict(await mp4Steps(h, size), size);
    return null;
  } finally {
    await h.close();
  }
}
