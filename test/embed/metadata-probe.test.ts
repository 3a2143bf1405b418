/**
 * The header scan that lets alice skip exiftool for files without metadata: real files made with
 * sharp (plain, with EXIF/XMP, with generator and other text chunks, truncated), and for every
 * file it calls metadata-free, the real exiftool must agree (nothing but type and size to read).
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExiftoolAdapter } from '../../src/adapters/exiftool.adapter.js';
import { probeMetadata } from '../../src/adapters/metadata-probe.adapter.js';
import { embeddedFromHeader } from '../../src/domain/metadata-probe.js';
import { readPngText } from '../../src/adapters/png-text.adapter.js';
import { iTXt, pngWith, tEXt, tempDir, zTXt, type TempDir } from '../generation/png-helpers.js';

let tmp: TempDir;
let exif: ExiftoolAdapter;

beforeAll(async () => {
  tmp = await tempDir();
  exif = new ExiftoolAdapter({ maxProcs: 1 });
  await exif.start();
}, 30_000);

afterAll(async () => {
  await exif.close();
  await tmp.remove();
});

const picture = () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#884422' } });
const withExif = (s: sharp.Sharp) =>
  s.withExif({ IFD0: { ImageDescription: 'a lighthouse', Copyright: 'me' } });

describe('probeMetadata', () => {
  it.each([
    ['plain.png', () => picture().png().toBuffer(), 'png'],
    ['plain.jpg', () => picture().jpeg().toBuffer(), 'jpeg'],
    ['plain.webp', () => picture().webp().toBuffer(), 'webp'],
    ['lossless.webp', () => picture().webp({ lossless: true }).toBuffer(), 'webp'],
    ['alpha.webp', () => picture().ensureAlpha(0.5).webp().toBuffer(), 'webp'],
    ['a1111.png', () => pngWith([tEXt('parameters', 'a cat\nSteps: 20, Seed: 1')]), 'png'],
    ['novelai.png', () => pngWith([tEXt('Comment', '{"prompt":"a cat"}'), zTXt('Source', 'NovelAI')]), 'png'],
    ['named.png', () => pngWith([iTXt('bench', 'd0/t1.png')]), 'png'],
  ] as const)('%s has none, and exiftool finds nothing more', async (name, make, format) => {
    const bytes = await make();
    const file = await tmp.write(name, bytes);
    const v = await probeMetadata(file, format);
    expect(v.kind).toBe('none');
    // From bytes the scan already holds: the same verdict, the path is not read.
    expect(await probeMetadata(`${file}.not-read`, format, bytes)).toEqual(v);
    if (v.kind !== 'none') return;
    const fromHeader = embeddedFromHeader(v);
    const fromExiftool = await exif.readEmbedded(file);
    // Generator text is read by alice's own PNG reader; exiftool lists it under raw as well.
    // exiftool's "[minor]" notes (text chunks after IDAT) are not reproduced: nothing alice uses.
    const { raw: _raw, ...all } = fromExiftool;
    const rest = { ...all, warnings: all.warnings.filter((w) => !w.startsWith('[minor]')) };
    const { raw: headerRaw, ...headerRest } = fromHeader;
    expect(headerRaw).toEqual({});
    // exiftool's raw tags for these files are their text chunks, which alice's own PNG reader
    // hands to the generation parsers anyway.
    const chunks = format === 'png' ? Object.keys((await readPngText(file)).text) : [];
    expect(Object.keys(fromExiftool.raw).map((k) => k.toLowerCase())).toEqual(
      chunks.map((k) => k.toLowerCase()),
    );
    if (format === 'png' || format === 'jpeg') expect(headerRest).toEqual(rest);
    else expect({ ...headerRest, width: rest.width, height: rest.height }).toEqual(rest);
  });

  it.each([
    ['exif.jpg', () => withExif(picture()).jpeg().toBuffer(), 'jpeg'],
    ['exif.png', () => withExif(picture()).png().toBuffer(), 'png'],
    ['exif.webp', () => withExif(picture()).webp().toBuffer(), 'webp'],
    ['xmp.png', () => pngWith([iTXt('XML:com.adobe.xmp', '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')]), 'png'],
    ['described.png', () => pngWith([tEXt('Description', 'a lighthouse')]), 'png'],
    ['title.png', () => pngWith([tEXt('parameters', 'a cat'), tEXt('Title', 'Cat')]), 'png'],
    ['software.png', () => pngWith([tEXt('Software', 'NovelAI')]), 'png'],
    ['raw-exif.png', () => pngWith([zTXt('Raw profile type exif', 'exif\n   10\n0000')]), 'png'],
    ['commented.jpg', () => picture().jpeg().toBuffer().then(addJpegComment), 'jpeg'],
  ] as const)('%s has some', async (name, make, format) => {
    const bytes = await make();
    const file = await tmp.write(name, bytes);
    expect((await probeMetadata(file, format)).kind).toBe('some');
    expect((await probeMetadata(`${file}.not-read`, format, bytes)).kind).toBe('some');
  });

  it('cannot tell for truncated or mislabelled files, and always reads other formats', async () => {
    const png = await picture().png().toBuffer();
    const cut = await tmp.write('cut.png', png.subarray(0, png.length - 20));
    expect((await probeMetadata(cut, 'png')).kind).toBe('unknown');
    const jpegNamedPng = await tmp.write('liar.png', await picture().jpeg().toBuffer());
    expect((await probeMetadata(jpegNamedPng, 'png')).kind).toBe('unknown');
    const gif = await tmp.write('a.gif', await picture().gif().toBuffer());
    expect((await probeMetadata(gif, 'gif')).kind).toBe('some');
    await expect(probeMetadata(`${tmp.dir}/gone.png`, 'png')).rejects.toThrow(/ENOENT/);
  });
});

/** Inserts a COM segment right after SOI. */
function addJpegComment(jpeg: Buffer): Buffer {
  const text = Buffer.from('made by hand', 'latin1');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(text.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xfe]), len, text, jpeg.subarray(2)]);
}
