/** Test helpers: real PNGs made with sharp, with text chunks spliced in by hand (own CRC). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A whole chunk: length, type, data, CRC. `badCrc` corrupts the CRC. */
export function chunk(type: string, data: Buffer, badCrc = false): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE((crc(body) ^ (badCrc ? 1 : 0)) >>> 0);
  return Buffer.concat([head, body, tail]);
}

/** tEXt: keyword and text in Latin-1 (pass a Buffer to write raw bytes). */
export function tEXt(keyword: string, text: string | Buffer): Buffer {
  const body = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  return chunk('tEXt', Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), body]));
}

export function zTXt(keyword: string, text: string): Buffer {
  return chunk(
    'zTXt',
    Buffer.concat([Buffer.from(`${keyword}\0\0`, 'latin1'), deflateSync(Buffer.from(text, 'latin1'))]),
  );
}

/** iTXt, UTF-8, optionally compressed; pass a Buffer to write raw (maybe invalid) bytes. */
export function iTXt(
  keyword: string,
  text: string | Buffer,
  compressed = false,
  lang = '',
  translated = '',
): Buffer {
  const raw = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const head = Buffer.concat([
    Buffer.from(`${keyword}\0`, 'latin1'),
    Buffer.from([compressed ? 1 : 0, 0]),
    Buffer.from(`${lang}\0`, 'latin1'),
    Buffer.from(`${translated}\0`, 'utf8'),
  ]);
  return chunk('iTXt', Buffer.concat([head, compressed ? deflateSync(raw) : raw]));
}

export async function basePng(width = 16, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
}

/** A real PNG with `chunks` inserted before IEND, and `trailing` appended after IEND. */
export async function pngWith(chunks: Buffer[], trailing: Buffer[] = []): Promise<Buffer> {
  const png = await basePng();
  const iend = png.length - 12;
  if (png.subarray(iend + 4, iend + 8).toString('latin1') !== 'IEND')
    throw new Error('sharp PNG does not end with IEND');
  return Buffer.concat([png.subarray(0, iend), ...chunks, png.subarray(iend), ...trailing]);
}

export interface TempDir {
  readonly dir: string;
  write(name: string, bytes: Buffer): Promise<string>;
  remove(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), 'alice-gen-'));
  return {
    dir,
    async write(name, bytes) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
