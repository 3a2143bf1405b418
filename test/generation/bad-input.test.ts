import { describe, expect, it } from 'vitest';
import { GENERATION_RAW_CAP } from '../../src/domain/generation/model.js';
import { extractGeneration, type GenerationInput } from '../../src/domain/generation/index.js';

const SETTINGS = 'Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1';

function run(input: GenerationInput) {
  let result: ReturnType<typeof extractGeneration> | undefined;
  expect(() => (result = extractGeneration(input))).not.toThrow();
  if (result === undefined) throw new Error('no result');
  return result;
}

describe('bad input never throws', () => {
  it.each([
    ['invokeai_metadata', '{"positive_prompt": "a cat", "seed": 1'],
    ['sd-metadata', '{"image": {"prompt": '],
    ['parameters', '{"prompt": "fooocus", "base_model": '],
    ['prompt', '{"3": {"class_type": "KSampler", '],
    ['workflow', '{"nodes": [{"id": 1, '],
  ])('truncated JSON in %s gives a warning', (key, text) => {
    const { generation, warnings } = run({ fileName: 'x.png', pngText: { [key]: text } });
    expect(generation).toBeNull();
    expect(warnings.join()).toMatch(/malformed JSON/);
  });

  it('truncated NovelAI Comment keeps what Description and Source give', () => {
    const { generation, warnings } = run({
      fileName: 'x.png',
      pngText: {
        Software: 'NovelAI',
        Description: 'a fox',
        Comment: '{"steps": 28, "seed":',
        Source: 'NovelAI Diffusion V4 4F49EC75',
      },
    });
    expect(generation).toMatchObject({
      source: 'novelai',
      prompt: 'a fox',
      model: 'NovelAI Diffusion V4 4F49EC75',
    });
    expect(warnings.join()).toMatch(/malformed JSON/);
  });

  it('JSON of an unknown generator in parameters is reported, not guessed at', () => {
    const { generation, warnings } = run({ fileName: 'x.png', pngText: { parameters: '{"foo": 1}' } });
    expect(generation).toBeNull();
    expect(warnings.join()).toMatch(/unknown generator/);
  });

  it('megabyte-sized text is capped: prompt at 32 Ki characters, raw at 64 KiB', () => {
    const prompt = 'cat, '.repeat(300_000);
    const { generation, warnings } = run({
      fileName: 'x.png',
      pngText: { parameters: `${prompt}\n${SETTINGS}` },
    });
    expect(generation?.prompt?.length).toBe(32 * 1024);
    expect(generation?.raw_truncated).toBe(true);
    expect(new TextEncoder().encode(generation?.raw).length).toBeLessThanOrEqual(GENERATION_RAW_CAP);
    expect(warnings.join()).toMatch(/prompt: \d+ characters, cut to 32768/);
  });

  it('raw is cut on a UTF-8 character boundary', () => {
    const prompt = '猫'.repeat(30_000);
    const { generation } = run({ fileName: 'x.png', pngText: { parameters: `${prompt}\n${SETTINGS}` } });
    expect(generation?.raw_truncated).toBe(true);
    expect(generation?.raw).not.toContain('\ufffd');
    expect(new TextEncoder().encode(generation?.raw).length).toBeLessThanOrEqual(GENERATION_RAW_CAP);
  });

  it('text over the 4 MiB parse cap is not parsed', () => {
    const huge = `${'x'.repeat(5 * 1024 * 1024)}\n${SETTINGS}`;
    for (const key of ['parameters', 'prompt', 'invokeai_metadata', 'Dream']) {
      const text = key === 'parameters' || key === 'Dream' ? huge : `{"a": "${'x'.repeat(5 * 1024 * 1024)}"}`;
      const { generation, warnings } = run({ fileName: 'x.png', pngText: { [key]: text } });
      expect(generation).toBeNull();
      expect(warnings.join()).toMatch(/cap|too large/);
    }
  });

  it('binary garbage in parameters is refused', () => {
    const bytes = Array.from({ length: 2000 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join('');
    const { generation, warnings } = run({ fileName: 'x.png', pngText: { parameters: bytes } });
    expect(generation).toBeNull();
    expect(warnings.join()).toMatch(/binary data/);
    expect(run({ fileName: 'x.jpg', exif: { UserComment: bytes } }).generation).toBeNull();
  });

  it('invalid UTF-8 (replacement characters, lone surrogates) does not break parsing', () => {
    const text = 'a \ud800 cat \ufffd\ufffd\nSteps: 20, Seed: 5, CFG scale: 7';
    const { generation } = run({ fileName: 'x.png', pngText: { parameters: text } });
    expect(generation).toMatchObject({ seed: 5, steps: 20 });
    expect(run({ fileName: 'x.png', pngText: { prompt: '{"1": "\ud800"}' } }).generation).toBeNull();
  });

  it('seeds beyond 2^53 are kept as exact decimal strings, not rounded; absurd ones are dropped', () => {
    const { generation } = run({
      fileName: 'x.png',
      pngText: { parameters: 'x\nSteps: 2, Seed: 18446744073709551615, CFG scale: 1' },
    });
    expect(generation?.seed).toBe('18446744073709551615');
    const huge = run({
      fileName: 'x.png',
      pngText: { parameters: `x\nSteps: 2, Seed: ${'9'.repeat(60)}, CFG scale: 1` },
    });
    expect(huge.generation?.seed).toBeUndefined();
    expect(huge.warnings.join()).toMatch(/longer than 40 digits/);
  });

  it('deeply nested JSON and deep ComfyUI chains stay bounded', () => {
    const nested = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(run({ fileName: 'x.png', pngText: { prompt: `{"a": ${nested}}` } }).generation).toBeNull();
    const graph: Record<string, unknown> = {
      '0': { class_type: 'KSampler', inputs: { seed: 3, positive: ['1', 0], model: ['1', 0] } },
    };
    for (let i = 1; i < 5000; i++) {
      graph[String(i)] = {
        class_type: 'ConditioningSetArea',
        inputs: { conditioning: [String(i + 1), 0], model: [String(i + 1), 0] },
      };
    }
    const { generation, warnings } = run({ fileName: 'x.png', pngText: { prompt: JSON.stringify(graph) } });
    expect(generation).toMatchObject({ source: 'comfyui', seed: 3 });
    expect(warnings.join()).toMatch(/too deep/);
  });

  it('odd exif value types are ignored', () => {
    const exif = {
      UserComment: {
        _ctor: 'BinaryField',
        bytes: 12,
        rawValue: '(Binary data 12 bytes, use -b option to extract)',
      },
      Software: ['Novel', 'AI'],
      Description: 12345,
      ClaimGenerator: { nested: true },
      Parameters: '(Binary data 3000 bytes, use -b option to extract)',
    };
    const { generation } = run({ fileName: 'x.jpg', exif });
    expect(generation).toBeNull();
  });

  it('input of the wrong shape is ignored', () => {
    const weird = { fileName: 42, pngText: 'not an object', exif: [1, 2, 3] } as unknown as GenerationInput;
    expect(run(weird)).toEqual({ generation: null, warnings: [] });
    expect(
      run({ fileName: 'x.png', pngText: { parameters: 7 } as unknown as Record<string, string> }).generation,
    ).toBeNull();
  });

  it('a ComfyUI graph with no sampler still names the source and model', () => {
    const graph = { '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'm.safetensors' } } };
    const { generation, warnings } = run({ fileName: 'x.png', pngText: { prompt: JSON.stringify(graph) } });
    expect(generation).toMatchObject({ source: 'comfyui', model: 'm.safetensors' });
    expect(warnings.join()).toMatch(/no sampler node/);
  });

  it('Midjourney text without a prompt and Dream text without a prompt', () => {
    expect(
      run({ fileName: 'x.jpg', exif: { Description: 'Job ID: 5d2c5a5e-1b9f-4c8e-9b0a-3f2e1d0c9b8a' } })
        .generation,
    ).toMatchObject({ source: 'midjourney' });
    const dream = run({ fileName: 'x.png', pngText: { Dream: '-s 50 -S 1' } });
    expect(dream.generation).toBeNull();
    expect(dream.warnings.join()).toMatch(/no prompt/);
  });
});
