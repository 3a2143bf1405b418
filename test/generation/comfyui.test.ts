import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExifTool } from 'exiftool-vendored';
import { extractGeneration } from '../../src/domain/generation/index.js';
import { pngWith, tEXt, tempDir, zTXt, type TempDir } from './png-helpers.js';
import { newExifTool, readBack } from './read-back.js';

/** The default ComfyUI text-to-image graph plus a LoRA, a primitive string and a hires pass. */
const API = {
  '3': {
    class_type: 'KSampler',
    inputs: {
      seed: 156680208700286,
      steps: 20,
      cfg: 8,
      sampler_name: 'euler',
      scheduler: 'normal',
      denoise: 1,
      model: ['10', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['5', 0],
    },
  },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 768, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: ['12', 0], clip: ['10', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'text, watermark', clip: ['10', 1] } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] } },
  '10': {
    class_type: 'LoraLoader',
    inputs: {
      lora_name: 'pixel-art-xl.safetensors',
      strength_model: 0.7,
      strength_clip: 1,
      model: ['4', 0],
      clip: ['4', 1],
    },
  },
  '12': {
    class_type: 'PrimitiveStringMultiline',
    inputs: { value: 'beautiful scenery nature glass bottle landscape, purple galaxy bottle' },
  },
  '13': {
    class_type: 'KSampler',
    inputs: {
      seed: 1,
      steps: 10,
      cfg: 5,
      sampler_name: 'dpmpp_2m',
      denoise: 0.5,
      model: ['10', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['8', 0],
    },
  },
};

/** The same default graph as the editor saves it (`workflow` chunk). */
const WORKFLOW = {
  last_node_id: 9,
  last_link_id: 9,
  nodes: [
    {
      id: 3,
      type: 'KSampler',
      mode: 0,
      inputs: [
        { name: 'model', type: 'MODEL', link: 1 },
        { name: 'positive', type: 'CONDITIONING', link: 4 },
        { name: 'negative', type: 'CONDITIONING', link: 6 },
        { name: 'latent_image', type: 'LATENT', link: 2 },
      ],
      widgets_values: [42, 'randomize', 25, 7.5, 'dpmpp_2m', 'karras', 1],
    },
    {
      id: 4,
      type: 'CheckpointLoaderSimple',
      mode: 0,
      inputs: [],
      widgets_values: ['sd_xl_base_1.0.safetensors'],
    },
    { id: 5, type: 'EmptyLatentImage', mode: 0, inputs: [], widgets_values: [1024, 1024, 1] },
    {
      id: 6,
      type: 'CLIPTextEncode',
      mode: 0,
      inputs: [{ name: 'clip', type: 'CLIP', link: 3 }],
      widgets_values: ['a watercolor fox'],
    },
    {
      id: 7,
      type: 'CLIPTextEncode',
      mode: 0,
      inputs: [{ name: 'clip', type: 'CLIP', link: 5 }],
      widgets_values: ['ugly'],
    },
    {
      id: 11,
      type: 'LoraLoader',
      mode: 4,
      inputs: [{ name: 'model', link: 10 }],
      widgets_values: ['bypassed.safetensors', 1, 1],
    },
    { id: 8, type: 'VAEDecode', mode: 0, inputs: [] },
    { id: 9, type: 'SaveImage', mode: 0, inputs: [], widgets_values: ['ComfyUI'] },
  ],
  links: [
    [1, 11, 0, 3, 0, 'MODEL'],
    [10, 4, 0, 11, 0, 'MODEL'],
    [2, 5, 0, 3, 3, 'LATENT'],
    [3, 4, 1, 6, 0, 'CLIP'],
    [4, 6, 0, 3, 1, 'CONDITIONING'],
    [5, 4, 1, 7, 0, 'CLIP'],
    [6, 7, 0, 3, 2, 'CONDITIONING'],
  ],
  version: 0.4,
};

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

describe('ComfyUI', () => {
  it('follows the API graph in the prompt chunk of a real PNG', async () => {
    const path = await tmp.write(
      'ComfyUI_00001_.png',
      await pngWith([tEXt('prompt', JSON.stringify(API)), zTXt('workflow', JSON.stringify(WORKFLOW))]),
    );
    const { generation, warnings } = await readBack(et, path);
    expect(generation).toMatchObject({
      source: 'comfyui',
      prompt: 'beautiful scenery nature glass bottle landscape, purple galaxy bottle',
      negative_prompt: 'text, watermark',
      model: 'v1-5-pruned-emaonly.safetensors',
      seed: 156680208700286,
      steps: 20,
      cfg_scale: 8,
      sampler: 'euler',
      width: 512,
      height: 768,
      loras: [{ name: 'pixel-art-xl.safetensors', weight: 0.7 }],
      detected_from: 'png:prompt',
    });
    expect(warnings).toEqual(['ComfyUI graph has 2 sampler nodes; used node 3 (KSampler)']);
  });

  it('falls back to the workflow chunk when prompt is absent', async () => {
    const path = await tmp.write('wf.png', await pngWith([tEXt('workflow', JSON.stringify(WORKFLOW))]));
    const { generation, warnings } = await readBack(et, path);
    expect(generation).toMatchObject({
      source: 'comfyui',
      prompt: 'a watercolor fox',
      negative_prompt: 'ugly',
      model: 'sd_xl_base_1.0.safetensors',
      seed: 42,
      steps: 25,
      cfg_scale: 7.5,
      sampler: 'dpmpp_2m',
      width: 1024,
      height: 1024,
      detected_from: 'png:workflow',
    });
    // The bypassed LoRA did not apply.
    expect(generation?.loras).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('reads a Flux SamplerCustomAdvanced graph with guider, noise, sigmas and sampler nodes', () => {
    const flux = {
      '1': {
        class_type: 'UNETLoader',
        inputs: { unet_name: 'flux1-dev.safetensors', weight_dtype: 'default' },
      },
      '2': { class_type: 'CLIPTextEncode', inputs: { text: 'a red fox in snow', clip: ['9', 0] } },
      '3': { class_type: 'FluxGuidance', inputs: { guidance: 3.5, conditioning: ['2', 0] } },
      '4': { class_type: 'BasicGuider', inputs: { model: ['1', 0], conditioning: ['3', 0] } },
      '5': { class_type: 'RandomNoise', inputs: { noise_seed: 987654 } },
      '6': { class_type: 'KSamplerSelect', inputs: { sampler_name: 'euler' } },
      '7': {
        class_type: 'BasicScheduler',
        inputs: { scheduler: 'simple', steps: 30, denoise: 1, model: ['1', 0] },
      },
      '8': {
        class_type: 'SamplerCustomAdvanced',
        inputs: {
          noise: ['5', 0],
          guider: ['4', 0],
          sampler: ['6', 0],
          sigmas: ['7', 0],
          latent_image: ['10', 0],
        },
      },
      '10': { class_type: 'EmptySD3LatentImage', inputs: { width: 1024, height: 576, batch_size: 1 } },
    };
    const { generation } = extractGeneration({
      fileName: 'f.png',
      pngText: { prompt: JSON.stringify(flux) },
    });
    expect(generation).toMatchObject({
      prompt: 'a red fox in snow',
      model: 'flux1-dev.safetensors',
      seed: 987654,
      steps: 30,
      sampler: 'euler',
      width: 1024,
      height: 576,
    });
    expect(generation?.negative_prompt).toBeUndefined();
  });

  it('survives cycles and missing nodes with warnings', () => {
    const cyclic = {
      '1': {
        class_type: 'KSampler',
        inputs: { seed: 7, steps: 5, positive: ['2', 0], negative: ['99', 0], model: ['4', 0] },
      },
      '2': {
        class_type: 'ConditioningCombine',
        inputs: { conditioning_1: ['3', 0], conditioning_2: ['5', 0] },
      },
      '3': { class_type: 'ConditioningConcat', inputs: { conditioning_to: ['2', 0] } },
      '5': { class_type: 'CLIPTextEncode', inputs: { text: ['6', 0] } },
      '6': { class_type: 'StringNode', inputs: { string: ['6', 0] } },
      '4': { class_type: 'ModelSamplingDiscrete', inputs: { model: ['4', 0] } },
    };
    const { generation, warnings } = extractGeneration({
      fileName: 'c.png',
      pngText: { prompt: JSON.stringify(cyclic) },
    });
    expect(generation).toMatchObject({ source: 'comfyui', seed: 7, steps: 5 });
    expect(generation?.prompt).toBeUndefined();
    expect(warnings.some((w) => /missing node 99/.test(w))).toBe(true);
    expect(warnings.some((w) => /cycle/.test(w))).toBe(true);
  });

  it('reports malformed graphs without throwing', () => {
    for (const prompt of [
      '{"3": {"class_type": "KSampler", "inputs": {',
      '{"a": 1, "b": [1,2]}',
      '[]',
      '{}',
    ]) {
      const { generation, warnings } = extractGeneration({ fileName: 'm.png', pngText: { prompt } });
      expect(generation).toBeNull();
      expect(warnings.length).toBeGreaterThan(0);
    }
    const wf = extractGeneration({ fileName: 'm.png', pngText: { workflow: '{"nodes": "nope"}' } });
    expect(wf.generation).toBeNull();
    expect(wf.warnings.join()).toMatch(/no nodes array/);
  });

  it('uses the workflow when the prompt chunk is broken', () => {
    const { generation, warnings } = extractGeneration({
      fileName: 'b.png',
      pngText: { prompt: '{broken', workflow: JSON.stringify(WORKFLOW) },
    });
    expect(generation).toMatchObject({ prompt: 'a watercolor fox', detected_from: 'png:workflow' });
    expect(warnings.join()).toMatch(/malformed JSON/);
  });
});
