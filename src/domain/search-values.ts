/**
 * Parsers for search filter values: tags (`style:cyberpunk` vs bare `cyberpunk`), prompt queries
 * (words and "quoted phrases"), dates (absolute and relative), file formats and path globs, plus
 * the BM25 parameters used to rank prompt matches. Pure: no I/O.
 */
import { AliceError, ErrorCode } from './errors.js';
import { KNOWN_FORMATS } from './media.js';
import { stem, tokenize } from './prompt-text.js';
import { normaliseTagValue, parseTag } from './tags.js';

/** A tag to match: in one category, or (category null) in any category. Value lowercased. */
export interface TagMatch {
  readonly category: string | null;
  readonly value: string;
}

/** `style:cyberpunk` → that category only; `cyberpunk` → any category. */
export function parseTagMatch(input: string): TagMatch {
  const tag = parseTag(input, '');
  return { category: tag.category === '' ? null : tag.category, value: normaliseTagValue(tag.value) };
}

export interface PromptQuery {
  /** Distinct index terms (tokenised and stemmed as the prompt term index is): every one must occur. */
  readonly terms: readonly string[];
  /** Lowercased phrases with single spaces: each must occur verbatim in prompt or description. */
  readonly phrases: readonly string[];
}

/** Splits `red "neon city" night` into terms [red, neon, city, night] and phrases ["neon city"]. */
export function parsePromptQuery(input: string): PromptQuery {
  const phrases: string[] = [];
  for (const m of input.matchAll(/"([^"]*)"/g)) {
    const phrase = (m[1] ?? '').normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
    // A one-word phrase is just a term; the term index already checks it.
    if (phrase !== '' && tokenize(phrase).length > 1 && !phrases.includes(phrase)) phrases.push(phrase);
  }
  return { terms: [...new Set(tokenize(input).map(stem))], phrases };
}

/** One word of the search box: it matches a field word that starts with any of `prefixes`. */
export interface WordMatch {
  /** The stemmed word: a prompt term equal to it ranks above one it only starts. */
  readonly stem: string;
  /** The stem, and the word itself when the stem is not a prefix of it (`cities` → `city`). */
  readonly prefixes: readonly string[];
}

/** The words of a search box query, case-folded and stemmed, distinct, in order. */
export function parseWords(input: string): WordMatch[] {
  const out = new Map<string, WordMatch>();
  for (const word of tokenize(input)) {
    const s = stem(word);
    if (!out.has(s)) out.set(s, { stem: s, prefixes: word.startsWith(s) ? [s] : [s, word] });
  }
  return [...out.values()];
}

/** A resolved date filter: `column op at`, `at` an ISO-8601 UTC instant. */
export interface DateBound {
  readonly at: string;
  readonly op: '>=' | '<' | '<=';
}

const DAY_MS = 86_400_000;
const UNIT_MS: Readonly<Record<string, number>> = {
  min: 60_000,
  h: 3_600_000,
  d: DAY_MS,
  w: 7 * DAY_MS,
  mo: 30 * DAY_MS,
  y: 365 * DAY_MS,
};

function startOfUtcDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

/** [start, end) of a calendar period written as `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (UTC). */
function calendarPeriod(text: string): [Date, Date] | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(text);
  if (m === null) return undefined;
  const y = Number(m[1]);
  const mo = m[2] === undefined ? undefined : Number(m[2]) - 1;
  const d = m[3] === undefined ? undefined : Number(m[3]);
  const start = new Date(Date.UTC(y, mo ?? 0, d ?? 1));
  if (start.getUTCFullYear() !== y || start.getUTCMonth() !== (mo ?? 0) || start.getUTCDate() !== (d ?? 1)) {
    return undefined; // 2024-02-31 and friends
  }
  const end =
    d !== undefined
      ? new Date(Date.UTC(y, mo ?? 0, d + 1))
      : mo !== undefined
        ? new Date(Date.UTC(y, mo + 1, 1))
        : new Date(Date.UTC(y + 1, 0, 1));
  return [start, end];
}

function periodOf(text: string, now: Date): [Date, Date] | undefined {
  if (text === 'today' || text === 'yesterday') {
    const today = startOfUtcDay(now);
    const start = text === 'today' ? today : new Date(today.getTime() - DAY_MS);
    return [start, new Date(start.getTime() + DAY_MS)];
  }
  return calendarPeriod(text);
}

/**
 * Parses a `since`/`until` value. Relative (`30min`, `12h`, `7d`, `2w`, `3mo`, `1y`): that long
 * before `now`. Calendar (`2024`, `2024-03`, `2024-03-01`, `today`, `yesterday`, in UTC): since
 * = from its start, until = through its end. An ISO date-time is used as is (inclusive).
 */
export function parseDateBound(input: string, now: Date, edge: 'since' | 'until'): DateBound {
  const text = input.trim().toLowerCase();
  const rel = /^(\d{1,6})\s*(min|h|d|w|mo|y)$/.exec(text);
  if (rel !== null) {
    const at = new Date(now.getTime() - Number(rel[1]) * (UNIT_MS[rel[2] ?? 'd'] ?? 0));
    return { at: at.toISOString(), op: edge === 'since' ? '>=' : '<=' };
  }
  const period = periodOf(text, now);
  if (period !== undefined) {
    return edge === 'since'
      ? { at: period[0].toISOString(), op: '>=' }
      : { at: period[1].toISOString(), op: '<' };
  }
  if (/^\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}/.test(text)) {
    const ms = Date.parse(input.trim().replace(' ', 'T'));
    if (Number.isFinite(ms)) return { at: new Date(ms).toISOString(), op: edge === 'since' ? '>=' : '<=' };
  }
  throw new AliceError(ErrorCode.INVALID_INPUT, `cannot read ${edge} date "${input}"`, {
    hint: 'use 2024-03-01, 2024-03, 2024-03-01T12:00:00Z, today, yesterday, or a relative age such as 12h, 7d, 2w, 3mo, 1y',
  });
}

/** Format aliases: the index stores sharp's names (`jpeg`, `tiff`, `heif` for HEIC). */
const FORMAT_ALIASES: Readonly<Record<string, readonly string[]>> = {
  jpg: ['jpeg', 'jpg'],
  jpeg: ['jpeg', 'jpg'],
  tif: ['tiff', 'tif'],
  tiff: ['tiff', 'tif'],
  heic: ['heic', 'heif'],
  heif: ['heif', 'heic'],
};

/**
 * `png, .JPG` → `png, jpeg, jpg`; distinct, lowercased, aliases expanded. A format alice never
 * indexes could never match: it is an error that lists the known ones.
 */
export function normaliseFormats(formats: readonly string[]): string[] {
  const out = new Set<string>();
  for (const f of formats) {
    const key = f.trim().toLowerCase().replace(/^\./, '');
    if (key === '') continue;
    if (!KNOWN_FORMATS.includes(key)) {
      throw new AliceError(
        ErrorCode.INVALID_INPUT,
        `unknown format "${f.trim()}": no indexed file can have it`,
        {
          hint: `known formats: ${KNOWN_FORMATS.join(', ')}`,
        },
      );
    }
    for (const v of FORMAT_ALIASES[key] ?? [key]) out.add(v);
  }
  return [...out];
}

const REGEX_SPECIAL = /[\\^$.|+(){}]/;

/** Any character, newline included, in RE2 and in JavaScript. */
const ANY = '[\\s\\S]';

function classToRegex(glob: string, i: number): [string, number] | undefined {
  const close = glob.indexOf(']', i + 2);
  if (close < 0) return undefined;
  let body = glob.slice(i + 1, close);
  if (body.startsWith('!')) body = `^${body.slice(1)}`;
  return [`[${body.replace(/\\/g, '\\\\')}]`, close + 1];
}

/** Whether a `path` filter is a glob (`*`, `?`, `[…]`) rather than a plain folder or file path. */
export function isGlob(text: string): boolean {
  return /[*?[]/.test(text);
}

/**
 * Compiles a path glob to an RE2 pattern over the whole path. A path without wildcards is a folder
 * (or file): it matches itself and everything under it (`misc` = `misc` and `misc/**`). `*` and `?` stay within one path
 * segment, `**` crosses folders (`**` + `/` may match no folder at all), `[abc]`/`[!abc]` are
 * classes. A glob without `/` matches file names (`*.png`); a relative one matches at any depth
 * (`2024/*.png`); an absolute one matches from the root. "Anything" is `[\s\S]`, not `.`, so a
 * name holding a newline still matches (RE2's and JavaScript's `.` stop at one); the pattern means
 * the same in RE2 and in a JavaScript `RegExp` with the `u` flag.
 */
export function globToRegex(input: string): string {
  const plain = !isGlob(input);
  const glob = plain && input.length > 1 ? input.replace(/\/+$/, '') : input;
  let re = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? `(?:${ANY}*/)?` : `${ANY}*`;
      i += slash ? 3 : 2;
    } else if (c === '*') {
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '[' && classToRegex(glob, i) !== undefined) {
      const [cls, next] = classToRegex(glob, i) ?? ['', i + 1];
      re += cls;
      i = next;
    } else {
      re += REGEX_SPECIAL.test(c) || c === '[' || c === ']' ? `\\${c}` : c;
      i++;
    }
  }
  if (plain) re += glob === '/' ? `${ANY}*` : `(?:/${ANY}*)?`;
  return glob.startsWith('/') ? re : `(?:${ANY}*/)?${re}`;
}

/** BM25 term-frequency saturation. */
export const BM25_K1 = 1.2;
/** BM25 length normalisation (0 = none, 1 = full). */
export const BM25_B = 0.75;

/** BM25 inverse document frequency of a term found in `df` of `n` documents (always > 0). */
export function bm25Idf(n: number, df: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/** One term's BM25 contribution; `lengthRatio` is document length over the average length. */
export function bm25Term(idf: number, tf: number, lengthRatio: number): number {
  return (idf * (tf * (BM25_K1 + 1))) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * lengthRatio));
}
