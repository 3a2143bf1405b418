/**
 * Generator metadata read without loss: exact 64-bit seeds, stealth metadata in pixel low bits
 * (A1111 stealth-pnginfo, NovelAI), SwarmUI's sui_image_params and Draw Things' XMP. Every image is
 * a real file made here; stealth bits are written the way those tools write them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import type { ExifTool } from 'exiftool-vendored';
import { analyserParts } from '../../src/app/compose.js';
import { quoteLargeIntegers } from '../../src/domain/generation/common.js';
import { extractGeneration } from '../../src/domain/generation/index.js';
import { mediaInfoFor, type MediaInfo } from '../../src/domain/media.js';
import { ContentAnalyser } from '../../src/services/scan/analyse.service.js';
import { iTXt, pngWith, tEXt, tempDir, type TempDir } from './png-helpers.js';
import { newExifTool, readBack } from './read-back.js';

const BIG_SEED = '6952411511246973023';

/**
 * The writers' `prepare_data` + `add_data`: signature, 32-bit length in bits, payload; bits put in
 * the alpha LSB (or R, G, B LSBs) column by column, x outer and y inner.
 */
function stealthBits(signature: string, payload: Buffer): number[] {
  const bytes = Buffer.concat([Buffer.from(signature, 'utf8'), Buffer.alloc(4), payload]);
  bytes.writeUInt32BE(payload.length * 8, signature.length);
  const bits: number[] = [];
  for (const byte of bytes) for (let b = 7; b >= 0; b--) bits.push((byte >> b) & 1);
  return bits;
}

async function stealthPng(
  width: number,
  height: number,
  signature: string,
  payload: Buffer,
  mode: 'alpha' | 'rgb',
): Promise<Buffer> {
  // RGBA either way: alice reads stealth bits only from images with an alpha channel.
  const channels = 4;
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    data[i * channels] = (i * 7) % 256;
    data[i * channels + 1] = (i * 13) % 256;
    data[i * channels + 2] = (i * 29) % 256;
    if (channels === 4) data[i * channels + 3] = 255;
  }
  const bits = stealthBits(signature, payload);
  const perPixel = mode === 'alpha' ? 1 : 3;
  if (bits.length > width * height * perPixel) throw new Error('image too small for the payload');
  let index = 0;
  for (let x = 0; x < width && index < bits.length; x++) {
    for (let y = 0; y < height && index < bits.length; y++) {
      const at = (y * width + x) * channels;
      if (mode === 'alpha') {
        data[at + 3] = ((data[at + 3] ?? 0) & ~1) | (bits[index++] ?? 0);
      } else {
        for (let c = 0; c < 3 && index < bits.length; c++)
          data[at + c] = ((data[at + c] ?? 0) & ~1) | (bits[index++] ?? 0);
      }
    }
  }
  return sharp(data, { raw: { width, height, channels } }).png().toBuffer();
}

const A1111_TEXT =
  'a lighthouse at dusk, <lora:film:0.6>\nNegative prompt: blurry\n' +
  'Steps: 28, Sampler: DPM++ 2M, CFG scale: 6.5, Seed: 987654321, Size: 96x80, Model hash: 1a2b3c, Model: dreamshaper_8, Version: v1.9.4';

const NOVELAI_JSON = JSON.stringify({
  Title: 'AI generated image',
  Description: 'a fox in the snow',
  Software: 'NovelAI',
  Source: 'NovelAI Diffusion V4 4F49EC75',
  'Generation time': '3.1',
  Comment: JSON.stringify({
    prompt: 'a fox in the snow',
    steps: 23,
    sampler: 'k_euler_ancestral',
    seed: 3141592653,
    scale: 5,
    uc: 'lowres, bad anatomy',
    width: 64,
    height: 96,
  }),
});

const PNG: MediaInfo = mediaInfoFor('x.png') as MediaInfo;

describe('generator metadata without loss', () => {
  let tmp: TempDir;
  let et: ExifTool;
  const analyser = new ContentAnalyser(analyserParts());

  beforeAll(async () => {
    tmp = await tempDir();
    et = newExifTool();
  });
  afterAll(async () => {
    await et.end();
    await tmp.remove();
  });

  it('a Fooocus seed written as a JSON string above 2^53 is kept exactly', async () => {
    const json = JSON.stringify({
      prompt: 'a red kite',
      base_model: 'juggernautXL',
      guidance_scale: 4,
      seed: BIG_SEED,
      steps: 30,
      version: 'Fooocus v2.4.3',
      resolution: '(1024, 1024)',
    });
    const file = await tmp.write('fooocus.png', await pngWith([tEXt('parameters', json)]));
    const { generation } = await readBack(et, file);
    expect(generation?.source).toBe('fooocus');
    expect(generation?.seed).toBe(BIG_SEED);
    expect(JSON.parse(JSON.stringify(generation)).seed).toBe(BIG_SEED);
  });

  it('a bare 64-bit JSON number (ComfyUI) keeps its digits; fractions and strings are untouched', () => {
    const graph =
      '{"3":{"class_type":"KSampler","inputs":{"seed":18446744073709551615,"steps":20,"cfg":7.123456789012345678,' +
      '"positive":["6",0],"model":["4",0]}},"6":{"class_type":"CLIPTextEncode","inputs":{"text":"id 12345678901234567890"}},' +
      '"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"m.safetensors"}}}';
    const { generation } = extractGeneration({ fileName: 'x.png', pngText: { prompt: graph } });
    expect(generation).toMatchObject({ source: 'comfyui', seed: '18446744073709551615', steps: 20 });
    expect(generation?.prompt).toBe('id 12345678901234567890');
    expect(generation?.cfg_scale).toBeCloseTo(7.123456789, 6);
    expect(quoteLargeIntegers('[1.12345678901234567890, -99999999999999999999]')).toBe(
      '[1.12345678901234567890, "-99999999999999999999"]',
    );
  });

  it('A1111 text seeds above 2^53 are kept as decimal strings; small seeds stay numbers', () => {
    const big = extractGeneration({
      fileName: 'x.png',
      pngText: { parameters: 'x\nSteps: 2, Seed: 18446744073709551615, CFG scale: 1' },
    });
    expect(big.generation?.seed).toBe('18446744073709551615');
    const small = extractGeneration({
      fileName: 'x.png',
      pngText: { parameters: 'x\nSteps: 2, Seed: 42, CFG scale: 1' },
    });
    expect(small.generation?.seed).toBe(42);
  });

  it.each([
    ['stealth_pnginfo', false],
    ['stealth_pngcomp', true],
  ] as const)('A1111 stealth-pnginfo in the alpha LSBs (%s) gives prompt and settings', async (sig, gz) => {
    const payload = Buffer.from(A1111_TEXT, 'utf8');
    const png = await stealthPng(96, 80, sig, gz ? gzipSync(payload) : payload, 'alpha');
    const file = await tmp.write(`a1111-${sig}.png`, png);
    const a = await analyser.analyse(file, PNG);
    expect(a.generation).toMatchObject({
      source: 'automatic1111',
      prompt: 'a lighthouse at dusk, <lora:film:0.6>',
      negative_prompt: 'blurry',
      steps: 28,
      sampler: 'DPM++ 2M',
      cfg_scale: 6.5,
      seed: 987654321,
      width: 96,
      height: 80,
      model: 'dreamshaper_8',
      loras: [{ name: 'film', weight: 0.6 }],
      detected_from: 'stealth:alpha',
    });
  });

  it('A1111 stealth in the RGB LSBs of an RGBA image (stealth_rgbinfo) is read too', async () => {
    const png = await stealthPng(40, 30, 'stealth_rgbinfo', Buffer.from(A1111_TEXT, 'utf8'), 'rgb');
    const file = await tmp.write('a1111-rgb.png', png);
    const a = await analyser.analyse(file, PNG);
    expect(a.generation).toMatchObject({
      source: 'automatic1111',
      seed: 987654321,
      detected_from: 'stealth:rgb',
    });
  });

  it('NovelAI stealth (gzip JSON of its text chunks in the alpha LSBs) gives prompt and settings', async () => {
    const png = await stealthPng(
      64,
      96,
      'stealth_pngcomp',
      gzipSync(Buffer.from(NOVELAI_JSON, 'utf8')),
      'alpha',
    );
    const file = await tmp.write('novelai.png', png);
    const a = await analyser.analyse(file, PNG);
    expect(a.generation).toMatchObject({
      source: 'novelai',
      prompt: 'a fox in the snow',
      negative_prompt: 'lowres, bad anatomy',
      model: 'NovelAI Diffusion V4 4F49EC75',
      model_hash: '4F49EC75',
      seed: 3141592653,
      steps: 23,
      sampler: 'k_euler_ancestral',
      cfg_scale: 5,
      width: 64,
      height: 96,
      detected_from: 'stealth:alpha',
    });
  });

  it('an ordinary RGBA PNG has no stealth text, and a damaged stealth stream is a warning', async () => {
    const plain = await tmp.write(
      'plain.png',
      await stealthPng(20, 20, 'nothing_here_ok', Buffer.alloc(0), 'alpha'),
    );
    const a = await analyser.analyse(plain, PNG);
    expect(a.generation).toBeNull();
    const bad = await stealthPng(40, 40, 'stealth_pngcomp', Buffer.from('not gzip at all'), 'alpha');
    const b = await analyser.analyse(await tmp.write('bad.png', bad), PNG);
    expect(b.generation).toBeNull();
    expect(b.warnings.join()).toMatch(/not valid gzip/);
  });

  it('SwarmUI sui_image_params in the parameters chunk', async () => {
    const json = JSON.stringify({
      sui_image_params: {
        prompt: 'a glass city',
        negativeprompt: 'text',
        model: 'Flux/flux1-dev-fp8',
        seed: 305223794,
        steps: 25,
        cfgscale: 1.5,
        aspectratio: '1:1',
        width: 1024,
        height: 768,
        sampler: 'euler',
        scheduler: 'normal',
        loras: ['detail-tweaker'],
        loraweights: ['0.7'],
        swarm_version: '0.9.1.1',
      },
      sui_extra_data: { date: '2024-08-07' },
      sui_models: [{ name: 'flux1-dev-fp8.safetensors', param: 'model', hash: '0x1234abcd' }],
    });
    const file = await tmp.write('swarm.png', await pngWith([tEXt('parameters', json)]));
    const { generation } = await readBack(et, file);
    expect(generation).toMatchObject({
      source: 'swarmui',
      source_version: '0.9.1.1',
      prompt: 'a glass city',
      negative_prompt: 'text',
      model: 'Flux/flux1-dev-fp8',
      model_hash: '0x1234abcd',
      seed: 305223794,
      steps: 25,
      cfg_scale: 1.5,
      sampler: 'euler',
      width: 1024,
      height: 768,
      loras: [{ name: 'detail-tweaker', weight: 0.7 }],
      detected_from: 'png:parameters',
    });
  });

  it('Draw Things XMP (exif:UserComment JSON) read through exiftool', async () => {
    const comment = JSON.stringify({
      c: 'a koi pond, ukiyo-e',
      uc: 'photo',
      seed: 2718281828,
      steps: 20,
      scale: 4.5,
      sampler: 'DPM++ 2M Karras',
      model: 'sd_xl_base_1.0_f16.ckpt',
      size: '832x1216',
      strength: 1,
      seed_mode: 'Scale Alike',
      lora: [{ file: 'koi_lora_f16.ckpt', weight: 0.8 }],
    })
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;');
    const xmp = `<?xpacket begin='\uFEFF' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
<rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/' xmlns:exif='http://ns.adobe.com/exif/1.0/' xmlns:xmp='http://ns.adobe.com/xap/1.0/'>
<dc:description><rdf:Alt><rdf:li xml:lang='x-default'>a koi pond, ukiyo-e
Negative prompt: photo
Steps: 20, Sampler: DPM++ 2M Karras, Guidance Scale: 4.5, Seed: 2718281828, Size: 832x1216, Model: sd_xl_base_1.0_f16.ckpt</rdf:li></rdf:Alt></dc:description>
<exif:UserComment><rdf:Alt><rdf:li xml:lang='x-default'>${comment}</rdf:li></rdf:Alt></exif:UserComment>
<xmp:CreatorTool>Draw Things</xmp:CreatorTool>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>`;
    const file = await tmp.write('drawthings.png', await pngWith([iTXt('XML:com.adobe.xmp', xmp)]));
    const { generation } = await readBack(et, file);
    expect(generation).toMatchObject({
      source: 'drawthings',
      prompt: 'a koi pond, ukiyo-e',
      negative_prompt: 'photo',
      model: 'sd_xl_base_1.0_f16.ckpt',
      seed: 2718281828,
      steps: 20,
      sampler: 'DPM++ 2M Karras',
      cfg_scale: 4.5,
      width: 832,
      height: 1216,
      loras: [{ name: 'koi_lora_f16.ckpt', weight: 0.8 }],
      detected_from: 'exif:UserComment',
    });
  });
});
