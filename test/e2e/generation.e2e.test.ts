/**
 * Issue 5 end to end, through the built `dist/cli/main.js` with its own ALICE_HOME and settings
 * file: real files in each generator's on-disk layout (PNG text chunks spliced into sharp-made
 * PNGs, a JPEG whose EXIF UserComment the real exiftool wrote) go through `alice index rebuild`;
 * `alice show` then has the generation metadata, `alice search --prompt duck` finds the
 * AUTOMATIC1111 PNG, and bad inputs are indexed with a warning instead of crashing the scan.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/domain/sidecar.js';
import type { AssetRecord } from '../../src/services/search/assets.service.js';
import type { ScanSummary } from '../../src/services/scan/scan.service.js';
import type { SearchResponse } from '../../src/services/search/search.service.js';
import { assertBuilt, runAlice } from '../helpers/cli.js';
import { imageBytes, makeWorkspace, sha256sum, type Workspace } from '../helpers/fixtures.js';
import { readIndex, readSidecarJson, sidecarFile } from '../helpers/library.js';
import { iTXt, pngWith, tEXt, zTXt } from '../generation/png-helpers.js';

let ws: Workspace;
let root: string;

async function alice<T>(...args: string[]): Promise<T> {
  const res = await runAlice(['--json', ...args], { env: ws.env, cwd: ws.dir });
  if (res.code !== 0)
    throw new Error(`alice ${args.join(' ')} exited ${res.code}: ${res.stderr}\n${res.stdout}`);
  return res.json<T>();
}

const file = (name: string): string => path.join(root, name);

const A1111 = [
  'a yellow rubber duck floating on a pond, golden hour, <lora:duckStyle:0.8>',
  'Negative prompt: blurry, lowres',
  'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567, Size: 512x512, Model hash: 6ce0161689, Model: dreamshaper_8, Version: v1.9.4',
].join('\n');

const COMFY_PROMPT = {
  '3': {
    class_type: 'KSampler',
    inputs: {
      seed: 42,
      steps: 20,
      cfg: 8,
      sampler_name: 'euler',
      scheduler: 'normal',
      denoise: 1,
      model: ['4', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['5', 0],
    },
  },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 1024, height: 1024, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a red fox in the snow', clip: ['4', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'watermark', clip: ['4', 1] } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
};

/** The same graph, but positive conditioning loops between two combine nodes. */
const COMFY_CYCLE = {
  ...COMFY_PROMPT,
  '3': { ...COMFY_PROMPT['3'], inputs: { ...COMFY_PROMPT['3'].inputs, positive: ['10', 0] } },
  '10': {
    class_type: 'ConditioningCombine',
    inputs: { conditioning_1: ['11', 0], conditioning_2: ['6', 0] },
  },
  '11': {
    class_type: 'ConditioningCombine',
    inputs: { conditioning_1: ['10', 0], conditioning_2: ['6', 0] },
  },
};

const INVOKE = {
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
};

const FOOOCUS = {
  prompt: 'a lighthouse on a cliff, stormy sea',
  negative_prompt: 'text, watermark',
  styles: "['Fooocus V2', 'Fooocus Enhance']",
  performance: 'Speed',
  resolution: '(1152, 896)',
  guidance_scale: 4,
  sharpness: 2,
  base_model: 'juggernautXL_v8Rundiffusion.safetensors',
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  seed: '987654321',
  steps: 30,
  version: 'Fooocus v2.4.3',
};

const NOVELAI_COMMENT = {
  prompt: '1girl, silver hair, starry sky',
  steps: 28,
  height: 1216,
  width: 832,
  scale: 5,
  seed: 3829174,
  sampler: 'k_euler_ancestral',
  uc: 'lowres, bad anatomy',
};

beforeAll(async () => {
  assertBuilt();
  ws = makeWorkspace();
  root = ws.roots[0] as string;
  const put = async (name: string, chunks: Buffer[]): Promise<void> => {
    fs.writeFileSync(file(name), await pngWith(chunks));
  };
  await put('a1111.png', [tEXt('parameters', A1111)]);
  await put('comfyui.png', [
    tEXt('prompt', JSON.stringify(COMFY_PROMPT)),
    tEXt('workflow', JSON.stringify({ nodes: [], links: [] })),
  ]);
  await put('invokeai.png', [iTXt('invokeai_metadata', JSON.stringify(INVOKE))]);
  await put('fooocus.png', [tEXt('parameters', JSON.stringify(FOOOCUS)), tEXt('fooocus_scheme', 'fooocus')]);
  await put('novelai.png', [
    tEXt('Title', 'AI generated image'),
    tEXt('Description', NOVELAI_COMMENT.prompt),
    tEXt('Software', 'NovelAI'),
    tEXt('Source', 'Stable Diffusion XL C1E1DE52'),
    zTXt('Comment', JSON.stringify(NOVELAI_COMMENT)),
  ]);
  // AUTOMATIC1111 saving a JPEG: the same text in EXIF UserComment, written by the real exiftool.
  fs.writeFileSync(file('a1111.jpg'), await imageBytes('jpeg', 31));
  const cat = A1111.replace('a yellow rubber duck floating on a pond', 'a tabby cat on a sofa');
  execFileSync('exiftool', ['-q', '-overwrite_original', `-UserComment=${cat}`, file('a1111.jpg')]);
  // Bad inputs.
  await put('truncated.png', [tEXt('prompt', JSON.stringify(COMFY_PROMPT).slice(0, 120))]);
  await put('huge.png', [tEXt('parameters', `a huge prompt ${'x'.repeat(5 * 1024 * 1024)}`)]);
  await put('garbage.png', [
    // Deterministic binary noise: control bytes (no NUL), never starting like JSON, so the parser
    // must call it binary data (a random buffer could start with `{` and take the JSON path).
    tEXt(
      'parameters',
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i % 3 === 0 ? 0x41 : 1 + ((i * 7) % 8)))),
    ),
  ]);
  await put('cycle.png', [tEXt('prompt', JSON.stringify(COMFY_CYCLE))]);
}, 120_000);
afterAll(() => ws?.cleanup());

async function show(name: string): Promise<AssetRecord & { sidecar: Sidecar }> {
  const rec = await alice<AssetRecord>('show', file(name));
  expect(rec.sidecar, `${name} has a sidecar`).not.toBeNull();
  return rec as AssetRecord & { sidecar: Sidecar };
}

describe('generation metadata from real files, through alice index rebuild', () => {
  it('indexes every file, bad ones included, without a single error', async () => {
    const r = await alice<{ summary: ScanSummary }>('index', 'rebuild');
    expect(r.summary.errors).toEqual([]);
    expect(r.summary.files_seen).toBe(10);
    expect(r.summary.assets).toBe(10);
  });

  it.each([
    [
      'a1111.png',
      {
        source: 'automatic1111',
        prompt: 'a yellow rubber duck floating on a pond, golden hour, <lora:duckStyle:0.8>',
        negative_prompt: 'blurry, lowres',
        model: 'dreamshaper_8',
        model_hash: '6ce0161689',
        seed: 1234567,
        steps: 28,
        sampler: 'DPM++ 2M Karras',
        cfg_scale: 7,
        loras: [{ name: 'duckStyle', weight: 0.8 }],
        detected_from: 'png:parameters',
      },
    ],
    [
      'a1111.jpg',
      {
        source: 'automatic1111',
        prompt: 'a tabby cat on a sofa, golden hour, <lora:duckStyle:0.8>',
        negative_prompt: 'blurry, lowres',
        model: 'dreamshaper_8',
        seed: 1234567,
        steps: 28,
      },
    ],
    [
      'comfyui.png',
      {
        source: 'comfyui',
        prompt: 'a red fox in the snow',
        negative_prompt: 'watermark',
        model: 'sd_xl_base_1.0.safetensors',
        seed: 42,
        steps: 20,
        cfg_scale: 8,
        sampler: 'euler',
        width: 1024,
        height: 1024,
        detected_from: 'png:prompt',
      },
    ],
    [
      'invokeai.png',
      {
        source: 'invokeai',
        source_version: '4.2.4',
        prompt: 'a misty forest at dawn',
        negative_prompt: 'people',
        model: 'Juggernaut XL v9',
        seed: 2651278452,
        steps: 30,
        detected_from: 'png:invokeai_metadata',
      },
    ],
    [
      'fooocus.png',
      {
        source: 'fooocus',
        prompt: 'a lighthouse on a cliff, stormy sea',
        negative_prompt: 'text, watermark',
        model: 'juggernautXL_v8Rundiffusion.safetensors',
        seed: 987654321,
        steps: 30,
        cfg_scale: 4,
      },
    ],
    [
      'novelai.png',
      {
        source: 'novelai',
        prompt: '1girl, silver hair, starry sky',
        negative_prompt: 'lowres, bad anatomy',
        model: 'Stable Diffusion XL C1E1DE52',
        seed: 3829174,
        steps: 28,
        cfg_scale: 5,
      },
    ],
  ])('alice show %s has its generation metadata in the sidecar and the index', async (name, expected) => {
    const rec = await show(name);
    expect(rec.sidecar.generation).toMatchObject(expected);
    expect(rec.index).toMatchObject({
      source: expected.source,
      prompt: expected.prompt,
      model: expected.model,
    });
  });

  it('alice search --prompt duck finds the AUTOMATIC1111 PNG and nothing else', async () => {
    const res = await alice<SearchResponse>('search', '--prompt', 'duck');
    expect(res.results.map((r) => r.path)).toEqual([file('a1111.png')]);
    expect(res.results[0]).toMatchObject({ source: 'automatic1111', model: 'dreamshaper_8' });
  });

  it.each([
    ['truncated.png', /malformed JSON/],
    ['huge.png', /cap/],
    ['garbage.png', /binary data|not valid UTF-8|Latin-1/],
    ['cycle.png', /cycle/],
  ])('%s is indexed with a warning recorded in its sidecar', async (name, warning) => {
    const hash = sha256sum(file(name));
    const sidecar = readSidecarJson(root, hash);
    expect(sidecar.media).toMatchObject({ width: 16, height: 16 });
    expect(sidecar.warnings?.join('\n')).toMatch(warning);
    // The sidecar stays small whatever the file holds (raw text is capped at 64 KiB).
    expect(fs.statSync(sidecarFile(root, hash)).size).toBeLessThan(200 * 1024);
    expect((await readIndex(ws.searchDb)).assets[hash]?.status).toBe('present');
  });

  it('a ComfyUI graph with a cycle still gives what can be read', () => {
    const sidecar = readSidecarJson(root, sha256sum(file('cycle.png')));
    expect(sidecar.generation).toMatchObject({
      source: 'comfyui',
      negative_prompt: 'watermark',
      model: 'sd_xl_base_1.0.safetensors',
      seed: 42,
    });
  });
});
