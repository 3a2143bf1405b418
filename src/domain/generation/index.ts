/**
 * Reads how an image was generated from its PNG text chunks and exiftool tags. Pure and total:
 * malformed, huge or binary input gives warnings and a null or partial result, never an exception.
 * What is read from where is documented in docs/generation-metadata.md.
 */
import { errorMessage } from '../errors.js';
import type { Generation } from './model.js';
import { cleanUserComment, parseA1111 } from './a1111.parser.js';
import { C2PA_KEYS, hasC2pa, parseC2pa, type C2paFields } from './c2pa.parser.js';
import { parseComfyPrompt, parseComfyWorkflow } from './comfyui.parser.js';
import { isObject, looksLikeJson, parseJsonObject } from './common.js';
import { parseFileName } from './filename.parser.js';
import { isFooocusJson, parseFooocus } from './fooocus.parser.js';
import { parseDream, parseInvokeMetadata, parseSdMetadata } from './invokeai.parser.js';
import { isMidjourneyText, parseMidjourney } from './midjourney.parser.js';
import { isNovelAI, parseNovelAI } from './novelai.parser.js';
import { isDrawThingsJson, parseDrawThings } from './drawthings.parser.js';
import type { StealthText } from './stealth.js';
import { isSwarmJson, parseSwarm } from './swarmui.parser.js';

export interface GenerationInput {
  readonly fileName: string;
  /** PNG text chunks by keyword, as read by the png-text adapter. */
  readonly pngText?: Record<string, string>;
  /** Tags as exiftool-vendored's `read()` returns them. */
  readonly exif?: Record<string, unknown>;
  /** Text hidden in the pixels' low bits (see stealth.ts), read by the caller when nothing else was found. */
  readonly stealth?: StealthText;
}

export interface GenerationResult {
  generation: Generation | null;
  warnings: string[];
}

interface Found {
  readonly text: string;
  readonly from: string;
}

/** exiftool values that are text: strings, numbers (exiftool-vendored turns "123" into 123), lists. */
function exifText(value: unknown): string | undefined {
  if (typeof value === 'string') return /^\(Binary data \d+ bytes/.test(value) ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) {
    const parts = value.map(exifText).filter((v): v is string => v !== undefined);
    return parts.length > 0 ? parts.join('\n') : undefined;
  }
  return undefined;
}

/** One lookup over both sources: the PNG chunk keyword first, then exiftool's names for it. */
class Fields {
  private readonly png: Record<string, unknown>;
  readonly exif: Record<string, unknown>;

  constructor(input: GenerationInput) {
    // Callers pass parsed data from outside; a wrong shape is ignored rather than trusted.
    this.png = isObject(input.pngText) ? input.pngText : {};
    this.exif = isObject(input.exif) ? input.exif : {};
  }

  get(pngKey: string | undefined, exifKeys: readonly string[]): Found | undefined {
    const png = pngKey === undefined ? undefined : this.png[pngKey];
    if (typeof png === 'string' && png.trim() !== '') return { text: png, from: `png:${pngKey ?? ''}` };
    for (const key of exifKeys) {
      const text = exifText(this.exif[key]);
      if (text !== undefined && text.trim() !== '') return { text, from: `exif:${key}` };
    }
    return undefined;
  }
}

function fromInvokeAI(f: Fields, w: string[]): Generation | null {
  const meta = f.get('invokeai_metadata', ['Invokeai_metadata', 'InvokeaiMetadata']);
  if (meta !== undefined) return parseInvokeMetadata(meta.text, meta.from, w);
  const sd = f.get('sd-metadata', ['Sd-metadata', 'SdMetadata']);
  if (sd !== undefined) return parseSdMetadata(sd.text, sd.from, w);
  const dream = f.get('Dream', ['Dream']);
  return dream === undefined ? null : parseDream(dream.text, dream.from, w);
}

/** JSON parameters: Fooocus, SwarmUI or Draw Things in their own schemes; other JSON is reported, not guessed at. */
function fromJsonParameters(found: Found, w: string[]): Generation | null {
  const data = parseJsonObject(found.text, found.from, w);
  if (data === undefined) return null;
  if (isFooocusJson(data)) return parseFooocus(data, found.text, found.from, w);
  if (isSwarmJson(data)) return parseSwarm(data, found.text, found.from, w);
  if (isDrawThingsJson(data)) return parseDrawThings(data, found.text, found.from, w);
  w.push(`${found.from}: JSON of an unknown generator`);
  return null;
}

function fromParameters(f: Fields, w: string[]): Generation | null {
  const params = f.get('parameters', ['Parameters']);
  if (params === undefined) return null;
  if (looksLikeJson(params.text)) return fromJsonParameters(params, w);
  const gen = parseA1111(params.text, params.from, w);
  // ComfyUI save nodes that also write A1111 text: the graph chunks say who made it.
  const comfy = f.get('prompt', ['Prompt']) ?? f.get('workflow', ['Workflow']);
  if (gen !== null && gen.source === 'automatic1111' && comfy !== undefined) gen.source = 'comfyui';
  return gen;
}

function fromComfyUI(f: Fields, w: string[]): Generation | null {
  const prompt = f.get('prompt', ['Prompt']);
  if (prompt !== undefined && !looksLikeJson(prompt.text))
    w.push(`${prompt.from}: not a ComfyUI graph (no JSON object)`);
  const fromPrompt =
    prompt === undefined || !looksLikeJson(prompt.text)
      ? null
      : parseComfyPrompt(prompt.text, prompt.from, w);
  if (fromPrompt !== null) return fromPrompt;
  const workflow = f.get('workflow', ['Workflow']);
  return workflow === undefined ? null : parseComfyWorkflow(workflow.text, workflow.from, w);
}

function fromNovelAI(f: Fields, w: string[]): Generation | null {
  const software = f.get('Software', ['Software']);
  if (software === undefined || !isNovelAI({ software: software.text })) return null;
  const description = f.get('Description', ['Description', 'ImageDescription']);
  return parseNovelAI(
    {
      software: software.text,
      description: description?.text,
      comment: f.get('Comment', ['Comment'])?.text,
      source: f.get('Source', ['Source'])?.text,
    },
    software.from,
    w,
  );
}

function fromUserComment(f: Fields, w: string[]): Generation | null {
  const found = f.get(undefined, ['UserComment']);
  if (found === undefined) return null;
  const text = cleanUserComment(found.text);
  if (looksLikeJson(text)) return fromJsonParameters({ text, from: found.from }, w);
  // UserComment holds camera notes too; only A1111-shaped text counts.
  if (!/(^|\n)(Steps: \d|Negative prompt:)/.test(text)) return null;
  return parseA1111(text, found.from, w);
}

function fromMidjourney(f: Fields, w: string[]): Generation | null {
  for (const [pngKey, exifKey] of [
    ['Description', 'Description'],
    [undefined, 'ImageDescription'],
    [undefined, 'Caption-Abstract'],
  ] as const) {
    const found = f.get(pngKey, [exifKey]);
    if (found !== undefined && isMidjourneyText(found.text))
      return parseMidjourney(found.text, found.from, w);
  }
  return null;
}

function fromC2pa(f: Fields, w: string[]): Generation | null {
  const fields: C2paFields = {};
  for (const key of C2PA_KEYS) {
    const text = exifText(f.exif[key]);
    if (text !== undefined) fields[key] = text.slice(0, 4096);
  }
  return hasC2pa(fields) ? parseC2pa(fields, w) : null;
}

/** A1111 `parameters` text or NovelAI's JSON of its text chunks, hidden in the pixels. */
function fromStealth(stealth: StealthText | undefined, w: string[]): Generation | null {
  if (stealth === undefined || typeof stealth.text !== 'string') return null;
  const from = `stealth:${stealth.mode}`;
  if (!looksLikeJson(stealth.text)) return parseA1111(stealth.text, from, w);
  const data = parseJsonObject(stealth.text, from, w);
  if (data === undefined) return null;
  const text = (key: string): string | undefined => {
    const v = data[key];
    if (typeof v === 'string') return v;
    return isObject(v) ? JSON.stringify(v) : undefined;
  };
  if (isNovelAI({ software: text('Software') })) {
    return parseNovelAI(
      {
        software: text('Software'),
        description: text('Description'),
        comment: text('Comment'),
        source: text('Source'),
      },
      from,
      w,
    );
  }
  return fromJsonParameters({ text: stealth.text, from }, w);
}

const EMBEDDED: ReadonlyArray<(f: Fields, w: string[]) => Generation | null> = [
  fromInvokeAI,
  fromParameters,
  fromComfyUI,
  fromNovelAI,
  fromUserComment,
  fromMidjourney,
];

function extract(input: GenerationInput, warnings: string[]): Generation | null {
  const fields = new Fields(input);
  for (const parse of EMBEDDED) {
    const gen = parse(fields, warnings);
    if (gen !== null) return gen;
  }
  return (
    fromStealth(input.stealth, warnings) ??
    fromC2pa(fields, warnings) ??
    parseFileName(typeof input.fileName === 'string' ? input.fileName : '', warnings)
  );
}

/**
 * Extracts generation parameters. Embedded metadata always wins over the file name; the first
 * generator that recognises its own layout decides (see docs/generation-metadata.md for the order).
 */
export function extractGeneration(input: GenerationInput): GenerationResult {
  const warnings: string[] = [];
  try {
    return { generation: extract(input, warnings), warnings };
  } catch (err) {
    // Parsers are written not to throw; this guard keeps a parser bug from failing a whole ingest.
    warnings.push(`generation parsing failed: ${errorMessage(err)}`);
    return { generation: null, warnings };
  }
}

export type { Generation } from './model.js';
