/**
 * Vocabulary tagging: a vocabulary maps category → canonical word → synonyms, and a prompt gets the
 * tags whose words it contains. Matching is case-insensitive and Unicode-aware, on word boundaries
 * (letters and digits; `_` and `-` separate words, so `oil_painting` and `anime-style` match), and
 * the words of a phrase may be separated by spaces, `_` or `-`. Pure.
 */
import { z } from 'zod';
import { AliceError, ErrorCode } from './errors.js';
import type { Tag } from './tags.js';

/** category → canonical value → synonyms (the canonical value always matches itself). */
export type Vocabulary = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

/** Prompts longer than this are tagged on their first part only. */
export const MAX_TAGGED_PROMPT = 64 * 1024;

interface Matcher {
  readonly tag: Tag;
  readonly re: RegExp;
  /** Position in vocabulary order. */
  readonly order: number;
}

interface Compiled {
  readonly matchers: readonly Matcher[];
  /**
   * Matchers by the first run of letters and digits of each of their words' first word, folded
   * (see `fold`): a prompt can only match a matcher one of whose keys is among its own runs.
   */
  readonly byKey: ReadonlyMap<string, readonly Matcher[]>;
  /** Matchers with a term that has no letter or digit: always tried. */
  readonly keyless: readonly Matcher[];
}

const compiled = new WeakMap<Vocabulary, Compiled>();

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function termWords(term: string): string[] {
  return term
    .normalize('NFC')
    .trim()
    .split(/[\s_-]+/u)
    .filter((w) => w !== '');
}

/** `oil painting` → a pattern that also matches `oil_painting` and `Oil-Painting`. */
function termPattern(term: string): string | undefined {
  const words = termWords(term);
  return words.length === 0 ? undefined : words.map(escapeRegExp).join('[\\s_-]+');
}

const RUN = /[\p{L}\p{N}]+/gu;

/**
 * Case folding for the prefilter, close to the simple case folding of the matchers'
 * case-insensitive Unicode flag: each character through upper then lower case where that maps it
 * to one character (`ſ` and `s`, `ς` and `σ`, `K` (Kelvin) and `k` agree), else lower case only
 * (`ß` stays `ß` and `ẞ` becomes it, rather than `ss`).
 */
function fold(text: string): string {
  let out = '';
  for (const ch of text) {
    const upper = ch.toUpperCase();
    out += (upper.length === ch.length ? upper : ch).toLowerCase();
  }
  return out;
}

function compile(vocabulary: Vocabulary): Compiled {
  const cached = compiled.get(vocabulary);
  if (cached !== undefined) return cached;
  const matchers: Matcher[] = [];
  const byKey = new Map<string, Matcher[]>();
  const keyless: Matcher[] = [];
  for (const [category, words] of Object.entries(vocabulary)) {
    for (const [canonical, synonyms] of Object.entries(words)) {
      const terms = [canonical, ...synonyms];
      const patterns = terms.map(termPattern).filter((p): p is string => p !== undefined);
      if (patterns.length === 0) continue;
      const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${patterns.join('|')})(?![\\p{L}\\p{N}])`, 'iu');
      const m: Matcher = { tag: { category, value: canonical }, re, order: matchers.length };
      matchers.push(m);
      const keys = new Set<string>();
      let always = false;
      for (const term of terms) {
        const first = termWords(term)[0];
        if (first === undefined) continue;
        const run = fold(first).match(RUN)?.[0];
        if (run === undefined) always = true;
        else keys.add(run);
      }
      if (always) keyless.push(m);
      else for (const k of keys) (byKey.get(k) ?? byKey.set(k, []).get(k))?.push(m);
    }
  }
  const out: Compiled = { matchers, byKey, keyless };
  compiled.set(vocabulary, out);
  return out;
}

/**
 * The vocabulary tags found in a prompt, in vocabulary order, each at most once. Only the matchers
 * whose first word's letters occur in the prompt as a run of their own are tried (a prompt meets a
 * few dozen of a vocabulary's hundreds of words); the answer is that of trying them all
 * (`tagsFromPromptByEveryMatcher`, compared in test/tagging).
 */
export function tagsFromPrompt(prompt: string, vocabulary: Vocabulary): Tag[] {
  const text = prompt.slice(0, MAX_TAGGED_PROMPT).normalize('NFC');
  if (text.trim() === '') return [];
  const { byKey, keyless } = compile(vocabulary);
  const candidates = new Set<Matcher>(keyless);
  for (const run of fold(text).match(RUN) ?? []) for (const m of byKey.get(run) ?? []) candidates.add(m);
  return [...candidates]
    .filter((m) => m.re.test(text))
    .sort((a, b) => a.order - b.order)
    .map((m) => m.tag);
}

/** The same answer by trying every matcher: the definition `tagsFromPrompt` is tested against. */
export function tagsFromPromptByEveryMatcher(prompt: string, vocabulary: Vocabulary): Tag[] {
  const text = prompt.slice(0, MAX_TAGGED_PROMPT).normalize('NFC');
  if (text.trim() === '') return [];
  return compile(vocabulary)
    .matchers.filter((m) => m.re.test(text))
    .map((m) => m.tag);
}

const categorySchema = z
  .string()
  .regex(/^[\p{L}\p{N}_-]{1,64}$/u, 'category names are letters, digits, _ or - (at most 64)');
const wordSchema = z.string().trim().min(1).max(200);
/** `canonical: [synonyms]`, `canonical:` (no synonyms) or `canonical: synonym`. */
const synonymsSchema = z.union([z.array(wordSchema).max(1000), wordSchema, z.null()]);
const categoryWordsSchema = z.union([z.record(wordSchema, synonymsSchema), z.array(wordSchema).max(10_000)]);
const vocabularySchema = z.record(categorySchema, categoryWordsSchema);

/**
 * Validates a vocabulary loaded from a user's YAML or JSON file. Each category is either a map of
 * canonical word → synonyms or a plain list of words. Category names are lowercased. Every problem
 * is reported at once in an AliceError (CONFIG_INVALID).
 */
export function parseVocabulary(data: unknown): Vocabulary {
  const parsed = vocabularySchema.safeParse(data);
  if (!parsed.success) {
    const details = parsed.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
    );
    throw new AliceError(ErrorCode.CONFIG_INVALID, 'vocabulary file is invalid', {
      hint: 'use `category: { canonical: [synonym, …] }` or `category: [word, …]`',
      details,
    });
  }
  const out: Record<string, Record<string, string[]>> = {};
  for (const [category, words] of Object.entries(parsed.data)) {
    const target = (out[category.toLowerCase()] ??= {});
    const entries: Array<[string, string[] | string | null]> = Array.isArray(words)
      ? words.map((w) => [w, null])
      : Object.entries(words);
    for (const [canonical, synonyms] of entries) {
      const list = synonyms === null ? [] : Array.isArray(synonyms) ? synonyms : [synonyms];
      target[canonical] = [...(target[canonical] ?? []), ...list];
    }
  }
  return out;
}

/** A user vocabulary on top of a base one: categories and words merge, synonyms add up. */
export function mergeVocabularies(base: Vocabulary, extra: Vocabulary): Vocabulary {
  const out: Record<string, Record<string, readonly string[]>> = {};
  for (const vocab of [base, extra]) {
    for (const [category, words] of Object.entries(vocab)) {
      const target = (out[category] ??= {});
      for (const [canonical, synonyms] of Object.entries(words)) {
        target[canonical] = [...new Set([...(target[canonical] ?? []), ...synonyms])];
      }
    }
  }
  return out;
}
