/**
 * SwarmUI (StableSwarmUI): PNG `parameters` text chunk (JPEG/WebP: EXIF UserComment) holding JSON
 * `{ "sui_image_params": { prompt, negativeprompt, model, seed, steps, cfgscale, width, height,
 * sampler, scheduler, loras: [name], loraweights: [weight], swarm_version, … }, "sui_extra_data":
 * {…}, "sui_models": [{ name, param, hash }] }` (SwarmUI docs, "Image Metadata Format"). Pure.
 */
import type { Generation, LoraRef } from './model.js';
import { MAX_ITEMS, finish, isObject, seedOf, toInt, toNumber, toText, type JsonObject } from './common.js';

export function isSwarmJson(data: JsonObject): boolean {
  return isObject(data['sui_image_params']);
}

function swarmLoras(params: JsonObject): LoraRef[] {
  const names = Array.isArray(params['loras']) ? params['loras'].slice(0, MAX_ITEMS) : [];
  const weights = Array.isArray(params['loraweights']) ? params['loraweights'] : [];
  const out: LoraRef[] = [];
  names.forEach((name, i) => {
    const n = toText(name)?.trim();
    const w = toNumber(weights[i]);
    if (n !== undefined) out.push(w === undefined ? { name: n } : { name: n, weight: w });
  });
  return out;
}

/** The hash SwarmUI lists for the main model in `sui_models` (`param: "model"`). */
function modelHash(data: JsonObject): string | undefined {
  const models = Array.isArray(data['sui_models']) ? data['sui_models'].slice(0, MAX_ITEMS) : [];
  const main = models.find((m): m is JsonObject => isObject(m) && m['param'] === 'model');
  return main === undefined ? undefined : toText(main['hash']);
}

export function parseSwarm(
  data: JsonObject,
  raw: string,
  detectedFrom: string,
  warnings: string[],
): Generation {
  const params = data['sui_image_params'] as JsonObject;
  return finish(
    {
      source: 'swarmui',
      source_version: toText(params['swarm_version']),
      prompt: toText(params['prompt']),
      negative_prompt: toText(params['negativeprompt']),
      model: toText(params['model']),
      model_hash: modelHash(data),
      seed: seedOf(params['seed'], warnings),
      steps: toInt(params['steps']),
      sampler: toText(params['sampler']),
      cfg_scale: toNumber(params['cfgscale']),
      width: toInt(params['width']),
      height: toInt(params['height']),
      loras: swarmLoras(params),
      detected_from: detectedFrom,
    },
    raw,
    warnings,
  );
}
