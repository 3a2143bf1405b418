/**
 * Understanding an image with a vision model: the prompt, validation of the model's answer, cost
 * from token usage, the upper bound a request may cost before it is sent, the cache rule and how
 * the answer merges into `analysis.understanding`. Pure: no I/O. See docs/understanding.md.
 */
import { z } from 'zod';
import type { Understanding } from './sidecar.js';
import { flattenTags, formatTag, groupTags, hasTag, tagKey, type Tag } from './tags.js';

export type ProviderName = 'openai' | 'anthropic';

export interface Price {
  /** USD per million input tokens. */
  readonly input: number;
  /** USD per million output tokens. */
  readonly output: number;
}

export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

export interface UnderstandingAnswer {
  /** Category → values, only the configured categories, lowercased and de-duplicated. */
  readonly tags: Record<string, string[]>;
  readonly description: string;
}

/** Tokens the model may write: enough for a dozen tags per category and one sentence. */
export const MAX_OUTPUT_TOKENS = 600;
/** Longest side of the JPEG sent per image or video frame. */
export const IMAGE_MAX_SIDE = 768;
/**
 * Input tokens one image may cost at most, over the supported protocols: OpenAI high detail at
 * 768 px is 85 + 170 × 4 = 765 tokens, Anthropic (w × h) / 750 ≈ 787; other vision models served
 * through the OpenAI protocol (llava, qwen-vl) stay below 1 500. The bound is deliberately high.
 */
export const IMAGE_TOKEN_BOUND = 1500;
const MAX_TAGS_PER_CATEGORY = 12;
const MAX_TAG_CHARS = 60;
const MAX_DESCRIPTION_CHARS = 500;
/** The provenance recorded for tags that came from a model. */
export const AI_SOURCE_PREFIX = 'ai:';

/** The instruction sent with the image(s). */
export function understandingPrompt(categories: readonly string[], frames = 1): string {
  const shape = categories.map((c) => `"${c}": ["..."]`).join(', ');
  const what = frames > 1 ? `these ${frames} frames of one video` : 'this image';
  return (
    `Describe ${what} for a searchable media library. Answer with JSON only, no prose, in exactly ` +
    `this shape: {"tags": {${shape}}, "description": "one sentence"}. ` +
    `Give 1 to 6 short lowercase tags (one to three words each) per category: ${categories.join(', ')}. ` +
    'The description is one plain sentence saying what is shown.'
  );
}

/** A bound on the input tokens of one request: the images plus the prompt text (≤ 1 token per 2 characters) and framing. */
export function inputTokenBound(categories: readonly string[], frames = 1): number {
  return frames * IMAGE_TOKEN_BOUND + Math.ceil(understandingPrompt(categories, frames).length / 2) + 100;
}

/** USD for `usage` at `price`. */
export function costOf(usage: Usage, price: Price): number {
  return (usage.input_tokens * price.input + usage.output_tokens * price.output) / 1_000_000;
}

/** The most one request can cost: the input bound and every output token the request allows. */
export function requestCostBound(price: Price, categories: readonly string[], frames = 1): number {
  return costOf(
    { input_tokens: inputTokenBound(categories, frames), output_tokens: MAX_OUTPUT_TOKENS },
    price,
  );
}

const answerSchema = z.object({
  tags: z.record(z.string(), z.union([z.array(z.string()), z.string()])),
  description: z.string().min(1),
});

/** JSON candidates in a reply: fenced blocks first, then the text from the first `{` to each later `}`. */
function candidates(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/```(?:json)?\s*([\s\S]*?)```/gi)) if (m[1] !== undefined) out.push(m[1]);
  const start = text.indexOf('{');
  if (start >= 0) {
    // Longest first: the whole object, then shorter cuts when prose with braces follows it.
    for (
      let end = text.lastIndexOf('}');
      end > start && out.length < 20;
      end = text.lastIndexOf('}', end - 1)
    )
      out.push(text.slice(start, end + 1));
  }
  return out;
}

function cleanValues(value: string[] | string): string[] {
  const list = typeof value === 'string' ? value.split(',') : value;
  const seen = new Set<string>();
  for (const v of list) {
    const t = v.normalize('NFC').trim().toLowerCase().replace(/\s+/g, ' ').slice(0, MAX_TAG_CHARS);
    if (t !== '' && !seen.has(t) && seen.size < MAX_TAGS_PER_CATEGORY) seen.add(t);
  }
  return [...seen];
}

export type ParsedAnswer = { ok: true; answer: UnderstandingAnswer } | { ok: false; reason: string };

/**
 * Validates a model's reply. Tolerates code fences and prose around the JSON; rejects anything
 * that is not JSON of the right shape or that has no tag in a configured category.
 */
export function parseAnswer(text: string, categories: readonly string[]): ParsedAnswer {
  const wanted = new Set(categories.map((c) => c.toLowerCase()));
  let shapeError: string | undefined;
  for (const candidate of candidates(text)) {
    let data: unknown;
    try {
      data = JSON.parse(candidate);
    } catch {
      continue;
    }
    const parsed = answerSchema.safeParse(data);
    if (!parsed.success) {
      shapeError ??= parsed.error.issues
        .map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`)
        .join('; ');
      continue;
    }
    const tags: Record<string, string[]> = {};
    for (const [category, values] of Object.entries(parsed.data.tags)) {
      const c = category.trim().toLowerCase();
      if (!wanted.has(c)) continue;
      const clean = cleanValues(values);
      if (clean.length > 0) tags[c] = [...(tags[c] ?? []), ...clean];
    }
    if (Object.keys(tags).length === 0) return { ok: false, reason: 'no tags in the configured categories' };
    const description = parsed.data.description.trim().replace(/\s+/g, ' ').slice(0, MAX_DESCRIPTION_CHARS);
    return { ok: true, answer: { tags, description } };
  }
  return {
    ok: false,
    reason: shapeError === undefined ? 'the answer holds no JSON object' : `wrong JSON shape (${shapeError})`,
  };
}

/** True when the asset was already understood by this provider and model (the cache rule). */
export function isUnderstoodBy(u: Understanding, provider: ProviderName, model: string): boolean {
  return u['provider'] === provider && u['model'] === model && typeof u['at'] === 'string';
}

export interface UnderstandingMeta {
  readonly provider: ProviderName;
  readonly model: string;
  readonly at: string;
  readonly cost: number;
}

export interface UnderstandingMerge {
  readonly understanding: Understanding;
  readonly added: string[];
  readonly removed: string[];
}

/**
 * Merges an answer into the asset's understanding. The user's tags (and tags from files, prompts
 * and projects) win: a tag they already have keeps its source. Tags a model gave before and does
 * not give now are dropped, the rest are recorded with source `ai:<model>`. The description is the
 * model's unless the user wrote one (then the model's is kept as `ai_description`).
 */
export function mergeUnderstanding(
  u: Understanding,
  answer: UnderstandingAnswer,
  meta: UnderstandingMeta,
): UnderstandingMerge {
  const before = flattenTags(u.tags);
  const sources = { ...(u.tag_sources ?? {}) };
  const isAi = (t: Tag): boolean => (sources[tagKey(t)] ?? '').startsWith(AI_SOURCE_PREFIX);
  const fresh: Tag[] = Object.entries(answer.tags).flatMap(([category, values]) =>
    values.map((value) => ({ category, value })),
  );
  const freshKeys = new Set(fresh.map(tagKey));
  const kept = before.filter((t) => !isAi(t) || freshKeys.has(tagKey(t)));
  for (const t of before) if (isAi(t) && !freshKeys.has(tagKey(t))) delete sources[tagKey(t)];
  const next = groupTags([...kept, ...fresh.filter((t) => !kept.some((k) => tagKey(k) === tagKey(t)))]);
  for (const t of fresh) sources[tagKey(t)] ??= `${AI_SOURCE_PREFIX}${meta.model}`;
  const userDescription =
    typeof u.description === 'string' && u.description.trim() !== '' && u['description_source'] !== 'ai';
  const out: Understanding = {
    ...u,
    tags: next,
    tag_sources: sources,
    cost: meta.cost,
    provider: meta.provider,
    model: meta.model,
    at: meta.at,
  };
  if (userDescription) out['ai_description'] = answer.description;
  else {
    out.description = answer.description;
    out['description_source'] = 'ai';
  }
  const after = flattenTags(next);
  return {
    understanding: out,
    added: after.filter((t) => !hasTag(u.tags, t)).map(formatTag),
    removed: before.filter((t) => !hasTag(next, t)).map(formatTag),
  };
}
