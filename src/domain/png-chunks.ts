/**
 * PNG text chunks (tEXt, zTXt, iTXt): chunk-walk rules and decoding. Pure: bytes in, text out, and
 * never throws on malformed input (problems become warnings). The file adapter
 * (src/adapters/png-text.adapter.ts) walks a file with the same rules without reading image data.
 */
import { decodeTextChunk } from './png-text-decode.js';
import { u32be } from './bytes.js';

export type { DecodedText } from './png-text-decode.js';
export { decodeTextChunk } from './png-text-decode.js';

export const PNG_SIGNATURE: Readonly<Uint8Array> = Uint8Array.of(
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
);
export const TEXT_CHUNK_TYPES: ReadonlySet<string> = new Set(['tEXt', 'zTXt', 'iTXt']);

/** Bounds that keep a hostile or huge PNG from costing more than a few megabytes. */
export interface PngTextLimits {
  /** Largest text chunk body read, and largest decompressed text kept per chunk. Default 4 MiB. */
  readonly maxChunkText: number;
  /** Total decoded text kept over all chunks; later chunks are skipped with a warning. Default 16 MiB. */
  readonly maxTotalText: number;
  /** Chunk headers walked before giving up (guards files made of millions of tiny chunks). */
  readonly maxChunks: number;
}

export const DEFAULT_PNG_TEXT_LIMITS: Readonly<PngTextLimits> = Object.freeze({
  maxChunkText: 4 * 1024 * 1024,
  maxTotalText: 16 * 1024 * 1024,
  maxChunks: 1_000_000,
});

export type TextChunkType = 'tEXt' | 'zTXt' | 'iTXt';

export interface PngTextEntry {
  readonly type: TextChunkType;
  readonly keyword: string;
  readonly text: string;
  /** Byte offset of the chunk's length field in the file. */
  readonly offset: number;
  readonly languageTag?: string;
  readonly translatedKeyword?: string;
  /** True when the chunk sits after IEND (some tools append metadata there). */
  readonly afterIend?: boolean;
}

export interface PngTextResult {
  /** Keyword → text; the first chunk with a keyword wins, as most readers do. */
  readonly text: Record<string, string>;
  /** The `tIME` chunk (when the encoder last wrote the image, UTC), ISO 8601; absent when none or invalid. */
  readonly time?: string;
  readonly entries: readonly PngTextEntry[];
  readonly warnings: readonly string[];
}

export interface ChunkHeader {
  readonly offset: number;
  readonly length: number;
  readonly type: string;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG uses it, over the concatenation of `parts`. */
export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const part of parts) {
    for (const byte of part) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

export function hasPngSignature(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Parses the 8-byte chunk header in `bytes` (length + type), or undefined when fewer bytes remain. */
export function parseChunkHeader(bytes: Uint8Array, at: number, offset: number): ChunkHeader | undefined {
  if (bytes.length - at < 8) return undefined;
  const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
  return { offset, length: u32be(bytes, at), type };
}

export type ChunkAction =
  | { readonly kind: 'read' }
  | { readonly kind: 'skip'; readonly tooLarge?: boolean }
  | { readonly kind: 'stop'; readonly warning?: string };

/**
 * What to do with a chunk: read its body (text chunks), skip it by seeking (image data and everything
 * else) or stop walking. Chunks after IEND are still walked so trailing text is found; the first
 * thing after IEND that is not a well-formed chunk ends the walk quietly.
 */
export function chunkAction(
  header: ChunkHeader | undefined,
  fileSize: number,
  afterIend: boolean,
  limits: PngTextLimits,
): ChunkAction {
  if (header === undefined) {
    return afterIend ? { kind: 'stop' } : { kind: 'stop', warning: 'truncated PNG: no IEND chunk' };
  }
  const where = `at offset ${header.offset}`;
  if (!/^[A-Za-z]{4}$/.test(header.type) || header.length > 0x7fffffff) {
    if (afterIend)
      return { kind: 'stop', warning: `ignored ${fileSize - header.offset} trailing bytes after IEND` };
    return { kind: 'stop', warning: `corrupt PNG chunk header ${where}` };
  }
  if (header.offset + 12 + header.length > fileSize) {
    if (afterIend)
      return { kind: 'stop', warning: `ignored ${fileSize - header.offset} trailing bytes after IEND` };
    return {
      kind: 'stop',
      warning: `truncated PNG: ${header.type} chunk ${where} runs past the end of the file`,
    };
  }
  if (header.type === 'tIME') return header.length === 7 ? { kind: 'read' } : { kind: 'skip' };
  if (!TEXT_CHUNK_TYPES.has(header.type)) return { kind: 'skip' };
  return header.length > limits.maxChunkText ? { kind: 'skip', tooLarge: true } : { kind: 'read' };
}

/** A `tIME` chunk body (year u16, month, day, hour, minute, second; UTC) as ISO 8601, if valid. */
export function pngTime(data: Uint8Array): string | undefined {
  if (data.length !== 7) return undefined;
  const year = ((data[0] ?? 0) << 8) | (data[1] ?? 0);
  const [mo, d, h, mi, s] = [data[2] ?? 0, data[3] ?? 0, data[4] ?? 0, data[5] ?? 0, data[6] ?? 0];
  // Year 0 and out-of-range fields are what encoders write when they have no clock: unset.
  if (year < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const at = new Date(Date.UTC(year, mo - 1, d, h, mi, Math.min(s, 59)));
  return at.getUTCDate() === d ? at.toISOString() : undefined;
}

/**
 * Gathers text chunks while a walk proceeds: checks CRCs, enforces the total-text cap and keeps the
 * first chunk per keyword. Shared by the in-memory parser and the streaming file adapter.
 */
export class PngTextCollector {
  readonly warnings: string[] = [];
  private readonly entries: PngTextEntry[] = [];
  private total = 0;
  private time: string | undefined;

  constructor(private readonly limits: PngTextLimits = DEFAULT_PNG_TEXT_LIMITS) {}

  /** Records a chunk too large to read. */
  skippedLarge(header: ChunkHeader): void {
    this.warnings.push(
      `${header.type} chunk at offset ${header.offset} is ${header.length} bytes, over the ${this.limits.maxChunkText}-byte cap; skipped`,
    );
  }

  /** Adds a text chunk; `body` is its data followed by the 4 CRC bytes. */
  add(header: ChunkHeader, body: Uint8Array, afterIend: boolean): void {
    const data = body.subarray(0, header.length);
    const typeBytes = Uint8Array.from(header.type, (ch) => ch.charCodeAt(0));
    if (crc32(typeBytes, data) !== u32be(body, header.length)) {
      this.warnings.push(`${header.type} chunk at offset ${header.offset} has a bad CRC; skipped`);
      return;
    }
    if (header.type === 'tIME') {
      this.time ??= pngTime(data);
      return;
    }
    if (this.total >= this.limits.maxTotalText) {
      this.warnings.push(
        `text chunks past ${this.limits.maxTotalText} bytes in total; ${header.type} at offset ${header.offset} skipped`,
      );
      return;
    }
    const decoded = decodeTextChunk(header.type, data, this.limits, this.warnings);
    if (decoded === undefined) return;
    this.total += decoded.text.length;
    this.entries.push({
      ...decoded,
      type: header.type as TextChunkType,
      offset: header.offset,
      ...(afterIend ? { afterIend } : {}),
    });
  }

  result(): PngTextResult {
    const text: Record<string, string> = {};
    for (const entry of this.entries) {
      if (Object.hasOwn(text, entry.keyword)) {
        this.warnings.push(
          `duplicate text keyword "${entry.keyword}" at offset ${entry.offset}; first one kept`,
        );
      } else {
        text[entry.keyword] = entry.text;
      }
    }
    return {
      text,
      entries: [...this.entries],
      warnings: [...this.warnings],
      ...(this.time === undefined ? {} : { time: this.time }),
    };
  }
}

/** Reads every text chunk from PNG bytes held in memory. Never throws. */
export function parsePngText(
  bytes: Uint8Array,
  limits: PngTextLimits = DEFAULT_PNG_TEXT_LIMITS,
): PngTextResult {
  const collector = new PngTextCollector(limits);
  if (!hasPngSignature(bytes)) {
    collector.warnings.push('not a PNG file (bad signature)');
    return collector.result();
  }
  let pos = 8;
  let afterIend = false;
  for (let count = 0; ; count++) {
    if (count >= limits.maxChunks) {
      collector.warnings.push(`stopped after ${limits.maxChunks} chunks`);
      break;
    }
    const header = parseChunkHeader(bytes, pos, pos);
    const action = chunkAction(header, bytes.length, afterIend, limits);
    if (action.kind === 'stop' || header === undefined) {
      if (action.kind === 'stop' && action.warning !== undefined) collector.warnings.push(action.warning);
      break;
    }
    if (action.kind === 'read')
      collector.add(header, bytes.subarray(pos + 8, pos + 12 + header.length), afterIend);
    else if (action.tooLarge === true) collector.skippedLarge(header);
    if (header.type === 'IEND') afterIend = true;
    pos += 12 + header.length;
  }
  return collector.result();
}
