/**
 * Decoding of PNG text chunk bodies (tEXt, zTXt, iTXt) per the PNG spec: Latin-1 for tEXt/zTXt,
 * UTF-8 for iTXt, zlib inflate bounded by the per-chunk cap. Problems become warnings. Pure.
 */
import { inflateSync } from 'node:zlib';
import type { PngTextLimits } from './png-chunks.js';

export function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

function utf8(bytes: Uint8Array): { text: string; valid: boolean } {
  try {
    return { text: strictUtf8.decode(bytes), valid: true };
  } catch {
    return { text: lenientUtf8.decode(bytes), valid: false };
  }
}

/**
 * tEXt/zTXt are Latin-1 by the PNG spec. Some writers put UTF-8 there anyway; bytes that form valid
 * multi-byte UTF-8 are almost never intended Latin-1, so those are read as UTF-8 (with a warning).
 */
function latin1Text(bytes: Uint8Array, label: string, warnings: string[]): string {
  if (!bytes.some((b) => b >= 0x80)) return latin1(bytes);
  const asUtf8 = utf8(bytes);
  if (!asUtf8.valid) return latin1(bytes);
  warnings.push(`${label} holds UTF-8 where the PNG spec says Latin-1; read as UTF-8`);
  return asUtf8.text;
}

function inflate(
  data: Uint8Array,
  limits: PngTextLimits,
  label: string,
  warnings: string[],
): Uint8Array | undefined {
  try {
    return inflateSync(data, { maxOutputLength: limits.maxChunkText });
  } catch (err) {
    const tooBig = err instanceof RangeError || (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
    warnings.push(
      tooBig
        ? `${label} inflates past ${limits.maxChunkText} bytes; skipped`
        : `${label} is not valid zlib data; skipped`,
    );
    return undefined;
  }
}

function splitNul(data: Uint8Array, from: number): { head: Uint8Array; rest: number } | undefined {
  const nul = data.indexOf(0, from);
  return nul < 0 ? undefined : { head: data.subarray(from, nul), rest: nul + 1 };
}

export interface DecodedText {
  readonly keyword: string;
  readonly text: string;
  readonly languageTag?: string;
  readonly translatedKeyword?: string;
}

/** Decodes one text chunk body, or returns undefined after adding a warning. */
export function decodeTextChunk(
  type: string,
  data: Uint8Array,
  limits: PngTextLimits,
  warnings: string[],
): DecodedText | undefined {
  const kw = splitNul(data, 0);
  if (kw === undefined || kw.head.length === 0 || kw.head.length > 79) {
    warnings.push(`${type} chunk has no valid keyword; skipped`);
    return undefined;
  }
  const keyword = latin1(kw.head);
  const label = `${type} "${keyword}"`;
  if (type === 'tEXt') return { keyword, text: latin1Text(data.subarray(kw.rest), label, warnings) };
  if (type === 'zTXt') {
    if (data[kw.rest] !== 0) {
      warnings.push(`${label} uses unknown compression method ${String(data[kw.rest])}; skipped`);
      return undefined;
    }
    const body = inflate(data.subarray(kw.rest + 1), limits, label, warnings);
    return body === undefined ? undefined : { keyword, text: latin1Text(body, label, warnings) };
  }
  return decodeInternational(data, kw.rest, keyword, limits, warnings);
}

function decodeInternational(
  data: Uint8Array,
  at: number,
  keyword: string,
  limits: PngTextLimits,
  warnings: string[],
): DecodedText | undefined {
  const label = `iTXt "${keyword}"`;
  const compressed = data[at] === 1;
  const lang = splitNul(data, at + 2);
  const translated = lang === undefined ? undefined : splitNul(data, lang.rest);
  if (data.length < at + 2 || lang === undefined || translated === undefined) {
    warnings.push(`${label} is malformed; skipped`);
    return undefined;
  }
  let body: Uint8Array | undefined = data.subarray(translated.rest);
  if (compressed) body = inflate(body, limits, label, warnings);
  if (body === undefined) return undefined;
  const decoded = utf8(body);
  if (!decoded.valid) warnings.push(`${label} is not valid UTF-8; bad bytes replaced`);
  const languageTag = latin1(lang.head);
  const translatedKeyword = utf8(translated.head).text;
  return {
    keyword,
    text: decoded.text,
    ...(languageTag === '' ? {} : { languageTag }),
    ...(translatedKeyword === '' ? {} : { translatedKeyword }),
  };
}
