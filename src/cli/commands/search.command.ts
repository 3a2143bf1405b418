/**
 * `alice search [filters]`, `alice similar <file|hash>` and `alice dupes [--near]`. Options map
 * one to one onto the search filter model (src/domain/search-filters.ts); validation happens in
 * the operation, so the CLI, the agent and scripts reject the same inputs with the same message.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type {
  DupesResponse,
  SearchResponse,
  SearchResult,
  SimilarResponse,
} from '../../services/search/search.service.js';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import { absRef, type CliContext } from '../context.js';
import { csvLine, plural, printNotices, shortHash, table, type Rendered } from '../render.js';

type Run = (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function int(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return Number(value);
}

interface SearchOptions {
  paths?: boolean;
  print0?: boolean;
  csv?: boolean;
  genSeed?: string;
  sampler?: string;
  steps?: number;
  cfg?: number;
  lora?: string;
  tag: string[];
  anyTag: string[];
  excludeTag: string[];
  type: string[];
  format: string[];
  prompt?: string;
  source?: string;
  model?: string;
  since?: string;
  until?: string;
  minWidth?: number;
  maxWidth?: number;
  minHeight?: number;
  maxHeight?: number;
  orientation?: string;
  path?: string;
  project?: string;
  hasPrompt?: boolean;
  damaged?: boolean;
  withoutPrompt?: boolean;
  includeMissing?: boolean;
  sort?: string;
  seed?: string;
  limit?: number;
  offset?: number;
  facets?: boolean;
}

function decimal(value: string): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

/** CLI words and options → search filters (snake_case, only what was given). */
export function filtersOf(words: readonly string[], o: SearchOptions): Record<string, unknown> {
  const f: Record<string, unknown> = {};
  const set = (key: string, v: unknown): void => {
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) f[key] = v;
  };
  if (words.length > 0) set('query', words.join(' '));
  set('tags', o.tag);
  set('any_tags', o.anyTag);
  set('exclude_tags', o.excludeTag);
  set(
    'media_type',
    o.type.flatMap((t) => t.split(',')).map((t) => t.trim().toLowerCase()),
  );
  set('formats', o.format);
  set('prompt', o.prompt);
  set('source', o.source);
  set('model', o.model);
  set('since', o.since);
  set('until', o.until);
  set('min_width', o.minWidth);
  set('max_width', o.maxWidth);
  set('min_height', o.minHeight);
  set('max_height', o.maxHeight);
  set('orientation', o.orientation);
  // A plain folder is relative to where the command runs, like any other path argument, and so is
  // a glob that says so (`./2024/*.png`, `../*.png`); other relative globs match at any depth.
  set(
    'path',
    o.path === undefined || (/[*?[]/.test(o.path) && !/^\.\.?\//.test(o.path))
      ? o.path
      : path.resolve(o.path),
  );
  set('project', o.project);
  set('has_prompt', o.hasPrompt === true ? true : o.withoutPrompt === true ? false : undefined);
  set('gen_seed', o.genSeed);
  set('sampler', o.sampler);
  set('steps', o.steps);
  set('cfg', o.cfg);
  set('lora', o.lora);
  set('include_missing', o.includeMissing);
  set('damaged', o.damaged);
  set('sort', o.sort);
  set('seed', o.seed);
  set('limit', o.limit);
  set('offset', o.offset);
  set('facets', o.facets);
  return f;
}

function size(r: { width: number | null; height: number | null }): string {
  return r.width === null || r.height === null ? '?' : `${r.width}×${r.height}`;
}

function resultLines(r: SearchResult, lead: string): string[] {
  const tags = Object.entries(r.tags).flatMap(([c, vs]) => vs.map((v) => `${c}:${v}`));
  const lines = [
    `${lead}${shortHash(r.content_hash)}  ${size(r)}  ${r.format ?? r.media_type}  ${r.path ?? '(no path)'}`,
  ];
  if (tags.length > 0) lines.push(`    tags: ${tags.join(', ')}`);
  if (r.prompt !== null)
    lines.push(`    prompt: ${r.prompt.length > 100 ? `${r.prompt.slice(0, 99)}…` : r.prompt}`);
  for (const extra of r.locations.filter((p) => p !== r.path)) lines.push(`    also at: ${extra}`);
  return lines;
}

function searchText(res: SearchResponse, offset: number): string[] {
  const lines = res.results.flatMap((r) => resultLines(r, ''));
  const from = res.results.length === 0 ? 0 : offset + 1;
  lines.push(
    res.total === 0
      ? 'no matches'
      : `${from}–${offset + res.results.length} of ${res.total} ${res.total === 1 ? 'match' : 'matches'}`,
  );
  if (res.seed !== undefined) lines.push(`random order seed: ${res.seed} (pass --seed to page through it)`);
  if (res.facets !== undefined) {
    const f = res.facets;
    lines.push(
      `types: ${
        Object.entries(f.media_types)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || '-'
      }`,
    );
    lines.push(
      `generators: ${
        Object.entries(f.generators)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || '-'
      }`,
    );
    lines.push(`tags: ${f.tags.map((t) => `${t.tag} ${t.count}`).join(', ') || '-'}`);
  }
  return lines;
}

const CSV_COLUMNS = [
  'content_hash',
  'path',
  'media_type',
  'format',
  'width',
  'height',
  'file_size',
  'created_at',
  'source',
  'model',
  'tags',
  'prompt',
] as const;

/** `--csv`: a header and one line per result; tags as `category:value` joined by `;`. */
function searchCsv(res: SearchResponse): string {
  const rows = res.results.map((r) =>
    csvLine(
      CSV_COLUMNS.map((c) =>
        c === 'tags'
          ? Object.entries(r.tags)
              .flatMap(([cat, vs]) => vs.map((v) => `${cat}:${v}`))
              .join(';')
          : r[c],
      ),
    ),
  );
  return [csvLine(CSV_COLUMNS), ...rows].map((l) => `${l}\r\n`).join('');
}

/** When this page holds fewer results than the matches from `offset` on: which ones, and how to get the rest. */
function pageNote(res: SearchResponse, offset: number): string | undefined {
  const shown = res.results.length;
  if (offset + shown >= res.total) return undefined;
  const range = shown === 0 ? 'none' : `${offset + 1}–${offset + shown}`;
  return `printed ${range} of ${res.total} matches; --limit (at most 1000) and --offset ${offset + shown} give the rest`;
}

/** `--paths` (one per line) or `-0` (each followed by NUL, for `xargs -0`): each result's path. */
function searchPaths(res: SearchResponse, nul: boolean): string {
  return res.results.flatMap((r) => (r.path === null ? [] : [`${r.path}${nul ? '\0' : '\n'}`])).join('');
}

function similarText(res: SimilarResponse): string[] {
  const q = res.query;
  const head = `${q.hash} ${q.value} of ${q.path ?? shortHash(q.content_hash)}${q.indexed ? '' : ' (not indexed: hashed now)'}, threshold ${q.threshold}`;
  if (res.results.length === 0) return [head, 'nothing similar found'];
  const rows = res.results.map((r) => [String(r.distance), shortHash(r.content_hash), size(r), r.path ?? '']);
  return [head, ...table([['dist', 'hash', 'size', 'path'], ...rows])];
}

function dupesText(res: DupesResponse): string[] {
  const lines: string[] = [];
  lines.push(`${plural(res.exact.length, 'group')} of identical files`);
  for (const g of res.exact) {
    const copies =
      g.paths.length === 1
        ? `1 copy, ${g.file_size} bytes`
        : `${g.paths.length} identical copies, ${g.file_size} bytes each`;
    lines.push(`  ${shortHash(g.content_hash)}  ${copies}`);
    lines.push(`    keep ${g.keeper}  (${g.reason})`);
    for (const p of g.paths.filter((x) => x !== g.keeper)) lines.push(`    also ${p}`);
    for (const p of g.metadata_differs ?? []) lines.push(`    same picture, other metadata (keep) ${p}`);
    for (const p of g.project_copies ?? []) lines.push(`    project copy (keep) ${p}`);
  }
  if (res.near_threshold === null) {
    lines.push('near duplicates: not checked (use --near)');
    return lines;
  }
  // Groups are chains (A~B, B~C): a member can be further from the keeper than the threshold.
  lines.push(
    `${plural(res.near.length, 'group')} of near duplicates (each within pHash distance ${res.near_threshold} of another member; d: distance to the keeper)`,
  );
  for (const g of res.near) {
    lines.push(`  keep ${g.keeper_path ?? shortHash(g.keeper)}  (${g.reason})`);
    for (const m of g.members.filter((x) => x.content_hash !== g.keeper)) {
      lines.push(`    d=${m.distance}  ${size(m)}  ${m.path ?? shortHash(m.content_hash)}`);
    }
  }
  lines.push('nothing was deleted: alice only reports');
  return lines;
}

function registerSearch(program: Command, run: Run): void {
  program
    .command('search')
    .argument(
      '[words...]',
      'words matched in tags, prompt, description and file name (all must match; cats = cat; cyber finds cyberpunk)',
    )
    .description(
      'find assets by words (one search box) and filters: tags, prompt text, generator and its settings, dates, size, format, path or project',
    )
    .option(
      '-t, --tag <tag>',
      'must have this tag: category:value, or a bare value in any category (repeatable)',
      collect,
      [],
    )
    .option('--any-tag <tag>', 'must have at least one of these tags (repeatable)', collect, [])
    .option('--exclude-tag <tag>', 'must not have this tag (repeatable)', collect, [])
    .option('--type <type>', 'image, video or audio (repeatable or comma-separated)', collect, [])
    .option('--prompt <text>', 'words (all must occur) and "quoted phrases" in the prompt or description')
    .option('--source <name>', 'generator, e.g. comfyui (case-insensitive substring)')
    .option('--model <name>', 'model name (case-insensitive substring)')
    .option('--since <date>', 'made or first seen since: 2024-03-01, 2024-03, today, 7d, 12h, 2w, 3mo')
    .option('--until <date>', 'made or first seen until (a date includes that whole day, UTC)')
    .option('--min-width <n>', 'minimum width in pixels', int)
    .option('--max-width <n>', 'maximum width in pixels', int)
    .option('--min-height <n>', 'minimum height in pixels', int)
    .option('--max-height <n>', 'maximum height in pixels', int)
    .option('--orientation <o>', 'landscape, portrait or square')
    .option('--format <list>', 'file formats, e.g. png,jpg (repeatable)', collect, [])
    .option(
      '--path <dir|glob>',
      "a folder (it and everything under it) or a path glob: '*.png' (file names), '2024/**', '/abs/dir/*.png'",
    )
    .option('--project <name>', 'only assets inside this project folder')
    .option('--has-prompt', 'only assets with a generation prompt')
    .option('--without-prompt', 'only assets without a generation prompt')
    .option('--gen-seed <n>', 'generation seed recorded by the generator')
    .option('--sampler <name>', 'sampler (case-insensitive substring), e.g. euler')
    .option('--steps <n>', 'sampling steps', int)
    .option('--cfg <n>', 'CFG scale', decimal)
    .option('--lora <name>', 'a LoRA used (case-insensitive substring of its name)')
    .option('--damaged', 'only damaged files (do not decode completely, or are not what their name says)')
    .option('--include-missing', 'also list assets whose files are all missing')
    .option(
      '--sort <key>',
      'newest, oldest, name, size, relevance or random (default: relevance with words or --prompt, else newest)',
    )
    .option('--seed <seed>', 'seed for --sort random (same seed, same order)')
    .option('--limit <n>', 'results per page (default 50, at most 1000)', int)
    .option('--offset <n>', 'skip this many results', int)
    .option('--facets', 'also count tags, types and generators over all matches')
    .option('--paths', 'print only the path of each result, one per line')
    .option('-0, --print0', 'print only paths, each ended by a NUL byte (for xargs -0)')
    .option('--csv', 'print CSV: a header line, then one line per result')
    .action((words: string[], o: SearchOptions) =>
      run(async (ctx) => {
        const res = await ctx.invoke('search', filtersOf(words, o));
        const rendered: Rendered = { data: res, text: searchText(res, o.offset ?? 0) };
        if (o.print0 === true || o.paths === true) rendered.raw = searchPaths(res, o.print0 === true);
        else if (o.csv === true) rendered.raw = searchCsv(res);
        // Paths and CSV carry no total: say on stderr when this page is not every match.
        const cut = pageNote(res, o.offset ?? 0);
        if (rendered.raw !== undefined && !ctx.json && cut !== undefined) printNotices([cut], false);
        return rendered;
      }),
    );
}

function registerSimilar(program: Command, run: Run): void {
  program
    .command('similar')
    .argument('<file|hash>', 'an image file (indexed or not) or a content hash / unique prefix')
    .description('find visually similar images by perceptual-hash distance, nearest first')
    .option('--threshold <n>', 'largest Hamming distance, 0–64 (default 10)', int)
    .option('--hash <kind>', 'phash, dhash or ahash (default phash)')
    .option('--limit <n>', 'at most this many results (default 50)', int)
    .option('--include-missing', 'also list assets whose files are all missing')
    .action(
      (ref: string, o: { threshold?: number; hash?: string; limit?: number; includeMissing?: boolean }) =>
        run(async (ctx) => {
          const params: Record<string, unknown> = { ref: absRef(ref) };
          if (o.threshold !== undefined) params['threshold'] = o.threshold;
          if (o.hash !== undefined) params['hash'] = o.hash;
          if (o.limit !== undefined) params['limit'] = o.limit;
          if (o.includeMissing === true) params['include_missing'] = true;
          const res = await ctx.invoke('similar', params);
          return { data: res, text: similarText(res) };
        }),
    );
}

function registerDupes(program: Command, run: Run): void {
  program
    .command('dupes')
    .description(
      'report identical files and (with --near) near-duplicate images, with a suggested keeper; never deletes',
    )
    .option('--near', 'also group visually near-identical images')
    .option('--threshold <n>', 'near-duplicate pHash distance, 0–32 (default 6)', int)
    .option(
      '--include-projects',
      'also list copies inside project folders (selected/, exports/, created/), never as ones to delete',
    )
    .action((o: { near?: boolean; threshold?: number; includeProjects?: boolean }) =>
      run(async (ctx) => {
        if (o.threshold !== undefined && o.near !== true)
          throw new AliceError(
            ErrorCode.INVALID_INPUT,
            '--threshold is the near-duplicate distance: alone it changes nothing',
            {
              hint: `add --near: alice dupes --near --threshold ${o.threshold}`,
            },
          );
        const params: Record<string, unknown> = {
          near: o.near === true,
          includeProjects: o.includeProjects === true,
        };
        if (o.threshold !== undefined) params['threshold'] = o.threshold;
        const res = await ctx.invoke('dupes', params);
        return { data: res, text: dupesText(res) };
      }),
    );
}

/** Registers `search`, `similar` and `dupes`. */
export function registerSearchCommands(program: Command, run: Run): void {
  registerSearch(program, run);
  registerSimilar(program, run);
  registerDupes(program, run);
}
