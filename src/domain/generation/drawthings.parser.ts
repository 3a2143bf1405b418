/**
 * Draw Things (iOS/macOS) writes XMP (PNG: an `XML:com.adobe.xmp` iTXt chunk; JPEG: APP1) with
 * `xmp:CreatorTool` = "Draw Things", `dc:description` = the prompt in A1111-like text, and
 * `exif:UserComment` = JSON `{ c: prompt, uc: negative, seed, steps, scale, sampler, model,
 * size: "WxH", strength, seed_mode, lora: [{ file, weight }], v2: {…} }`. exiftool reports the XMP
 * UserComment as `UserComment`, so it reaches this parser the way EXIF UserComment does. Pure.
 */
import type { Generation, LoraRef } from './model.js';
import {
  MAX_ITEMS,
  finish,
  isObject,
  parseSize,
  seedOf,
  toInt,
  toNumber,
  toText,
  type JsonObject,
} from './common.js';

/** True when parsed UserComment JSON has Draw Things' short keys. */
export function isDrawThingsJson(data: JsonObject): boolean {
  return typeof data['c'] === 'string' && ('scale' in data || 'sampler' in data) && 'seed' in data;
}

function drawThingsLoras(data: JsonObject): LoraRef[] {
  const list = Array.isArray(data['lora']) ? data['lora'].slice(0, MAX_ITEMS) : [];
  const out: LoraRef[] = [];
  for (const item of list) {
    if (!isObject(item)) continue;
    const name = toText(item['file'])?.trim();
    const weight = toNumber(item['weight']);
    if (name !== undefined) out.push(weight === undefined ? { name } : { name, weight });
  }
  return out;
}

export function parseDrawThings(
  data: JsonObject,
  raw: string,
  detectedFrom: string,
  warnings: string[],
): Generation {
  return finish(
    {
      source: 'drawthings',
      prompt: toText(data['c']),
      negative_prompt: toText(data['uc']),
      model: toText(data['model']),
      seed: seedOf(data['seed'], warnings),
      steps: toInt(data['steps']),
      sampler: toText(data['sampler']),
      cfg_scale: toNumber(data['scale']),
      ...parseSize(data['size']),
      loras: drawThingsLoras(data),
      detected_from: detectedFrom,
    },
    raw,
    warnings,
  );
}
