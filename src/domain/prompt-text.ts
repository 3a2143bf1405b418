/** Prompt tokenisation for the prompt term index. Pure. */

const WORD_RE = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;
/** Terms longer than this are not indexed (they are hashes, base64 and other noise). */
const MAX_TERM = 40;

/** Lowercased, NFKC-normalised word tokens of a prompt, in order (duplicates kept). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(WORD_RE)) {
    const t = m[0].replace(/['’]s$/u, '');
    if (t.length > 0 && t.length <= MAX_TERM) out.push(t);
  }
  return out;
}

/**
 * A light English stemmer for plurals, so `cats` finds `cat` and `cities` finds `city`: `-ies` →
 * `-y`, `-(x|ch|sh|ss)es` → drop `es`, and a final `s` dropped unless the word ends in `ss`, `us`
 * or `is`. Short words are left alone. The index stores stemmed terms; the SQL twin
 * (`stemSql` in the index adapter) must give the same answer for every word.
 */
export function stem(term: string): string {
  const n = [...term].length;
  if (n > 4 && term.endsWith('ies')) return `${term.slice(0, -3)}y`;
  if (n > 4 && /(?:x|ch|sh|ss)es$/u.test(term)) return term.slice(0, -2);
  if (n > 3 && term.endsWith('s') && !/(?:ss|us|is)$/u.test(term)) return term.slice(0, -1);
  return term;
}

/** Stemmed term → frequency for a prompt, capped at `maxTerms` distinct terms. */
export function termFrequencies(text: string, maxTerms = 512): Map<string, number> {
  const tf = new Map<string, number>();
  for (const t of tokenize(text).map(stem)) {
    if (!tf.has(t) && tf.size >= maxTerms) continue;
    tf.set(t, (tf.get(t) ?? 0) + 1);
  }
  return tf;
}
