/**
 * NovelAI writes PNG text chunks (also visible through exiftool under the same names):
 * `Software` = "NovelAI", `Description` = prompt, `Comment` = JSON settings
 * ({ steps, sampler, seed, scale, uc, width, height, v4_prompt, … }), `Source` = model name with a
 * hash suffix ("Stable Diffusion XL C1E1DE52", "NovelAI Diffusion V4 4F49EC75"). Pure.
 */
import type { Generation } from './model.js';
import { finish, flatSettings, isObject, parseJsonObject, toText, type JsonObject } from './common.js';

export interface NovelAIFields {
  readonly software?: string | undefined;
  readonly description?: string | undefined;
  readonly comment?: string | undefined;
  readonly source?: string | undefined;
}

/** True when the fields were written by NovelAI. */
export function isNovelAI(fields: NovelAIFields): boolean {
  return /^\s*novelai\s*$/i.test(fields.software ?? '');
}

/** V4 keeps prompts as `{ caption: { base_caption, char_captions: [{ char_caption }] } }`. */
function v4Caption(value: unknown): string | undefined {
  if (!isObject(value) || !isObject(value['caption'])) return undefined;
  const caption = value['caption'];
  const parts = [toText(caption['base_caption'])];
  if (Array.isArray(caption['char_captions'])) {
    for (const c of caption['char_captions'].slice(0, 100))
      parts.push(isObject(c) ? toText(c['char_caption']) : undefined);
  }
  const text = parts.filter((p): p is string => p !== undefined).join('\n');
  return text === '' ? undefined : text;
}

export function parseNovelAI(
  fields: NovelAIFields,
  detectedFrom: string,
  warnings: string[],
): Generation | null {
  const comment: JsonObject =
    (fields.comment === undefined
      ? undefined
      : parseJsonObject(fields.comment, `${detectedFrom} Comment`, warnings)) ?? {};
  const model = toText(fields.source)?.trim();
  const hash = model === undefined ? undefined : /\b([0-9A-F]{8})$/i.exec(model)?.[1];
  return finish(
    {
      source: 'novelai',
      prompt: fields.description ?? toText(comment['prompt']) ?? v4Caption(comment['v4_prompt']),
      negative_prompt: toText(comment['uc']) ?? v4Caption(comment['v4_negative_prompt']),
      model,
      model_hash: hash,
      ...flatSettings(comment, { sampler: 'sampler', cfg: 'scale' }, warnings),
      detected_from: detectedFrom,
    },
    fields.comment ?? fields.description,
    warnings,
  );
}
