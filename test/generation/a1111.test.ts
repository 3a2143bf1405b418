import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { ExifTool } from 'exiftool-vendored';
import { extractGeneration } from '../../src/domain/generation/index.js';
import { cleanUserComment } from '../../src/domain/generation/a1111.parser.js';
import { iTXt, pngWith, tEXt, tempDir, type TempDir } from './png-helpers.js';
import { newExifTool, readBack, writeTags } from './read-back.js';

const A1111 = [
  'masterpiece, a cyberpunk cat in a neon city, <lora:neonStyle_v2:0.8>, <lora:catV1:1>',
  'detailed fur',
  'Negative prompt: blurry, lowres,',
  'bad anatomy',
  'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567890, Size: 768x512, Model hash: 6ce0161689, ' +
    'Model: v1-5-pruned-emaonly, Lora hashes: "neonStyle_v2: a1b2c3d4e5f6, catV1: 0f1e2d3c4b5a", Version: v1.6.0',
].join('\n');

let tmp: TempDir;
let et: ExifTool;
beforeAll(async () => {
  tmp = await tempDir();
  et = newExifTool();
});
afterAll(async () => {
  await et.end();
  await tmp.remove();
});

function expectA1111(gen: ReturnType<typeof extractGeneration>['generation'], from: string): void {
  expect(gen).toMatchObject({
    source: 'automatic1111',
    source_version: 'v1.6.0',
    prompt:
      'masterpiece, a cyberpunk cat in a neon city, <lora:neonStyle_v2:0.8>, <lora:catV1:1>\ndetailed fur',
    negative_prompt: 'blurry, lowres,\nbad anatomy',
    model: 'v1-5-pruned-emaonly',
    model_hash: '6ce0161689',
    seed: 1234567890,
    steps: 28,
    sampler: 'DPM++ 2M Karras',
    cfg_scale: 6.5,
    width: 768,
    height: 512,
    loras: [
      { name: 'neonStyle_v2', weight: 0.8 },
      { name: 'catV1', weight: 1 },
    ],
    detected_from: from,
    raw: A1111,
  });
}

describe('AUTOMATIC1111 / Forge / SD.Next', () => {
  it('reads the parameters tEXt chunk of a real PNG', async () => {
    const path = await tmp.write('00012-1234567890.png', await pngWith([tEXt('parameters', A1111)]));
    const { generation, warnings } = await readBack(et, path);
    expectA1111(generation, 'png:parameters');
    expect(warnings).toEqual([]);
  });

  it('reads parameters written as iTXt (non-Latin-1 prompts)', async () => {
    const text = '夜の東京, 猫\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512';
    const path = await tmp.write('itxt.png', await pngWith([iTXt('parameters', text)]));
    const { generation } = await readBack(et, path);
    expect(generation).toMatchObject({ prompt: '夜の東京, 猫', seed: 42, steps: 20, sampler: 'Euler a' });
  });

  it('reads EXIF UserComment in JPEG and WebP written by exiftool', async () => {
    for (const format of ['jpeg', 'webp'] as const) {
      const image = sharp({ create: { width: 16, height: 16, channels: 3, background: '#884422' } });
      const path = await tmp.write(
        `a1111.${format === 'jpeg' ? 'jpg' : 'webp'}`,
        await image.toFormat(format).toBuffer(),
      );
      await writeTags(et, path, { UserComment: A1111 });
      const { generation, warnings } = await readBack(et, path);
      expectA1111(generation, 'exif:UserComment');
      expect(warnings).toEqual([]);
    }
  });

  it('tells Forge and SD.Next apart by Version and App', () => {
    const forge = extractGeneration({
      fileName: 'x.png',
      pngText: {
        parameters:
          'a dog\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Version: f2.0.1v1.10.1-previous-313',
      },
    });
    expect(forge.generation).toMatchObject({ source: 'forge', source_version: 'f2.0.1v1.10.1-previous-313' });
    const sdnext = extractGeneration({
      fileName: 'x.png',
      pngText: { parameters: 'a dog\nSteps: 20, Seed: 5, CFG scale: 6, App: SD.Next, Version: 8d5c7a1' },
    });
    expect(sdnext.generation).toMatchObject({ source: 'sdnext', seed: 5, prompt: 'a dog' });
  });

  it('keeps quoted values with commas and escaped quotes together', () => {
    const text = 'x\nSteps: 10, Seed: 2, Template: "a, \\"b\\", c", CFG scale: 3, Model: "m, v2"';
    const { generation } = extractGeneration({ fileName: 'x.png', pngText: { parameters: text } });
    expect(generation).toMatchObject({ model: 'm, v2', cfg_scale: 3, steps: 10, seed: 2 });
  });

  it('reads a prompt-only parameters chunk with a warning', () => {
    const { generation, warnings } = extractGeneration({
      fileName: 'x.png',
      pngText: { parameters: 'just a prompt' },
    });
    expect(generation).toMatchObject({ source: 'automatic1111', prompt: 'just a prompt' });
    expect(generation?.steps).toBeUndefined();
    expect(warnings.join()).toMatch(/no settings line/);
  });

  it('handles the raw UNICODE prefix and byte-swapped UTF-16 UserComment forms', () => {
    expect(cleanUserComment('UNICODE\0a cat\nSteps: 1')).toBe('a cat\nSteps: 1');
    expect(cleanUserComment('ASCII\0\0\0a cat')).toBe('a cat');
    const swapped = Array.from('a cat, Steps: 20', (c) => String.fromCharCode(c.charCodeAt(0) << 8)).join('');
    expect(cleanUserComment(swapped)).toBe('a cat, Steps: 20');
    const { generation } = extractGeneration({
      fileName: 'x.jpg',
      exif: { UserComment: `UNICODE\0${A1111}` },
    });
    expect(generation?.seed).toBe(1234567890);
  });

  it('ignores a camera UserComment that is not generation text', () => {
    const { generation } = extractGeneration({
      fileName: 'IMG_0001.jpg',
      exif: { UserComment: 'Shot on holiday' },
    });
    expect(generation).toBeNull();
  });
});
