import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { ExifTool } from 'exiftool-vendored';
import { extractGeneration } from '../../src/domain/generation/index.js';
import { basePng, pngWith, tEXt, tempDir, type TempDir } from './png-helpers.js';
import { newExifTool, readBack, writeTags } from './read-back.js';

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

const NOVELAI_COMMENT = JSON.stringify({
  prompt: '1girl, silver hair, starry sky',
  steps: 28,
  height: 1216,
  width: 832,
  scale: 5.0,
  uncond_scale: 0.0,
  cfg_rescale: 0.0,
  seed: 3829174,
  n_samples: 1,
  noise_schedule: 'native',
  sampler: 'k_euler_ancestral',
  uc: 'lowres, bad anatomy',
  request_type: 'PromptGenerateRequest',
});

describe('NovelAI', () => {
  it('reads Software/Description/Comment/Source written into a PNG by exiftool', async () => {
    const path = await tmp.write('nai.png', await basePng());
    await writeTags(et, path, {
      'PNG:Software': 'NovelAI',
      'PNG:Title': 'AI generated image',
      'PNG:Description': '1girl, silver hair, starry sky',
      'PNG:Comment': NOVELAI_COMMENT,
      'PNG:Source': 'Stable Diffusion XL C1E1DE52',
    });
    const { generation, warnings } = await readBack(et, path);
    expect(generation).toMatchObject({
      source: 'novelai',
      prompt: '1girl, silver hair, starry sky',
      negative_prompt: 'lowres, bad anatomy',
      model: 'Stable Diffusion XL C1E1DE52',
      model_hash: 'C1E1DE52',
      seed: 3829174,
      steps: 28,
      sampler: 'k_euler_ancestral',
      cfg_scale: 5,
      width: 832,
      height: 1216,
      detected_from: 'png:Software',
    });
    expect(warnings).toEqual([]);
  });

  it('reads V4 captions from the Comment JSON when Description is missing', () => {
    const comment = JSON.stringify({
      v4_prompt: { caption: { base_caption: 'a lighthouse', char_captions: [{ char_caption: 'a keeper' }] } },
      v4_negative_prompt: { caption: { base_caption: 'blurry', char_captions: [] } },
      seed: 5,
      steps: 23,
    });
    const { generation } = extractGeneration({
      fileName: 'x.png',
      exif: { Software: 'NovelAI', Comment: comment, Source: 'NovelAI Diffusion V4 4F49EC75' },
    });
    expect(generation).toMatchObject({
      prompt: 'a lighthouse\na keeper',
      negative_prompt: 'blurry',
      seed: 5,
      model_hash: '4F49EC75',
    });
  });
});

describe('InvokeAI', () => {
  it('reads invokeai_metadata (v3+)', async () => {
    const meta = {
      app_version: '4.2.4',
      generation_mode: 'sdxl_txt2img',
      positive_prompt: 'a misty forest at dawn',
      negative_prompt: 'people',
      width: 1024,
      height: 1024,
      seed: 2651278452,
      cfg_scale: 6,
      steps: 30,
      scheduler: 'dpmpp_2m_k',
      model: { key: 'abc', hash: 'blake3:1234', name: 'Juggernaut XL v9', base: 'sdxl', type: 'main' },
      loras: [{ model: { key: 'l1', name: 'detail-tweaker' }, weight: 0.6 }],
    };
    const path = await tmp.write(
      'invoke.png',
      await pngWith([tEXt('invokeai_metadata', JSON.stringify(meta))]),
    );
    const { generation, warnings } = await readBack(et, path);
    expect(generation).toMatchObject({
      source: 'invokeai',
      source_version: '4.2.4',
      prompt: 'a misty forest at dawn',
      negative_prompt: 'people',
      model: 'Juggernaut XL v9',
      model_hash: 'blake3:1234',
      seed: 2651278452,
      steps: 30,
      cfg_scale: 6,
      sampler: 'dpmpp_2m_k',
      loras: [{ name: 'detail-tweaker', weight: 0.6 }],
      detected_from: 'png:invokeai_metadata',
    });
    expect(warnings).toEqual([]);
  });

  it('reads v3 model_name and lora shapes', () => {
    const meta = {
      positive_prompt: 'x',
      model: { model_name: 'sd-1.5', base_model: 'sd-1' },
      loras: [{ lora: { model_name: 'l' }, weight: 1 }],
    };
    const { generation } = extractGeneration({
      fileName: 'x.png',
      pngText: { invokeai_metadata: JSON.stringify(meta) },
    });
    expect(generation).toMatchObject({ model: 'sd-1.5', loras: [{ name: 'l', weight: 1 }] });
  });

  it('reads sd-metadata (v2) with bracketed negative terms', async () => {
    const meta = {
      model: 'stable diffusion',
      model_weights: 'stable-diffusion-1.5',
      model_hash: 'cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516',
      app_id: 'invoke-ai/InvokeAI',
      app_version: '2.2.5',
      image: {
        prompt: [{ prompt: 'a castle on a hill [fog, blurry]', weight: 1.0 }],
        steps: 50,
        cfg_scale: 7.5,
        height: 512,
        width: 512,
        seed: 3409204785,
        type: 'txt2img',
        sampler: 'k_lms',
      },
    };
    const path = await tmp.write(
      'invoke2.png',
      await pngWith([tEXt('sd-metadata', JSON.stringify(meta)), tEXt('Dream', 'ignored')]),
    );
    const { generation } = await readBack(et, path);
    expect(generation).toMatchObject({
      source: 'invokeai',
      prompt: 'a castle on a hill',
      negative_prompt: 'fog, blurry',
      model: 'stable-diffusion-1.5',
      seed: 3409204785,
      steps: 50,
      cfg_scale: 7.5,
      sampler: 'k_lms',
      detected_from: 'png:sd-metadata',
    });
  });

  it('reads the Dream command line', async () => {
    const dream = '"a lighthouse in a storm [lowres]" -s 50 -S 12345 -W 512 -H 640 -C 7.5 -A k_lms';
    const path = await tmp.write('dream.png', await pngWith([tEXt('Dream', dream)]));
    const { generation } = await readBack(et, path);
    expect(generation).toMatchObject({
      source: 'invokeai',
      prompt: 'a lighthouse in a storm',
      negative_prompt: 'lowres',
      seed: 12345,
      steps: 50,
      width: 512,
      height: 640,
      cfg_scale: 7.5,
      sampler: 'k_lms',
      detected_from: 'png:Dream',
    });
  });
});

const FOOOCUS = {
  adm_guidance: '(1.5, 0.8, 0.3)',
  base_model: 'juggernautXL_v8Rundiffusion.safetensors',
  base_model_hash: 'aeb7e9e689',
  full_prompt: ['a red panda eating bamboo, highly detailed'],
  guidance_scale: 4,
  lora_combined_1: 'sd_xl_offset_example-lora_1.0.safetensors : 0.1',
  metadata_scheme: 'fooocus',
  negative_prompt: 'unrealistic',
  performance: 'Speed',
  prompt: 'a red panda eating bamboo',
  refiner_model: 'None',
  resolution: '(1152, 896)',
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  seed: '7439123561809214',
  sharpness: 2,
  steps: 30,
  styles: "['Fooocus V2', 'Fooocus Enhance']",
  version: 'Fooocus v2.5.5',
};

function expectFooocus(gen: unknown, from: string): void {
  expect(gen).toMatchObject({
    source: 'fooocus',
    source_version: 'Fooocus v2.5.5',
    prompt: 'a red panda eating bamboo',
    negative_prompt: 'unrealistic',
    model: 'juggernautXL_v8Rundiffusion.safetensors',
    model_hash: 'aeb7e9e689',
    seed: 7439123561809214,
    steps: 30,
    cfg_scale: 4,
    sampler: 'dpmpp_2m_sde_gpu',
    width: 1152,
    height: 896,
    loras: [{ name: 'sd_xl_offset_example-lora_1.0.safetensors', weight: 0.1 }],
    detected_from: from,
  });
}

describe('Fooocus', () => {
  it('reads the JSON parameters chunk with fooocus_scheme from a PNG', async () => {
    const path = await tmp.write(
      'fooocus.png',
      await pngWith([tEXt('parameters', JSON.stringify(FOOOCUS)), tEXt('fooocus_scheme', 'fooocus')]),
    );
    const { generation, warnings } = await readBack(et, path);
    expectFooocus(generation, 'png:parameters');
    expect(warnings).toEqual([]);
  });

  it('reads the JSON from EXIF UserComment in a JPEG', async () => {
    const path = await tmp.write(
      'fooocus.jpg',
      await sharp(await basePng())
        .jpeg()
        .toBuffer(),
    );
    await writeTags(et, path, { UserComment: JSON.stringify(FOOOCUS), Software: 'Fooocus v2.5.5' });
    const { generation } = await readBack(et, path);
    expectFooocus(generation, 'exif:UserComment');
  });

  it('recognises Fooocus in the A1111 scheme by its Version field', () => {
    const text =
      'a red panda\nNegative prompt: ugly\nSteps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 7, CFG scale: 4, Version: Fooocus v2.5.5';
    const { generation } = extractGeneration({
      fileName: 'x.png',
      pngText: { parameters: text, fooocus_scheme: 'a1111' },
    });
    expect(generation).toMatchObject({ source: 'fooocus', prompt: 'a red panda', seed: 7 });
  });
});

const MJ =
  'a lighthouse on a cliff at dusk, dramatic clouds --ar 16:9 --v 6.1 --no people, boats Job ID: 5d2c5a5e-1b9f-4c8e-9b0a-3f2e1d0c9b8a';

describe('Midjourney', () => {
  // exiftool also reports IPTC captions and EXIF descriptions under "Description", so the field
  // that wins is whichever exiftool-vendored names first; each one alone must be found.
  it.each(['XMP-dc:Description', 'IPTC:Caption-Abstract', 'EXIF:ImageDescription'])(
    'reads the prompt from %s written by exiftool',
    async (tag) => {
      const path = await tmp.write(
        `mj-${tag.replace(':', '_')}.jpg`,
        await sharp(await basePng())
          .jpeg()
          .toBuffer(),
      );
      await writeTags(et, path, {
        [tag]: MJ,
        'XMP-iptcExt:DigitalSourceType':
          'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
      });
      const { generation, warnings } = await readBack(et, path);
      expect(generation).toMatchObject({
        source: 'midjourney',
        source_version: '6.1',
        prompt: 'a lighthouse on a cliff at dusk, dramatic clouds',
        negative_prompt: 'people, boats',
        detected_from: expect.stringMatching(
          /^exif:(Description|Caption-Abstract|ImageDescription)$/,
        ) as unknown,
        raw: MJ,
      });
      expect(warnings).toEqual([]);
    },
  );

  it('reads a PNG Description chunk and the niji version', () => {
    const text = 'cat girl --niji 6 Job ID: 5d2c5a5e-1b9f-4c8e-9b0a-3f2e1d0c9b8a';
    const { generation } = extractGeneration({
      fileName: 'x.png',
      pngText: { Description: text, Author: 'someone' },
    });
    expect(generation).toMatchObject({
      source: 'midjourney',
      prompt: 'cat girl',
      source_version: 'niji 6',
      detected_from: 'png:Description',
    });
  });
});

describe('C2PA signers', () => {
  it.each([
    [{ ClaimGenerator: 'DALL·E openai-c2pa/0.1.0 c2pa-rs/0.28.4' }, 'dall-e', undefined],
    [
      {
        ClaimGeneratorInfoName: 'ChatGPT',
        ActionsSoftwareAgentName: 'GPT-4o',
        ActionsDigitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
      },
      'dall-e',
      'GPT-4o',
    ],
    [{ ClaimGenerator: 'Adobe_Firefly/1.0 adobe_c2pa/0.7.6 c2pa-rs/0.25.2' }, 'firefly', undefined],
    [
      {
        ClaimGenerator: 'Adobe_Photoshop/25.0 adobe_c2pa/0.7.6',
        ActionsDigitalSourceType:
          'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia',
      },
      'firefly',
      undefined,
    ],
    [
      {
        ClaimGeneratorInfoName: 'Some Tool',
        ActionsDigitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
      },
      'c2pa',
      undefined,
    ],
  ])('maps %o to %s', (exif, source, model) => {
    const { generation } = extractGeneration({ fileName: 'image.png', exif });
    expect(generation?.source).toBe(source);
    expect(generation?.model).toBe(model);
    expect(generation?.detected_from).toMatch(/^c2pa:/);
  });

  it('reads the version from the claim generator', () => {
    const { generation } = extractGeneration({
      fileName: 'i.jpg',
      exif: { ClaimGenerator: 'Adobe_Firefly/1.0 adobe_c2pa/0.7.6' },
    });
    expect(generation?.source_version).toBe('1.0');
  });

  it('ignores camera and editor manifests without an AI source type', () => {
    const { generation } = extractGeneration({
      fileName: 'L100.jpg',
      exif: {
        ClaimGenerator: 'Leica Camera AG/1.0',
        ActionsDigitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture',
      },
    });
    expect(generation).toBeNull();
  });
});

describe('file name fallback', () => {
  it('recognises default names weakly', () => {
    const comfy = extractGeneration({ fileName: 'out/ComfyUI_00001_.png' }).generation;
    expect(comfy).toEqual({ source: 'comfyui', detected_from: 'filename', raw: 'ComfyUI_00001_.png' });
    const dalle = extractGeneration({
      fileName: 'DALL·E 2024-03-15 10.22.33 - a prompt about otters.png',
    }).generation;
    expect(dalle).toMatchObject({
      source: 'dall-e',
      prompt: 'a prompt about otters',
      detected_from: 'filename',
    });
    const a1111 = extractGeneration({ fileName: '00012-1234567.png' }).generation;
    expect(a1111).toEqual({ source: 'automatic1111', detected_from: 'filename', raw: '00012-1234567.png' });
    expect(extractGeneration({ fileName: 'holiday-2024.jpg' }).generation).toBeNull();
  });

  it('never overrides embedded metadata', () => {
    const { generation } = extractGeneration({
      fileName: 'DALL·E 2024-03-15 10.22.33 - from the name.png',
      pngText: { parameters: 'from the file\nSteps: 5, Seed: 1, CFG scale: 2' },
    });
    expect(generation).toMatchObject({
      source: 'automatic1111',
      prompt: 'from the file',
      detected_from: 'png:parameters',
    });
  });
});
