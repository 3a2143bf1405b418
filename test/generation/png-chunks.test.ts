import { open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '../../src/adapters/png-text.adapter.js';
import { parsePngText } from '../../src/domain/png-chunks.js';
import { basePng, chunk, iTXt, pngWith, tEXt, tempDir, zTXt, type TempDir } from './png-helpers.js';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.remove();
});

/** Parses in memory and from disk; both must agree. */
async function both(bytes: Buffer, name = 'x.png') {
  const memory = parsePngText(bytes);
  const file = await tmp.write(name, bytes);
  const disk = await readPngText(file);
  expect(disk.text).toEqual(memory.text);
  expect(disk.warnings).toEqual(memory.warnings);
  // The scan hands bytes it already read to the same walk: the same result, nothing read.
  const held = await readPngText(`${file}.not-read`, undefined, bytes);
  expect(held.text).toEqual(disk.text);
  expect(held.warnings).toEqual(disk.warnings);
  return disk;
}

describe('PNG text chunks', () => {
  it('reads tEXt, zTXt and iTXt (plain and compressed)', async () => {
    const png = await pngWith([
      tEXt('parameters', 'a cat'),
      zTXt('prompt', '{"3":{"class_type":"KSampler"}}'),
      iTXt('Description', 'ünïcödé ✓ 猫', false, 'de', 'Beschreibung'),
      iTXt('workflow', '{"nodes":[]} ✓', true),
    ]);
    const r = await both(png);
    expect(r.text).toEqual({
      parameters: 'a cat',
      prompt: '{"3":{"class_type":"KSampler"}}',
      Description: 'ünïcödé ✓ 猫',
      workflow: '{"nodes":[]} ✓',
    });
    expect(r.warnings).toEqual([]);
    expect(r.entries.find((e) => e.keyword === 'Description')).toMatchObject({
      languageTag: 'de',
      translatedKeyword: 'Beschreibung',
    });
  });

  it('decodes tEXt as Latin-1 per the PNG spec', async () => {
    const r = await both(await pngWith([tEXt('Comment', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80]))]));
    expect(r.text['Comment']).toBe('café \u0080');
  });

  it('reads UTF-8 misplaced in tEXt as UTF-8, with a warning', async () => {
    const r = await both(await pngWith([tEXt('parameters', Buffer.from('ein Hund, Größe', 'utf8'))]));
    expect(r.text['parameters']).toBe('ein Hund, Größe');
    expect(r.warnings.join()).toMatch(/UTF-8 where the PNG spec says Latin-1/);
  });

  it('replaces invalid UTF-8 in iTXt and warns', async () => {
    const r = await both(await pngWith([iTXt('parameters', Buffer.from([0x61, 0xff, 0xfe, 0x62]))]));
    expect(r.text['parameters']).toBe('a\ufffd\ufffdb');
    expect(r.warnings.join()).toMatch(/not valid UTF-8/);
  });

  it('finds text chunks after IDAT and after IEND', async () => {
    const r = await both(await pngWith([], [tEXt('parameters', 'trailing text')]));
    expect(r.text['parameters']).toBe('trailing text');
    expect(r.entries[0]?.afterIend).toBe(true);
  });

  it('keeps the first of duplicate keywords', async () => {
    const r = await both(await pngWith([tEXt('parameters', 'one'), tEXt('parameters', 'two')]));
    expect(r.text['parameters']).toBe('one');
    expect(r.warnings.join()).toMatch(/duplicate/);
  });

  it('skips chunks with a bad CRC and keeps going', async () => {
    const bad = chunk('tEXt', Buffer.from('parameters\0evil', 'latin1'), true);
    const r = await both(await pngWith([bad, tEXt('Software', 'ok')]));
    expect(r.text).toEqual({ Software: 'ok' });
    expect(r.warnings.join()).toMatch(/bad CRC/);
  });

  it('refuses zlib bombs past the per-chunk cap', async () => {
    const bomb = deflateSync(Buffer.alloc(8 * 1024 * 1024, 0x61));
    const z = chunk('zTXt', Buffer.concat([Buffer.from('parameters\0\0', 'latin1'), bomb]));
    const r = await both(await pngWith([z, tEXt('Software', 'ok')]));
    expect(r.text).toEqual({ Software: 'ok' });
    expect(r.warnings.join()).toMatch(/inflates past/);
  });

  it('warns on malformed chunks instead of throwing', async () => {
    const noKeyword = chunk('tEXt', Buffer.from('no separator', 'latin1'));
    const badZlib = chunk('zTXt', Buffer.from('k\0\0garbage', 'latin1'));
    const badMethod = chunk('zTXt', Buffer.from('k\0\x07xx', 'latin1'));
    const shortITXt = chunk('iTXt', Buffer.from('k\0', 'latin1'));
    const r = await both(await pngWith([noKeyword, badZlib, badMethod, shortITXt, tEXt('ok', 'yes')]));
    expect(r.text).toEqual({ ok: 'yes' });
    expect(r.warnings).toHaveLength(4);
  });

  it('handles truncated files, garbage after IEND and non-PNG bytes', async () => {
    const png = await pngWith([tEXt('parameters', 'a cat')]);
    const truncated = await both(png.subarray(0, png.length - 20), 'trunc.png');
    expect(truncated.warnings.join()).toMatch(/truncated/);
    const garbage = await both(Buffer.concat([png, Buffer.from('\x00\x01garbage!!')]), 'garbage.png');
    expect(garbage.text['parameters']).toBe('a cat');
    expect(garbage.warnings.join()).toMatch(/trailing bytes after IEND/);
    const notPng = await both(Buffer.from('GIF89a not a png'), 'not.png');
    expect(notPng.text).toEqual({});
    expect(notPng.warnings).toEqual(['not a PNG file (bad signature)']);
    const empty = await both(Buffer.alloc(0), 'empty.png');
    expect(empty.warnings).toEqual(['not a PNG file (bad signature)']);
  });

  it('skips text chunks over the size cap without reading them', async () => {
    const big = tEXt('parameters', 'x'.repeat(5 * 1024 * 1024));
    const r = await both(await pngWith([big, tEXt('Software', 'ok')]));
    expect(r.text).toEqual({ Software: 'ok' });
    expect(r.warnings.join()).toMatch(/over the 4194304-byte cap/);
  });

  it('reads text after 4 GB of IDAT by seeking, not reading', async () => {
    const png = await basePng();
    const head = png.subarray(0, png.indexOf('IDAT') - 4);
    // PNG caps a chunk at 2^31-1 bytes, so 4 GB of image data takes two chunks.
    const idatLength = 0x7fff0000;
    const idatHeader = Buffer.alloc(8);
    idatHeader.writeUInt32BE(idatLength);
    idatHeader.write('IDAT', 4, 'latin1');
    const tail = Buffer.concat([tEXt('parameters', 'after huge IDAT'), chunk('IEND', Buffer.alloc(0))]);
    const path = await tmp.write('huge.png', Buffer.alloc(0));
    const fh = await open(path, 'r+');
    try {
      // The bodies are holes in a sparse file: nothing is stored, and reading them would take minutes.
      let pos = 0;
      await fh.write(head, 0, head.length, pos);
      pos += head.length;
      for (let i = 0; i < 2; i++) {
        await fh.write(idatHeader, 0, 8, pos);
        pos += 12 + idatLength;
      }
      await fh.write(tail, 0, tail.length, pos);
    } finally {
      await fh.close();
    }
    const started = performance.now();
    const r = await readPngText(path);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r.warnings).toEqual([]);
    expect(r.text).toEqual({ parameters: 'after huge IDAT' });
  });

  it('rejects when the file does not exist', async () => {
    await expect(readPngText(`${tmp.dir}/missing.png`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
