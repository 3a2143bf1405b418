/** The generator's timestamp: PNG `Creation Time` text formats and the `tIME` chunk. */
import { describe, expect, it } from 'vitest';
import { generatorTime, parseCreationTime } from '../../src/domain/generation/created.js';
import { parsePngText, pngTime } from '../../src/domain/png-chunks.js';
import { chunk, pngWith, tEXt } from './png-helpers.js';

const tIME = (y: number, ...rest: number[]): Buffer => {
  const b = Buffer.alloc(7);
  b.writeUInt16BE(y, 0);
  b.set(rest, 2);
  return b;
};

describe('generator timestamps', () => {
  it('reads Creation Time as RFC 1123, ISO 8601 or EXIF style, and nothing else', () => {
    expect(parseCreationTime('Sat, 15 Jun 2024 08:30:00 +0000')).toBe('2024-06-15T08:30:00.000Z');
    expect(parseCreationTime('Sat, 15 Jun 2024 10:30:00 +0200')).toBe('2024-06-15T08:30:00.000Z');
    expect(parseCreationTime('Sat, 15 Jun 2024 08:30:00 GMT')).toBe('2024-06-15T08:30:00.000Z');
    expect(parseCreationTime('2024-06-15T08:30:00Z')).toBe('2024-06-15T08:30:00.000Z');
    expect(parseCreationTime('2024-06-15 08:30:00')).toBe('2024-06-15T08:30:00');
    expect(parseCreationTime('2024:06:15 08:30:00')).toBe('2024-06-15T08:30:00');
    for (const junk of ['the day after the party', '15/06/2024', '', '0000:00:00 00:00:00', '2024'])
      expect(parseCreationTime(junk), junk).toBeUndefined();
  });

  it('reads a valid tIME chunk as UTC and ignores an unset or impossible one', () => {
    expect(pngTime(tIME(2024, 6, 15, 10, 0, 0))).toBe('2024-06-15T10:00:00.000Z');
    expect(pngTime(tIME(0, 0, 0, 0, 0, 0))).toBeUndefined();
    expect(pngTime(tIME(2024, 2, 31, 0, 0, 0))).toBeUndefined();
    expect(pngTime(tIME(2024, 13, 1, 0, 0, 0))).toBeUndefined();
    expect(pngTime(Buffer.alloc(6))).toBeUndefined();
  });

  it('a PNG with both: Creation Time first, then tIME; the chunk walk reports tIME', async () => {
    const png = await pngWith([
      chunk('tIME', tIME(2024, 6, 15, 10, 0, 0)),
      tEXt('Creation Time', 'Sat, 01 Jun 2024 08:00:00 +0000'),
    ]);
    const r = parsePngText(png);
    expect(r.time).toBe('2024-06-15T10:00:00.000Z');
    expect(generatorTime(r.text, r.time)).toBe('2024-06-01T08:00:00.000Z');
    expect(generatorTime({ 'Creation Time': 'soon' }, r.time)).toBe('2024-06-15T10:00:00.000Z');
    expect(generatorTime(undefined, undefined)).toBeUndefined();
  });
});
