/**
 * AUTOMATIC1111-style "parameters" text (also Forge, SD.Next, Fooocus in A1111 scheme):
 *
 *   prompt lines…
 *   Negative prompt: negative lines…
 *   Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 512x512, Model hash: abc, Model: foo, Version: v1.6.0
 *
 * Values may be double-quoted JSON strings holding commas (`Lora hashes: "a: 1, b: 2"`). Pure.
 */
import type { Generation } from './model.js';
import {
  MAX_PARSE_CHARS,
  finish,
  lorasFromPrompt,
  parseSize,
  seedOf,
  toInt,
  toNumber,
  toText,
} from './common.js';

const PARAM_RE = /\s*(\w[\w \-/+.()]*?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/gy;
const NEGATIVE_PREFIX = 'Negative prompt:';

/** Parses the settings line into key → value; undefined when it is not a settings line. */
export function parseSettingsLine(line: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  PARAM_RE.lastIndex = 0;
  while (PARAM_RE.lastIndex < line.length) {
    const start = PARAM_RE.lastIndex;
    const m = PARAM_RE.exec(line);
    if (m === null || PARAM_RE.lastIndex === start) break;
    params.set((m[1] ?? '').trim(), unquote((m[2] ?? '').trim()));
  }
  // A1111 itself needs three or more key: value pairs before it treats the last line as settings.
  return params.size >= 3 && params.has('Steps') ? params : undefined;
}

function unquote(value: string): string {
  if (!value.startsWith('"') || !value.endsWith('"') || value.length < 2) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value.slice(1, -1);
  }
}

/** True when text is mostly control bytes: binary data that found its way into a text field. */
export function looksBinary(text: string): boolean {
  const sample = text.slice(0, 4096);
  let control = 0;
  for (const ch of sample) {
    const c = ch.codePointAt(0) ?? 0;
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffd) control++;
  }
  return sample.length > 0 && control / sample.length > 0.05;
}

/** Which tool wrote A1111-style text, from its `Version` and `App` fields. */
export function a1111Source(params: Map<string, string> | undefined): string {
  const app = params?.get('App') ?? '';
  const version = params?.get('Version') ?? '';
  if (/sd\.?next/i.test(app) || /sd\.?next/i.test(version)) return 'sdnext';
  if (/^f\d+\.\d+/i.test(version)) return 'forge';
  if (/^fooocus/i.test(version)) return 'fooocus';
  if (/^comfyui/i.test(version)) return 'comfyui';
  if (/^invokeai/i.test(version)) return 'invokeai';
  return 'automatic1111';
}

function splitPrompt(lines: readonly string[]): { prompt: string; negative: string | undefined } {
  const prompt: string[] = [];
  let negative: string[] | undefined;
  for (const line of lines) {
    if (negative === undefined && line.startsWith(NEGATIVE_PREFIX)) {
      negative = [line.slice(NEGATIVE_PREFIX.length).trim()];
    } else {
      (negative ?? prompt).push(line);
    }
  }
  return { prompt: prompt.join('\n'), negative: negative?.join('\n') };
}

/**
 * Parses A1111 text. Returns null (with a warning) for text that is too large or binary; text
 * without a settings line still yields its prompt, with a warning.
 */
export function parseA1111(text: string, detectedFrom: string, warnings: string[]): Generation | null {
  if (text.length > MAX_PARSE_CHARS) {
    warnings.push(`${detectedFrom}: ${text.length} characters, over the ${MAX_PARSE_CHARS} cap; not parsed`);
    return null;
  }
  if (looksBinary(text)) {
    warnings.push(`${detectedFrom}: binary data, not generation parameters`);
    return null;
  }
  const lines = text.replace(/\r\n?/g, '\n').trim().split('\n');
  const params = parseSettingsLine(lines[lines.length - 1] ?? '');
  if (params === undefined) warnings.push(`${detectedFrom}: no settings line (Steps: …); prompt only`);
  const { prompt, negative } = splitPrompt(params === undefined ? lines : lines.slice(0, -1));
  const get = (key: string): string | undefined => params?.get(key);
  return finish(
    {
      source: a1111Source(params),
      source_version: toText(get('Version')),
      prompt,
      negative_prompt: negative,
      model: toText(get('Model')),
      model_hash: toText(get('Model hash')),
      seed: seedOf(get('Seed'), warnings),
      steps: toInt(get('Steps')),
      sampler: toText(get('Sampler')),
      cfg_scale: toNumber(get('CFG scale')),
      ...parseSize(get('Size')),
      loras: lorasFromPrompt(prompt),
      detected_from: detectedFrom,
    },
    text,
    warnings,
  );
}

/**
 * EXIF UserComment as a string. exiftool normally strips the 8-byte charset prefix, but values that
 * come through raw keep `UNICODE\0`/`ASCII\0\0\0`; UTF-16BE text read with the wrong byte order
 * (every character 0xXX00) is swapped back.
 */
export function cleanUserComment(value: string): string {
  let text = value.replace(/^(?:UNICODE\0|ASCII\0\0\0|\0{8})/, '');
  const sample = text.slice(0, 256);
  let swapped = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c & 0xff) === 0 && c >> 8 >= 0x09 && c >> 8 <= 0x7e) swapped++;
  }
  if (sample.length >= 4 && swapped / sample.length > 0.6) {
    const units = new Uint16Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      units[i] = ((c & 0xff) << 8) | (c >> 8);
    }
    text = new TextDecoder('utf-16le').decode(units);
  }
  return text.replace(/\0+$/, '');
}
