/**
 * Reads a PNG file's text chunks (tEXt, zTXt, iTXt) from disk without loading the image: the walk
 * reads chunk headers and text bodies only, and seeks over IDAT and everything else, so a 4 GB PNG
 * costs a few reads. Malformed files give warnings; only I/O errors (ENOENT, EACCES, …) reject.
 */
import { open } from 'node:fs/promises';
import { bytesPositional, readAt, type Positional } from './positional.js';
import {
  DEFAULT_PNG_TEXT_LIMITS,
  PngTextCollector,
  chunkAction,
  hasPngSignature,
  parseChunkHeader,
  type PngTextLimits,
  type PngTextResult,
} from '../domain/png-chunks.js';

/** Block size for header reads: small chunks that sit together cost one read. */
const BLOCK_BYTES = 64 * 1024;

/** A positional reader that serves small reads from the last block it fetched. */
class BlockReader {
  private block: Uint8Array = new Uint8Array(0);
  private blockStart = 0;

  constructor(
    private readonly handle: Positional,
    readonly size: number,
  ) {}

  /** Up to `length` bytes at `position` (fewer at end of file). */
  async read(position: number, length: number): Promise<Uint8Array> {
    const end = Math.min(position + length, this.size);
    if (this.handle.view !== undefined) return this.handle.view(position, end - position);
    if (position >= this.blockStart && end <= this.blockStart + this.block.length) {
      return this.block.subarray(position - this.blockStart, end - this.blockStart);
    }
    const want = Math.max(end - position, Math.min(BLOCK_BYTES, this.size - position));
    this.block = await readAt(this.handle, position, want);
    this.blockStart = position;
    return this.block.subarray(0, Math.min(this.block.length, end - position));
  }
}

/**
 * Reads the text chunks of the PNG at `filePath`, including chunks placed after IDAT or IEND.
 * Resolves with warnings for anything malformed; rejects only when the file cannot be read.
 */
export async function readPngText(
  filePath: string,
  limits: PngTextLimits = DEFAULT_PNG_TEXT_LIMITS,
  /** The file's bytes when the caller already holds them (nothing is read then). */
  data?: Uint8Array,
): Promise<PngTextResult> {
  if (data !== undefined) return walk(new BlockReader(bytesPositional(data), data.length), limits);
  const handle = await open(filePath, 'r');
  try {
    const { size } = await handle.stat();
    return await walk(new BlockReader(handle, size), limits);
  } finally {
    await handle.close();
  }
}

async function walk(reader: BlockReader, limits: PngTextLimits): Promise<PngTextResult> {
  const collector = new PngTextCollector(limits);
  if (!hasPngSignature(await reader.read(0, 8))) {
    collector.warnings.push('not a PNG file (bad signature)');
    return collector.result();
  }
  let pos = 8;
  let afterIend = false;
  for (let count = 0; count < limits.maxChunks; count++) {
    const header = parseChunkHeader(await reader.read(pos, 8), 0, pos);
    const action = chunkAction(header, reader.size, afterIend, limits);
    if (action.kind === 'stop' || header === undefined) {
      if (action.kind === 'stop' && action.warning !== undefined) collector.warnings.push(action.warning);
      return collector.result();
    }
    if (action.kind === 'read')
      collector.add(header, await reader.read(pos + 8, header.length + 4), afterIend);
    else if (action.tooLarge === true) collector.skippedLarge(header);
    if (header.type === 'IEND') afterIend = true;
    pos += 12 + header.length;
  }
  collector.warnings.push(`stopped after ${limits.maxChunks} chunks`);
  return collector.result();
}
