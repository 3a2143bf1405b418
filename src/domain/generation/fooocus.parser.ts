/**
 * Fooocus in its own scheme: the `parameters` chunk (JPEG/WebP: EXIF UserComment) holds JSON, and a
 * `fooocus_scheme` chunk (JPEG: MakerNote) says "fooocus". Fields: prompt, negative_prompt,
 * base_model, base_model_hash, seed (a string: seeds go up to 2^63), steps, guidance_scale, sampler,
 * resolution "(1024, 1024)", version "Fooocus v2.x", LoRAs as `[[name, weight]]` or
 * `lora_combined_N: "name : weight"`. In the A1111 scheme Fooocus writes A1111 text instead. Pure.
 */
import type { Generation, LoraRef } from './model.js';
import { MAX_ITEMS, finish, parseSize, seedOf, toInt, toNumber, toText, type JsonObject } from './common.js';

/** True when parsed JSON looks like Fooocus output. */
export function isFooocusJson(data: JsonObject): boolean {
  const version = toText(data['version']) ?? '';
  return /^fooocus/i.test(version) || ('base_model' in data && 'guidance_scale' in data);
}

function fooocusLoras(data: JsonObject): LoraRef[] {
  const out: LoraRef[] = [];
  const push = (name: unknown, weight: unknown): void => {
    const n = toText(name)?.trim();
    const w = toNumber(weight);
    if (n !== undefined && n !== 'None' && out.length < MAX_ITEMS)
      out.push(w === undefined ? { name: n } : { name: n, weight: w });
  };
  if (Array.isArray(data['loras'])) {
    for (const item of data['loras'].slice(0, MAX_ITEMS)) if (Array.isArray(item)) push(item[0], item[1]);
  }
  for (const [key, value] of Object.entries(data)) {
    const m = /^lora_combined_\d+$/.test(key) ? /^(.*?)\s*:\s*([-\d.]+)\s*$/.exec(toText(value) ?? '') : null;
    if (m !== null) push(m[1], m[2]);
  }
  return out;
}

export function parseFooocus(
  data: JsonObject,
  raw: string,
  detectedFrom: string,
  warnings: string[],
): Generation {
  return finish(
    {
      source: 'fooocus',
      source_version: toText(data['version']),
      prompt: toText(data['prompt']),
      negative_prompt: toText(data['negative_prompt']),
      model: toText(data['base_model']),
      model_hash: toText(data['base_model_hash']),
      seed: seedOf(data['seed'], warnings),
      steps: toInt(data['steps']),
      sampler: toText(data['sampler']),
      cfg_scale: toNumber(data['guidance_scale']),
      ...parseSize(data['resolution']),
      loras: fooocusLoras(data),
      detected_from: detectedFrom,
    },
    raw,
    warnings,
  );
}
