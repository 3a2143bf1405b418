/**
 * The WHERE clause of a search over `assets a`: one fragment per filter, every user value a bound
 * parameter. Used by the search repository for pages, totals and facets alike.
 */
import type { SqlParam } from '../duckdb.adapter.js';
import type { ResolvedSearch } from '../../domain/search-filters.js';
import type { TagMatch, WordMatch } from '../../domain/search-values.js';
import { indexKey, placeholders, tagKeyText } from './rows.js';

/** `COALESCE(created_at, first_seen)`: when an asset was made, or else first seen. */
export const WHEN = 'COALESCE(a.created_at, a.first_seen)';

/** SQL fragments and their parameters, in order. */
export class Where {
  readonly parts: string[] = [];
  readonly params: SqlParam[] = [];

  add(sql: string, ...params: SqlParam[]): void {
    this.parts.push(sql);
    this.params.push(...params);
  }

  get sql(): string {
    return this.parts.length === 0 ? 'true' : this.parts.join('\n  AND ');
  }
}

/** The `tag_key` of a tag with a category (bound as `?::BIGINT`). */
export function tagKeyOf(t: TagMatch): string {
  return indexKey(tagKeyText(t.category ?? '', t.value));
}

/** Assets with any of these tags: by `tag_key` with a category, by normalised value without. */
function tagCondition(tags: readonly TagMatch[], w: Where): string {
  const ors = tags.map((t) => {
    if (t.category === null) {
      w.params.push(t.value);
      return '(value_norm = ?)';
    }
    w.params.push(tagKeyOf(t));
    return '(tag_key = ?::BIGINT)';
  });
  return `SELECT asset_id FROM asset_tags WHERE ${ors.join(' OR ')}`;
}

function addTagFilters(q: ResolvedSearch, w: Where, skip: TagMatch | null): void {
  for (const t of q.allTags) if (t !== skip) w.parts.push(`a.asset_id IN (${tagCondition([t], w)})`);
  if (q.anyTags.length > 0) w.parts.push(`a.asset_id IN (${tagCondition(q.anyTags, w)})`);
  if (q.excludeTags.length > 0) w.parts.push(`a.asset_id NOT IN (${tagCondition(q.excludeTags, w)})`);
}

/** `term_key IN (…)` for these terms, with their keys appended to `params`. */
export function termKeysIn(terms: readonly string[], params: SqlParam[]): string {
  params.push(...terms.map(indexKey));
  return `term_key IN (${terms.map(() => '?::BIGINT').join(', ')})`;
}

function addPromptFilters(q: ResolvedSearch, w: Where, terms: boolean): void {
  if (q.prompt === null) return;
  const { phrases } = q.prompt;
  if (terms && q.prompt.terms.length === 1) {
    w.parts.push(
      `a.asset_id IN (SELECT asset_id FROM prompt_terms WHERE ${termKeysIn(q.prompt.terms, w.params)})`,
    );
  } else if (terms && q.prompt.terms.length > 1) {
    w.parts.push(
      `a.asset_id IN (SELECT asset_id FROM prompt_terms WHERE ${termKeysIn(q.prompt.terms, w.params)}
        GROUP BY asset_id HAVING count(*) = ?)`,
    );
    w.params.push(q.prompt.terms.length);
  }
  for (const p of phrases) {
    w.add(`strpos(lower(concat_ws(' ', a.prompt, a.description)), ?) > 0`, p);
  }
}

/** RE2 pattern: a word of the text that starts with one of these prefixes. */
export function wordStartPattern(prefixes: readonly string[]): string {
  const alts = prefixes.map((p) => p.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`));
  return `(^|[^\\p{L}\\p{N}])(${alts.join('|')})`;
}

/**
 * `term_key IN (…)`: the keys of the terms that start with one of these prefixes, found in the
 * term dictionary `search_terms` (one row per distinct term), so the postings are read by key.
 */
export function termPrefixSql(prefixes: readonly string[], params: SqlParam[]): string {
  params.push(...prefixes);
  return `term_key IN (SELECT term_key FROM search_terms WHERE ${prefixes.map(() => 'starts_with(term, ?)').join(' OR ')})`;
}

/**
 * `tag_key IN (…)`: the tags whose category or value has a word starting with one of the word's
 * prefixes, found in the tag dictionary `search_tags` (one row per distinct tag).
 */
export function tagWordSql(word: WordMatch, params: SqlParam[]): string {
  params.push(wordStartPattern(word.prefixes));
  return `tag_key IN (SELECT tag_key FROM search_tags WHERE regexp_matches(category || ' ' || value_norm, ?))`;
}

/**
 * `asset_id IN (…)`: the assets one of whose files (any copy, not only the one shown) has a name
 * with a word starting with one of the word's prefixes. `contains` on the path first: the regular
 * expression on the name runs only on paths holding a prefix.
 */
export function nameWordSql(word: WordMatch, params: SqlParam[]): string {
  params.push(...word.prefixes, wordStartPattern(word.prefixes));
  const has = word.prefixes.map(() => 'contains(lower(l.path), ?)').join(' OR ');
  return `asset_id IN (SELECT l.asset_id FROM locations l
    WHERE (${has}) AND regexp_matches(lower(regexp_extract(l.path, '[^/]*$')), ?))`;
}

/** Every search box word must match a tag, a prompt/description term or the file name. */
function addWordFilters(q: ResolvedSearch, w: Where): void {
  for (const word of q.words) {
    const tags = tagWordSql(word, w.params);
    const terms = termPrefixSql(word.prefixes, w.params);
    const name = nameWordSql(word, w.params);
    w.parts.push(`(a.asset_id IN (SELECT asset_id FROM asset_tags WHERE ${tags}
        UNION SELECT asset_id FROM prompt_terms WHERE ${terms}) OR a.${name})`);
  }
}

/** Generation settings, read from the `generation` JSON the generator's parser recorded. */
function addGenerationFilters(q: ResolvedSearch, w: Where): void {
  const g = q.gen;
  const field = (path: string): string => `json_extract_string(a.generation, '$.${path}')`;
  if (g.seed !== null) w.add(`${field('seed')} = ?`, g.seed);
  if (g.sampler !== null) w.add(`contains(lower(${field('sampler')}), ?)`, g.sampler);
  if (g.steps !== null) w.add(`TRY_CAST(${field('steps')} AS INTEGER) = ?`, g.steps);
  if (g.cfg !== null) w.add(`abs(TRY_CAST(${field('cfg_scale')} AS DOUBLE) - ?) < 1e-9`, g.cfg);
  if (g.lora !== null) {
    w.add(
      `contains(lower(array_to_string(json_extract_string(a.generation, '$.loras[*].name'), chr(10))), ?)`,
      g.lora,
    );
  }
}

function addLocationFilters(q: ResolvedSearch, w: Where): void {
  const present = q.includeMissing ? '' : 'AND l.present';
  if (q.pathRegex !== null) {
    w.add(
      `EXISTS (SELECT 1 FROM locations l WHERE l.content_hash = a.content_hash ${present} AND regexp_full_match(l.path, ?))`,
      q.pathRegex,
    );
  }
  if (q.projectPrefixes !== null) {
    const ors = q.projectPrefixes.map(() => 'starts_with(l.path, ?)').join(' OR ');
    w.add(
      `EXISTS (SELECT 1 FROM locations l WHERE l.content_hash = a.content_hash ${present} AND (${ors}))`,
      ...q.projectPrefixes,
    );
  }
}

function addValueFilters(q: ResolvedSearch, w: Where): void {
  if (q.mediaTypes.length > 0)
    w.add(`a.media_type IN (${placeholders(q.mediaTypes.length)})`, ...q.mediaTypes);
  if (q.source !== null) w.add(`contains(lower(a.source), ?)`, q.source);
  if (q.model !== null) w.add(`contains(lower(a.model), ?)`, q.model);
  if (q.since !== null) w.add(`${WHEN} ${q.since.op} ?::TIMESTAMP`, q.since.at.replace('Z', ''));
  if (q.until !== null) w.add(`${WHEN} ${q.until.op} ?::TIMESTAMP`, q.until.at.replace('Z', ''));
  if (q.minWidth !== null) w.add(`a.width >= ?`, q.minWidth);
  if (q.maxWidth !== null) w.add(`a.width <= ?`, q.maxWidth);
  if (q.minHeight !== null) w.add(`a.height >= ?`, q.minHeight);
  if (q.maxHeight !== null) w.add(`a.height <= ?`, q.maxHeight);
  if (q.orientation === 'landscape') w.add(`a.width > a.height`);
  if (q.orientation === 'portrait') w.add(`a.height > a.width`);
  if (q.orientation === 'square') w.add(`a.width = a.height`);
  if (q.formats.length > 0) w.add(`lower(a.format) IN (${placeholders(q.formats.length)})`, ...q.formats);
  if (q.hasPrompt === true) w.add(`COALESCE(a.prompt, '') <> ''`);
  if (q.hasPrompt === false) w.add(`COALESCE(a.prompt, '') = ''`);
  if (q.damaged) w.add(`a.damage IS NOT NULL`);
}

export interface WhereOptions {
  /** Leave out the prompt term condition (a ranked query joins the postings itself). */
  readonly terms?: boolean;
  /** Leave out the search box words (a ranked query applies them itself). */
  readonly words?: boolean;
  /** Leave out `status = 'present'` (a query driven by postings checks their `present` copy). */
  readonly present?: boolean;
  /** Leave out this one of `allTags` (the tag whose postings drive the query). */
  readonly skipTag?: TagMatch | null;
}

/** The WHERE clause over `assets a` for a resolved search, less what `opts` leaves out. */
export function whereOf(q: ResolvedSearch, opts: WhereOptions = {}): Where {
  const w = new Where();
  if (!q.includeMissing && (opts.present ?? true)) w.add(`a.status = 'present'`);
  addValueFilters(q, w);
  addGenerationFilters(q, w);
  if (opts.words ?? true) addWordFilters(q, w);
  addTagFilters(q, w, opts.skipTag ?? null);
  addPromptFilters(q, w, opts.terms ?? true);
  addLocationFilters(q, w);
  return w;
}
