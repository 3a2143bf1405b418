/** Tag parsing and tag-set arithmetic. Tags are stored as category → values. Pure. */

/** Category given to bare tags (`cyberpunk`) and to flat keywords read from files. */
export const DEFAULT_TAG_CATEGORY = 'keywords';

export interface Tag {
  readonly category: string;
  readonly value: string;
}

export type TagsByCategory = Record<string, string[]>;

/**
 * Parses `category:value` or a bare `value`. Only the first colon separates, so values may contain
 * colons. A category must look like an identifier; otherwise the whole string is the value.
 */
export function parseTag(input: string, defaultCategory = DEFAULT_TAG_CATEGORY): Tag {
  const text = input.trim();
  const colon = text.indexOf(':');
  if (colon > 0) {
    const category = text.slice(0, colon).trim();
    const value = text.slice(colon + 1).trim();
    if (/^[\p{L}\p{N}_-]{1,64}$/u.test(category) && value.length > 0) {
      return { category: category.toLowerCase(), value };
    }
  }
  return { category: defaultCategory, value: text };
}

export function formatTag(tag: Tag): string {
  return `${tag.category}:${tag.value}`;
}

export function tagKey(tag: Tag): string {
  return `${tag.category}:${tag.value.toLowerCase()}`;
}

export function flattenTags(tags: TagsByCategory): Tag[] {
  const out: Tag[] = [];
  for (const [category, values] of Object.entries(tags)) {
    for (const value of values) out.push({ category, value });
  }
  return out;
}

export function groupTags(tags: Iterable<Tag>): TagsByCategory {
  const out: TagsByCategory = {};
  const seen = new Set<string>();
  for (const tag of tags) {
    const key = tagKey(tag);
    if (seen.has(key)) continue;
    seen.add(key);
    (out[tag.category] ??= []).push(tag.value);
  }
  return out;
}

export function hasTag(tags: TagsByCategory, tag: Tag): boolean {
  const want = tag.value.toLowerCase();
  return (tags[tag.category] ?? []).some((v) => v.toLowerCase() === want);
}

export function addTags(tags: TagsByCategory, add: Iterable<Tag>): TagsByCategory {
  return groupTags([...flattenTags(tags), ...add]);
}

export function removeTags(tags: TagsByCategory, remove: Iterable<Tag>): TagsByCategory {
  const drop = new Set([...remove].map(tagKey));
  return groupTags(flattenTags(tags).filter((t) => !drop.has(tagKey(t))));
}

/** Lowercased, NFC-normalised value used by the index for case-insensitive matching. */
export function normaliseTagValue(value: string): string {
  return value.normalize('NFC').toLowerCase();
}
