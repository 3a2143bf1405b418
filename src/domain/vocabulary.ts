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
}

const compiled = new WeakMap<Vocabulary, readonly Matcher[]>();

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `oil painting` → a pattern that also matches `oil_painting` and `Oil-Painting`. */
function termPattern(term: string): string | undefined {
  const words = term
    .normalize('NFC')
    .trim()
    .split(/[\s_-]+/u)
    .filter((w) => w !== '');
  return words.length === 0 ? undefined : words.map(escapeRegExp).join('[\\s_-]+');
}

function compile(vocabulary: Vocabulary): readonly Matcher[] {
  const cached = compiled.get(vocabulary);
  if (cached !== undefined) return cached;
  const matchers: Matcher[] = [];
  for (const [category, words] of Object.entries(vocabulary)) {
    for (const [canonical, synonyms] of Object.entries(words)) {
      const patterns = [canonical, ...synonyms].map(termPattern).filter((p): p is string => p !== undefined);
      if (patterns.length === 0) continue;
      const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${patterns.join('|')})(?![\\p{L}\\p{N}])`, 'iu');
      matchers.push({ tag: { category, value: canonical }, re });
    }
  }
  compiled.set(vocabulary, matchers);
  return matchers;
}

/** The vocabulary tags found in a prompt, in vocabulary order, each at most once. */
export function tagsFromPrompt(prompt: string, vocabulary: Vocabulary): Tag[] {
  const text = prompt.slice(0, MAX_TAGGED_PROMPT).normalize('NFC');
  if (text.trim() === '') return [];
  return compile(vocabulary)
    .filter((m) => m.re.test(text))
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
