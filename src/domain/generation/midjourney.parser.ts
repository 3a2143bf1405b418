/**
 * Midjourney writes the prompt with its parameters and the job id into the image description
 * (PNG `Description`, XMP-dc Description, IPTC Caption-Abstract, EXIF ImageDescription):
 *   `a cat in space --ar 16:9 --v 6.0 --no trees Job ID: 7e4e6d3a-…`
 * The prompt keeps the text before the parameters; `--v`/`--version`/`--niji` give source_version,
 * `--no` gives the negative prompt, and the whole text stays in raw. Pure.
 */
import type { Generation } from './model.js';
import { MAX_PARSE_CHARS, finish } from './common.js';

const JOB_ID = /\s*Job ID:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i;

/** True when the description carries a Midjourney job id. */
export function isMidjourneyText(text: string): boolean {
  return text.length <= MAX_PARSE_CHARS && JOB_ID.test(text);
}

/** `--ar 16:9 --v 6.0 --no trees, cars` → { ar: '16:9', v: '6.0', no: 'trees, cars' }. */
export function midjourneyParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const part of text.split(/\s+(?=--[a-z])/i)) {
    const m = /^--([a-z][\w-]*)\s*(.*)$/is.exec(part.trim());
    if (m?.[1] !== undefined) params[m[1].toLowerCase()] = (m[2] ?? '').trim();
  }
  return params;
}

function versionOf(params: Record<string, string>): string | undefined {
  const v = params['v'] ?? params['version'];
  if (v !== undefined && v !== '') return v;
  if ('niji' in params) return `niji ${params['niji'] ?? ''}`.trim();
  return undefined;
}

export function parseMidjourney(text: string, detectedFrom: string, warnings: string[]): Generation | null {
  const m = JOB_ID.exec(text);
  if (m === null || text.length > MAX_PARSE_CHARS) return null;
  const body = text.slice(0, m.index).trim();
  const paramsAt = body.search(/(^|\s)--[a-z]/i);
  const prompt = paramsAt < 0 ? body : body.slice(0, paramsAt).trim();
  const params = paramsAt < 0 ? {} : midjourneyParams(body.slice(paramsAt));
  return finish(
    {
      source: 'midjourney',
      source_version: versionOf(params),
      prompt,
      negative_prompt: params['no'],
      detected_from: detectedFrom,
    },
    text,
    warnings,
  );
}
