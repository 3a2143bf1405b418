/**
 * InvokeAI, three generations of layout:
 * - v3+: `invokeai_metadata` JSON (positive_prompt, negative_prompt, model { model_name | name },
 *   seed, steps, cfg_scale, scheduler, width, height, loras [{ lora|model: { model_name|name }, weight }]);
 * - v2: `sd-metadata` JSON ({ model_weights, image: { prompt: [{ prompt, weight }] | string, seed, … } });
 * - v1/v2: `Dream` command line (`"prompt [negative]" -s 50 -S 12345 -W 512 -H 512 -C 7.5 -A k_lms`).
 * Old prompts mark negative terms with square brackets. Pure.
 */
import type { Generation, LoraRef } from './model.js';
import {
  MAX_ITEMS,
  MAX_PARSE_CHARS,
  finish,
  flatSettings,
  isObject,
  parseJsonObject,
  seedOf,
  toInt,
  toNumber,
  toText,
} from './common.js';

function nameOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!isObject(value)) return undefined;
  return toText(value['model_name']) ?? toText(value['name']) ?? toText(value['key']);
}

function invokeLoras(value: unknown): LoraRef[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: LoraRef[] = [];
  for (const item of value.slice(0, MAX_ITEMS)) {
    if (!isObject(item)) continue;
    const name = nameOf(item['lora'] ?? item['model']);
    const weight = toNumber(item['weight']);
    if (name !== undefined) out.push(weight === undefined ? { name } : { name, weight });
  }
  return out;
}

/** Parses v3+ `invokeai_metadata`. */
export function parseInvokeMetadata(
  text: string,
  detectedFrom: string,
  warnings: string[],
): Generation | null {
  const data = parseJsonObject(text, detectedFrom, warnings);
  if (data === undefined) return null;
  const model = data['model'];
  return finish(
    {
      source: 'invokeai',
      source_version: toText(data['app_version']),
      prompt: toText(data['positive_prompt']),
      negative_prompt: toText(data['negative_prompt']),
      model: nameOf(model),
      model_hash: isObject(model) ? toText(model['hash']) : undefined,
      ...flatSettings(data, { sampler: 'scheduler', cfg: 'cfg_scale' }, warnings),
      loras: invokeLoras(data['loras']),
      detected_from: detectedFrom,
    },
    text,
    warnings,
  );
}

/** Splits `a cat [ugly, blurry]` into the prompt and the bracketed negative terms. */
export function splitBracketNegative(prompt: string): { prompt: string; negative?: string } {
  const negatives: string[] = [];
  const positive = prompt.replace(/\[([^[\]]*)\]/g, (_, inner: string) => {
    negatives.push(inner.trim());
    return ' ';
  });
  const clean = positive.replace(/\s{2,}/g, ' ').trim();
  const negative = negatives.filter((n) => n !== '').join(', ');
  return negative === '' ? { prompt: clean } : { prompt: clean, negative };
}

function legacyPrompt(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return undefined;
  const parts = value.slice(0, MAX_ITEMS).map((p) => (isObject(p) ? toText(p['prompt']) : toText(p)));
  const text = parts.filter((p): p is string => p !== undefined).join(' ');
  return text === '' ? undefined : text;
}

/** Parses v2 `sd-metadata`. */
export function parseSdMetadata(text: string, detectedFrom: string, warnings: string[]): Generation | null {
  const data = parseJsonObject(text, detectedFrom, warnings);
  if (data === undefined) return null;
  const image = isObject(data['image']) ? data['image'] : {};
  const prompt = legacyPrompt(image['prompt']);
  const split = prompt === undefined ? undefined : splitBracketNegative(prompt);
  return finish(
    {
      source: 'invokeai',
      source_version: toText(data['app_version']),
      prompt: split?.prompt,
      negative_prompt: split?.negative,
      model: toText(data['model_weights']) ?? toText(data['model']),
      model_hash: toText(data['model_hash']),
      ...flatSettings(image, { sampler: 'sampler', cfg: 'cfg_scale' }, warnings),
      detected_from: detectedFrom,
    },
    text,
    warnings,
  );
}

const DREAM_FLAGS: Readonly<Record<string, string>> = {
  '-s': 'steps',
  '--steps': 'steps',
  '-S': 'seed',
  '--seed': 'seed',
  '-W': 'width',
  '--width': 'width',
  '-H': 'height',
  '--height': 'height',
  '-C': 'cfg',
  '--cfg_scale': 'cfg',
  '-A': 'sampler',
  '--sampler': 'sampler',
  '-m': 'model',
  '--model': 'model',
};

function dreamTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const m of text.matchAll(/"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g)) {
    if (tokens.length >= MAX_ITEMS) break;
    tokens.push(m[1]?.replace(/\\(.)/g, '$1') ?? m[2] ?? m[3] ?? '');
  }
  return tokens;
}

/** Parses the `Dream` command line. */
export function parseDream(text: string, detectedFrom: string, warnings: string[]): Generation | null {
  if (text.length > MAX_PARSE_CHARS) {
    warnings.push(`${detectedFrom}: too large to parse`);
    return null;
  }
  const words: string[] = [];
  const opts: Record<string, string> = {};
  const tokens = dreamTokens(text);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const key = DREAM_FLAGS[token];
    if (key !== undefined) opts[key] = tokens[++i] ?? '';
    else if (!token.startsWith('-') && Object.keys(opts).length === 0) words.push(token);
  }
  if (words.length === 0) {
    warnings.push(`${detectedFrom}: no prompt found`);
    return null;
  }
  const split = splitBracketNegative(words.join(' '));
  return finish(
    {
      source: 'invokeai',
      prompt: split.prompt,
      negative_prompt: split.negative,
      model: opts['model'],
      seed: seedOf(opts['seed'], warnings),
      steps: toInt(opts['steps']),
      sampler: opts['sampler'],
      cfg_scale: toNumber(opts['cfg']),
      width: toInt(opts['width']),
      height: toInt(opts['height']),
      detected_from: detectedFrom,
    },
    text,
    warnings,
  );
}
