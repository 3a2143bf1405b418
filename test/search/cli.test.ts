/** `alice search|similar|dupes` as a user runs them: the built binary, a settings file, ALICE_HOME. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DupesResponse, SearchResponse, SimilarResponse } from '../../src/index.js';
import { runAlice } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/fixtures.js';
import { buildIndex, LIBRARY, makeImage, type BuiltIndex } from './fixtures.js';

// Each run starts a node process; on a busy machine that alone takes seconds.
vi.setConfig({ testTimeout: 120_000 });

let ws: Workspace;
let index: BuiltIndex;

beforeAll(async () => {
  ws = makeWorkspace({ roots: ['lib'], settings: { storage: { project_paths: ['projects'] } } });
  const projects = path.join(ws.dir, 'projects');
  fs.mkdirSync(projects);
  index = await buildIndex(ws.searchDb, { lib: ws.roots[0] ?? '', projects }, LIBRARY);
  index.db.close();
});

afterAll(() => ws.cleanup());

const alice = (...args: string[]) => runAlice(args, { env: ws.env, cwd: ws.dir });
const keys = (rs: { content_hash: string }[]): string[] => rs.map((r) => index.keyOf(r.content_hash)).sort();

describe('alice search', () => {
  it('--json prints {results, total} for tag, type and format filters', async () => {
    const r = await alice('search', '--tag', 'style:cyberpunk', '--type', 'image', '--json');
    expect(r.code).toBe(0);
    const res = r.json<SearchResponse>();
    expect(Object.keys(res).sort()).toEqual(['results', 'total']);
    expect(res.total).toBe(2);
    expect(keys(res.results)).toEqual(['city', 'portrait']);
    const fmt = (
      await alice('search', '--format', 'png,jpg', '--min-width', '380', '--json')
    ).json<SearchResponse>();
    expect(keys(fmt.results)).toEqual(['city']);
  });

  it('prompt, dates, orientation, path, tags, generator; sort, paging and facets', async () => {
    const run = async (...args: string[]) =>
      (await alice('search', ...args, '--json')).json<SearchResponse>();
    const narrow = await run(
      ...['--prompt', '"city at night"', '--since', '2024-03-01', '--until', '2024-03-31'],
      ...['--orientation', 'portrait', '--path', 'cyber/*', '--has-prompt', '--model', 'SDXL'],
      ...['--any-tag', 'subject:portrait', '--any-tag', 'subject:hero', '--exclude-tag', 'subject:city'],
    );
    expect(keys(narrow.results)).toEqual(['portrait']);
    const page = await run('--sort', 'oldest', '--limit', '2', '--offset', '1', '--facets');
    expect(page.total).toBe(7);
    expect(page.results.map((x) => index.keyOf(x.content_hash))).toEqual(['hero', 'clip']);
    expect(page.facets?.media_types).toEqual({ image: 6, video: 1 });
  });

  it('prints readable lines without --json', async () => {
    const r = await alice('search', '--tag', 'subject:portrait');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join(ws.roots[0] ?? '', 'cyber/portrait.png'));
    expect(r.stdout).toContain('also at:');
    expect(r.stdout).toContain('1–1 of 1 match');
  });

  it('--paths, -0 and --csv say on stderr when the page is not every match; stdout stays data', async () => {
    const total = LIBRARY.filter((a) => a.missing !== true).length;
    const cut = await alice('search', '--limit', '2', '--paths');
    expect(cut.code).toBe(0);
    expect(cut.stdout.trim().split('\n')).toHaveLength(2);
    expect(cut.stderr).toBe(
      `note: printed 1–2 of ${total} matches; --limit (at most 1000) and --offset 2 give the rest\n`,
    );
    const nul = await alice('search', '--limit', '3', '--offset', '2', '-0');
    expect(nul.stdout.split('\0').filter((p) => p !== '')).toHaveLength(3);
    expect(nul.stderr).toContain(`printed 3–5 of ${total} matches`);
    expect((await alice('search', '--limit', '1', '--csv')).stderr).toContain(`printed 1–1 of ${total}`);
    // Every match printed, or --json (which has the total): nothing on stderr.
    expect((await alice('search', '--paths')).stderr).toBe('');
    expect((await alice('search', '--offset', String(total - 1), '--paths')).stderr).toBe('');
    expect((await alice('search', '--limit', '2', '--paths', '--json')).stderr).toBe('');
  });

  it('bad input exits 2 with a clear error', async () => {
    const r = await alice('search', '--since', 'whenever', '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read since date "whenever"/);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('INVALID_INPUT');
    expect((await alice('search', '--limit', 'many')).code).toBe(2);
  });
});

describe('alice similar and dupes', () => {
  it('similar <hash> --json gives {query, results[…distance]}', async () => {
    const r = await alice('similar', index.hashOf('forest').slice(0, 12), '--json');
    expect(r.code).toBe(0);
    const res = r.json<SimilarResponse>();
    expect(res.query.content_hash).toBe(index.hashOf('forest'));
    expect(res.results.map((x) => [index.keyOf(x.content_hash), typeof x.distance])).toEqual([
      ['forest-small', 'number'],
    ]);
  });

  it('similar <file> hashes a file that is not indexed', async () => {
    const file = path.join(ws.dir, 'elsewhere.jpg');
    fs.writeFileSync(
      file,
      await makeImage({ seed: 33, width: 200, height: 200, format: 'jpeg', quality: 80 }),
    );
    const res = (
      await alice('similar', 'elsewhere.jpg', '--threshold', '10', '--hash', 'phash', '--json')
    ).json<SimilarResponse>();
    expect(res.query).toMatchObject({ indexed: false, path: file, threshold: 10 });
    expect(keys(res.results)).toEqual(['forest', 'forest-small']);
  });

  it('dupes --near --json gives exact and near groups with keepers', async () => {
    const r = await alice('dupes', '--near', '--json');
    expect(r.code).toBe(0);
    const res = r.json<DupesResponse>();
    expect(res.exact.map((g) => index.keyOf(g.content_hash))).toEqual(['portrait']);
    expect(res.near.map((g) => index.keyOf(g.keeper))).toEqual(['forest']);
  });

  it('dupes --threshold without --near is an error naming --near (exit 2), not silently ignored', async () => {
    const r = await alice('dupes', '--threshold', '3', '--json');
    expect(r.code).toBe(2);
    const e = r.json<{ error: { code: string; message: string; hint: string } }>().error;
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.hint).toContain('alice dupes --near --threshold 3');
    expect((await alice('dupes', '--near', '--threshold', '3')).code).toBe(0);
  });

  it('index verify --dry-run without --repair is an error naming --repair (exit 2); with it, it runs', async () => {
    const r = await alice('index', 'verify', '--dry-run', '--json');
    expect(r.code).toBe(2);
    const e = r.json<{ error: { code: string; message: string; hint: string } }>().error;
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.hint).toContain('alice index verify --repair --dry-run');
    const ran = await alice('index', 'verify', '--repair', '--dry-run', '--json');
    expect([0, 1]).toContain(ran.code); // 1: this fixture has findings; it ran either way
    expect(ran.json<{ repair: { dry_run: boolean } }>().repair.dry_run).toBe(true);
  });

  it('dupes --near as text says what the threshold and d mean (groups are chains)', async () => {
    const r = await alice('dupes', '--near');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '1 group of near duplicates (each within pHash distance 6 of another member; d: distance to the keeper)',
    );
    expect(r.stdout).toMatch(/^ {4}d=\d+ {2}/m);
  });
});
