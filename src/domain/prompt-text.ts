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

/** Term → frequency for a prompt, capped at `maxTerms` distinct terms. */
export function termFrequencies(text: string, maxTerms = 512): Map<string, number> {
  const tf = new Map<string, number>();
  for (const t of tokenize(text)) {
    if (!tf.has(t) && tf.size >= maxTerms) continue;
    tf.set(t, (tf.get(t) ?? 0) + 1);
  }
  return tf;
}
