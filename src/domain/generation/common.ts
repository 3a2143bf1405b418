/** Shared helpers for the generation parsers: bounded JSON, number coercion, caps. Pure. */
import { GENERATION_RAW_CAP, type Generation, type LoraRef } from './model.js';

/** Text larger than this is not parsed at all (a warning says so). */
export const MAX_PARSE_CHARS = 4 * 1024 * 1024;
/** Prompt and negative prompt are cut to this many characters so a sidecar stays small. */
export const PROMPT_CAP = 32 * 1024;
/** Graph walks and lists stop here, whatever the input claims. */
export const MAX_ITEMS = 10_000;

/** A Generation under construction: optional fields may still be undefined. */
export type Draft = { [K in keyof Generation]?: Generation[K] | undefined } & {
  source: string;
  detected_from: string;
};

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses JSON text expected to be an object; bad input gives a warning and undefined. */
export function parseJsonObject(text: string, label: string, warnings: string[]): JsonObject | undefined {
  if (text.length > MAX_PARSE_CHARS) {
    warnings.push(`${label}: ${text.length} characters, over the ${MAX_PARSE_CHARS} cap; not parsed`);
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(quoteLargeIntegers(text));
    if (isObject(parsed)) return parsed;
    warnings.push(`${label}: JSON is not an object`);
  } catch {
    warnings.push(`${label}: malformed JSON`);
  }
  return undefined;
}

/** True when text looks like a JSON object, so a failed parse is worth a warning. */
export function looksLikeJson(text: string): boolean {
  return text.trimStart().startsWith('{');
}

/** A finite number from a number or numeric string. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

/** A safe integer; anything else (fractions, integers beyond 2^53) is undefined. */
export function toInt(value: unknown): number | undefined {
  const n = toNumber(value);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

export function toText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** `512x512` / `(1024, 1024)` / `1024*1024` → width and height. */
export function parseSize(value: unknown): { width?: number; height?: number } {
  const text = toText(value);
  const m = text === undefined ? null : /(\d{1,6})\s*[x×*,]\s*(\d{1,6})/.exec(text);
  if (m === null) return {};
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** `<lora:name:0.8>` and `<lyco:name:0.8:…>` references in a prompt. */
export function lorasFromPrompt(prompt: string | undefined): LoraRef[] | undefined {
  if (prompt === undefined) return undefined;
  const out: LoraRef[] = [];
  for (const m of prompt.matchAll(/<(?:lora|lyco):([^:<>]+)(?::([^:<>]*))?[^<>]*>/gi)) {
    if (out.length >= MAX_ITEMS) break;
    const name = (m[1] ?? '').trim();
    const weight = toNumber(m[2]);
    if (name !== '') out.push(weight === undefined ? { name } : { name, weight });
  }
  return out.length > 0 ? out : undefined;
}

function cutUtf8(text: string, maxBytes: number): { text: string; cut: boolean } {
  // Every character is at least one byte, so encoding more than maxBytes characters is never needed.
  const bytes = new TextEncoder().encode(text.length > maxBytes ? text.slice(0, maxBytes) : text);
  if (bytes.length <= maxBytes && text.length <= maxBytes) return { text, cut: false };
  if (bytes.length <= maxBytes) return { text: new TextDecoder().decode(bytes), cut: true };
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: new TextDecoder().decode(bytes.subarray(0, end)), cut: true };
}

function capField(value: string | undefined, name: string, warnings: string[]): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (trimmed.length <= PROMPT_CAP) return trimmed;
  warnings.push(`${name}: ${trimmed.length} characters, cut to ${PROMPT_CAP}`);
  return trimmed.slice(0, PROMPT_CAP);
}

/** Turns a draft into a Generation: drops empty fields, caps prompts and the raw text. */
export function finish(draft: Draft, raw: string | undefined, warnings: string[]): Generation {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(draft)) {
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    out[key] = value;
  }
  const prompt = capField(draft.prompt, 'prompt', warnings);
  const negative = capField(draft.negative_prompt, 'negative prompt', warnings);
  if (prompt === undefined) delete out['prompt'];
  else out['prompt'] = prompt;
  if (negative === undefined) delete out['negative_prompt'];
  else out['negative_prompt'] = negative;
  if (raw !== undefined && raw !== '') {
    const capped = cutUtf8(raw, GENERATION_RAW_CAP);
    out['raw'] = capped.text;
    if (capped.cut) out['raw_truncated'] = true;
  }
  return out as unknown as Generation;
}

const DECIMAL_INT = /^[-+]?\d+$/;

/**
 * A seed, exactly: a safe integer as a number, a larger integer as its decimal string (Fooocus and
 * ComfyUI allow 64-bit seeds and Fooocus writes them as JSON strings). A non-integer number that
 * has already lost precision (a bare JSON number parsed elsewhere) is dropped with a warning.
 */
export function seedOf(value: unknown, warnings: string[]): number | string | undefined {
  if (typeof value === 'string' && DECIMAL_INT.test(value.trim())) {
    const text = value.trim().replace(/^\+/, '');
    const negative = text.startsWith('-');
    const digits = (negative ? text.slice(1) : text).replace(/^0+(?=\d)/, '');
    const n = Number(digits);
    if (Number.isSafeInteger(n)) return negative ? -n : n;
    if (digits.length > 40) {
      warnings.push(`seed ${digits.slice(0, 20)}… is longer than 40 digits; kept in raw only`);
      return undefined;
    }
    return negative ? `-${digits}` : digits;
  }
  const seed = toInt(value);
  if (seed === undefined && toNumber(value) !== undefined) {
    warnings.push(`seed ${String(value)} is not an exact integer; kept in raw only`);
  }
  return seed;
}

/**
 * JSON text with every integer literal beyond 2^53 turned into a string literal, so JSON.parse
 * keeps its digits (a seed of 2^63 − 1 would otherwise come back rounded). Strings, fractions and
 * exponents are left alone. Linear, never throws: malformed JSON comes out as malformed as it went in.
 */
export function quoteLargeIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    const isDigit = c >= 0x30 && c <= 0x39;
    if (!isDigit && c !== 0x2d) continue;
    // The whole number token, fraction and exponent included, so digits after a '.' are not taken
    // for an integer of their own.
    let end = i + 1;
    while (end < text.length && /[-+\d.eE]/.test(text.charAt(end))) end++;
    const literal = text.slice(i, end);
    if (literal.length >= 16 && /^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
      out += `${text.slice(last, i)}"${literal}"`;
      last = end;
    }
    i = end - 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * Seed, steps, sampler, CFG scale, width and height as most JSON formats keep them: flat, with
 * `seed`, `steps`, `width` and `height` under those names and sampler and CFG under the format's own
 * keys. In sidecar field order, to spread into a draft.
 */
export function flatSettings(
  data: JsonObject,
  keys: { readonly sampler: string; readonly cfg: string },
  warnings: string[],
): Pick<Draft, 'seed' | 'steps' | 'sampler' | 'cfg_scale' | 'width' | 'height'> {
  return {
    seed: seedOf(data['seed'], warnings),
    steps: toInt(data['steps']),
    sampler: toText(data[keys.sampler]),
    cfg_scale: toNumber(data[keys.cfg]),
    width: toInt(data['width']),
    height: toInt(data['height']),
  };
}
