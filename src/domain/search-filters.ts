/**
 * The search filter model: the zod schemas that validate untrusted search, similar and dupes
 * parameters (CLI, agent socket, MCP, scripts), and `resolveSearch`, which turns validated filters
 * into a plain query plan for the repository (tags parsed, dates resolved against a clock, formats
 * normalised, globs compiled). Pure: no I/O. Value parsers live in search-values.ts.
 */
import { z } from 'zod';
import { AliceError, ErrorCode } from './errors.js';
import {
  globToRegex,
  normaliseFormats,
  parseDateBound,
  parsePromptQuery,
  parseTagMatch,
  parseWords,
  type DateBound,
  type PromptQuery,
  type TagMatch,
  type WordMatch,
} from './search-values.js';

export const SORT_KEYS = ['newest', 'oldest', 'name', 'size', 'relevance', 'random'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const ORIENTATIONS = ['landscape', 'portrait', 'square'] as const;
export type Orientation = (typeof ORIENTATIONS)[number];
export const PERCEPTUAL_KINDS = ['phash', 'dhash', 'ahash'] as const;
export type PerceptualKind = (typeof PERCEPTUAL_KINDS)[number];

/** Results per page when none is asked for. */
export const DEFAULT_LIMIT = 50;
/** Hard cap on results per call, so a remote caller cannot ask for the whole library at once. */
export const MAX_LIMIT = 1000;
/** Default Hamming threshold of `findSimilar` (out of 64 bits). */
export const DEFAULT_SIMILAR_THRESHOLD = 10;
/** Default Hamming threshold of near-duplicate grouping (`alice dupes --near`). */
export const DEFAULT_NEAR_THRESHOLD = 6;

const text = (max: number) => z.string().trim().min(1).max(max);
/** One string or a list; the CLI gives lists, MCP callers often a single value. */
const list = (max: number) =>
  z.union([text(200), z.array(text(200)).max(max)]).transform((v) => (Array.isArray(v) ? v : [v]));
/** A list whose items may also be comma-separated (`--format png,jpg`). */
const csvList = (max: number) =>
  list(max).transform((v) =>
    v
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
const dim = z.number().int().nonnegative();
const cappedLimit = z
  .number()
  .int()
  .nonnegative()
  .default(DEFAULT_LIMIT)
  .transform((n) => Math.min(n, MAX_LIMIT));

/** Validates search filters from any caller. Unknown keys are errors, so typos are not ignored. */
export const searchFiltersSchema = z
  .object({
    /**
     * The search box: words matched across tags (category and value), prompt, description and file
     * name; every word must match somewhere. Case-folded, stemmed (`cats` = `cat`), prefix-matched
     * (`cyber` finds `cyberpunk`); the default sort ranks by where the words matched.
     */
    query: z.string().trim().max(1000).optional(),
    /** Every one of these tags (`style:cyberpunk` in that category, `cyberpunk` in any). */
    tags: list(50).optional(),
    /** At least one of these tags. */
    any_tags: list(50).optional(),
    /** None of these tags. */
    exclude_tags: list(50).optional(),
    media_type: z
      .union([z.enum(['image', 'video', 'audio']), z.array(z.enum(['image', 'video', 'audio']))])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .optional(),
    /** Words (all must occur) and "quoted phrases" searched in prompt and description. */
    prompt: text(1000).optional(),
    /** Generator (`comfyui`, `automatic1111`, …): case-insensitive substring. */
    source: text(200).optional(),
    /** Model name: case-insensitive substring. */
    model: text(200).optional(),
    /** Made (or first seen) at or after: `2024-03-01`, `2024-03`, ISO date-time, `7d`, `12h`, `today`. */
    since: text(64).optional(),
    /** Made (or first seen) at or before; a date means through the end of that day (UTC). */
    until: text(64).optional(),
    min_width: dim.optional(),
    max_width: dim.optional(),
    min_height: dim.optional(),
    max_height: dim.optional(),
    orientation: z.enum(ORIENTATIONS).optional(),
    /** File formats: `png`, `jpg` (= jpeg), `webp`, `heic`, `mp4`, … */
    formats: csvList(20).optional(),
    /** Glob over present paths: `*.png` matches file names, `2024/**` and `/abs/**` whole paths. */
    path: text(1000).optional(),
    /** Project name: assets with a location under `<project_paths entry>/<name>`. */
    project: text(200).optional(),
    has_prompt: z.boolean().optional(),
    /** Generation seed (as recorded by the generator). */
    gen_seed: z
      .union([
        z.number().int().nonnegative(),
        z
          .string()
          .trim()
          .regex(/^\d{1,20}$/, 'must be a whole number'),
      ])
      .transform(String)
      .optional(),
    /** Sampler name: case-insensitive substring (`euler`, `dpm++ 2m`). */
    sampler: text(200).optional(),
    /** Sampling steps. */
    steps: z.number().int().min(1).max(100_000).optional(),
    /** CFG scale. */
    cfg: z.number().min(0).max(1000).optional(),
    /** LoRA name: case-insensitive substring of any LoRA used. */
    lora: text(200).optional(),
    /** Only assets whose content is damaged (does not decode, or is not what its name says). */
    damaged: z.boolean().optional(),
    /** Also return assets whose every copy is missing. */
    include_missing: z.boolean().default(false),
    /** Default: relevance with a prompt query, else newest. */
    sort: z.enum(SORT_KEYS).optional(),
    /** Seed of `sort: random`; the same seed gives the same order. */
    seed: z.union([z.string().max(100), z.number()]).optional(),
    limit: cappedLimit,
    offset: z.number().int().nonnegative().max(100_000_000).default(0),
    /** Also count tags, media types and generators over the whole result set. */
    facets: z.boolean().default(false),
  })
  .strict();

/** Filters as a caller writes them (everything optional). */
export type SearchFilters = z.input<typeof searchFiltersSchema>;
/** Filters after validation. */
export type SearchQuery = z.output<typeof searchFiltersSchema>;

const CONTENT_REF = /^[0-9a-fA-F]{8,64}$/;

/** Validates `findSimilar` parameters: exactly one of `content_hash` (or `contentHash`), `path`, `ref`. */
export const similarSchema = z
  .object({
    content_hash: z.string().regex(CONTENT_REF, 'must be 8 to 64 hex digits').optional(),
    contentHash: z.string().regex(CONTENT_REF, 'must be 8 to 64 hex digits').optional(),
    path: text(4096).optional(),
    /** A content hash, a unique hash prefix or a path (the CLI's `<file|hash>`). */
    ref: text(4096).optional(),
    threshold: z.number().int().min(0).max(64).default(DEFAULT_SIMILAR_THRESHOLD),
    hash: z.enum(PERCEPTUAL_KINDS).default('phash'),
    limit: cappedLimit,
    include_missing: z.boolean().default(false),
  })
  .strict()
  .refine((q) => [q.content_hash, q.contentHash, q.path, q.ref].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of content_hash, path or ref',
  })
  .transform(({ content_hash, contentHash, path, ref, ...rest }) => ({
    ...rest,
    ref: (content_hash ?? contentHash ?? path ?? ref ?? '').trim(),
  }));

export type SimilarParams = z.input<typeof similarSchema>;
export type SimilarQuery = z.output<typeof similarSchema>;

export const dupesSchema = z
  .object({
    /** Also group near-duplicates by perceptual hash. */
    near: z.boolean().default(false),
    threshold: z.number().int().min(0).max(32).default(DEFAULT_NEAR_THRESHOLD),
    /** Also list copies inside project folders (beside the group, never as deletable). */
    includeProjects: z.boolean().default(false),
  })
  .strict();

export type DupesParams = z.input<typeof dupesSchema>;
export type DupesQuery = z.output<typeof dupesSchema>;

/** A validated search, ready for SQL: every value parsed, nothing left to interpret. */
export interface ResolvedSearch {
  /** Search box words: every one must match a tag, the prompt, the description or the file name. */
  readonly words: readonly WordMatch[];
  readonly allTags: readonly TagMatch[];
  readonly anyTags: readonly TagMatch[];
  readonly excludeTags: readonly TagMatch[];
  readonly mediaTypes: readonly string[];
  readonly prompt: PromptQuery | null;
  /** Lowercased substrings. */
  readonly source: string | null;
  readonly model: string | null;
  readonly since: DateBound | null;
  readonly until: DateBound | null;
  readonly minWidth: number | null;
  readonly maxWidth: number | null;
  readonly minHeight: number | null;
  readonly maxHeight: number | null;
  readonly orientation: Orientation | null;
  readonly formats: readonly string[];
  /** RE2 pattern matched against the whole path. */
  readonly pathRegex: string | null;
  /** Folder prefixes (ending in `/`) of the project in every project root. */
  readonly projectPrefixes: readonly string[] | null;
  readonly hasPrompt: boolean | null;
  /** Generation settings: seed (digits), sampler and LoRA (lowercased substrings), steps, CFG. */
  readonly gen: {
    readonly seed: string | null;
    readonly sampler: string | null;
    readonly steps: number | null;
    readonly cfg: number | null;
    readonly lora: string | null;
  };
  readonly damaged: boolean;
  readonly includeMissing: boolean;
  readonly sort: SortKey;
  readonly seed: string;
  readonly limit: number;
  readonly offset: number;
  readonly facets: boolean;
}

export interface ResolveEnv {
  readonly now: Date;
  /** Absolute `storage.project_paths` entries. */
  readonly projectRoots: readonly string[];
  /** Seed used by `sort: random` when the caller gives none. */
  readonly randomSeed: string;
}

function projectPrefixes(name: string, roots: readonly string[]): string[] {
  if (name === '.' || name === '..' || /[/\\]/.test(name) || name.includes('\0')) {
    throw new AliceError(ErrorCode.PROJECT_INVALID, `not a project name: ${name}`, {
      hint: 'a project is a folder name directly below a project_paths entry, without slashes',
    });
  }
  if (roots.length === 0) {
    throw new AliceError(ErrorCode.PROJECT_NOT_FOUND, `no project folders are configured`, {
      hint: 'add a folder to storage.project_paths in the settings file',
    });
  }
  return roots.map((r) => `${r.replace(/\/+$/, '')}/${name}/`);
}

/**
 * A test of one location against the query's location filters (`path`, `project`), or undefined
 * when it has none. The index keeps an asset that has some location matching each filter; its
 * result then names such a location as its `path` rather than its primary one, so
 * `alice search --path DIR --paths` prints only paths under DIR.
 */
export function locationTest(q: ResolvedSearch): ((location: string) => boolean) | undefined {
  const tests: ((location: string) => boolean)[] = [];
  if (q.pathRegex !== null) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(`^(?:${q.pathRegex})$`, 'u');
    } catch {
      re = undefined; // a class RE2 reads differently: keep the primary path
    }
    if (re !== undefined) tests.push((p) => re.test(p));
  }
  const prefixes = q.projectPrefixes;
  if (prefixes !== null) tests.push((p) => prefixes.some((x) => p.startsWith(x)));
  return tests.length === 0 ? undefined : (p) => tests.every((t) => t(p));
}

function defaultSort(q: SearchQuery, prompt: PromptQuery | null, words: readonly WordMatch[]): SortKey {
  if (q.sort !== undefined) return q.sort;
  return words.length > 0 || (prompt !== null && prompt.terms.length > 0) ? 'relevance' : 'newest';
}

/** `text` holds no word (letters or digits, at most the indexed length) that could match. */
function nothingToSearch(what: 'words' | 'prompt', text: string): AliceError {
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  return new AliceError(
    ErrorCode.INVALID_INPUT,
    `${what === 'words' ? 'search words' : 'prompt'} ${shown}: no word to search for (words are runs of letters and digits)`,
    {
      hint:
        what === 'words'
          ? "to find other characters in file names use a path glob, e.g. --path '*#1*'"
          : 'give at least one word, or a "quoted phrase" of words',
    },
  );
}

/** Turns validated filters into a query plan. Throws INVALID_INPUT for values that do not parse. */
export function resolveSearch(q: SearchQuery, env: ResolveEnv): ResolvedSearch {
  if (q.seed !== undefined && q.sort !== 'random') {
    throw new AliceError(
      ErrorCode.INVALID_INPUT,
      '`seed` only orders a random sort; alone it would be ignored',
      {
        hint: 'to find images generated with a seed use --gen-seed (MCP: gen_seed); to shuffle reproducibly add --sort random',
      },
    );
  }
  const prompt = q.prompt === undefined ? null : parsePromptQuery(q.prompt);
  const words = q.query === undefined ? [] : parseWords(q.query);
  // Text with nothing to search for would otherwise filter nothing and list the whole library.
  if (q.query !== undefined && q.query.trim() !== '' && words.length === 0)
    throw nothingToSearch('words', q.query);
  if (
    q.prompt !== undefined &&
    q.prompt.trim() !== '' &&
    prompt?.terms.length === 0 &&
    prompt.phrases.length === 0
  )
    throw nothingToSearch('prompt', q.prompt);
  return {
    words,
    allTags: (q.tags ?? []).map(parseTagMatch),
    anyTags: (q.any_tags ?? []).map(parseTagMatch),
    excludeTags: (q.exclude_tags ?? []).map(parseTagMatch),
    mediaTypes: q.media_type ?? [],
    prompt: prompt !== null && prompt.terms.length === 0 && prompt.phrases.length === 0 ? null : prompt,
    source: q.source?.toLowerCase() ?? null,
    model: q.model?.toLowerCase() ?? null,
    since: q.since === undefined ? null : parseDateBound(q.since, env.now, 'since'),
    until: q.until === undefined ? null : parseDateBound(q.until, env.now, 'until'),
    minWidth: q.min_width ?? null,
    maxWidth: q.max_width ?? null,
    minHeight: q.min_height ?? null,
    maxHeight: q.max_height ?? null,
    orientation: q.orientation ?? null,
    formats: normaliseFormats(q.formats ?? []),
    pathRegex: q.path === undefined ? null : globToRegex(q.path),
    projectPrefixes: q.project === undefined ? null : projectPrefixes(q.project, env.projectRoots),
    hasPrompt: q.has_prompt ?? null,
    gen: {
      seed: q.gen_seed ?? null,
      sampler: q.sampler?.toLowerCase() ?? null,
      steps: q.steps ?? null,
      cfg: q.cfg ?? null,
      lora: q.lora?.toLowerCase() ?? null,
    },
    damaged: q.damaged ?? false,
    includeMissing: q.include_missing,
    sort: defaultSort(q, prompt, words),
    seed: q.seed === undefined ? env.randomSeed : String(q.seed),
    limit: q.limit,
    offset: q.offset,
    facets: q.facets,
  };
}

/** Parses untrusted filters; throws INVALID_INPUT naming the first bad key. */
export function parseSearchFilters(input: unknown): SearchQuery {
  return parseWith(searchFiltersSchema, input, 'search');
}

export function parseWith<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') ?? '';
  throw new AliceError(
    ErrorCode.INVALID_INPUT,
    `invalid ${what} parameters: ${where === '' ? '' : `${where}: `}${issue?.message ?? 'invalid'}`,
  );
}
