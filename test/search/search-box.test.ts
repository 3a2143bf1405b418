/**
 * Issue 17, one search box, through the built `alice` binary: `alice search WORDS…` matches tags
 * (category and value), prompt, description and file name, folded, stemmed and prefix-matched,
 * ranked; filters combine with it; generation filters; output for scripts (`--paths`, `-0`,
 * `--csv`). The same through the search service, without a process.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDb } from '../../src/adapters/duckdb.adapter.js';
import { stemSql } from '../../src/adapters/index/rows.js';
import { stem } from '../../src/domain/prompt-text.js';
import type { SearchResponse } from '../../src/index.js';
import { ALICE_BIN, runAlice } from '../helpers/cli.js';
import { makeWorkspace, type Workspace } from '../helpers/fixtures.js';
import { buildIndex, type AssetSpec, type BuiltIndex } from './fixtures.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const A1111 = { seed: 1234567890, sampler: 'Euler a', steps: 30, cfg_scale: 7.5 };

const SPECS: AssetSpec[] = [
  { key: 'tagged', file: 'a/tagged.png', bytes: Buffer.from('tagged'), tags: ['style:cyberpunk'] },
  {
    key: 'prompted',
    file: 'b/prompted.png',
    bytes: Buffer.from('prompted'),
    prompt: 'a cyberpunk city at night',
    generation: { ...A1111, loras: [{ name: 'NeonGlow_v2', weight: 0.8 }] },
  },
  { key: 'named', file: 'c/cyberpunk-01.png', bytes: Buffer.from('named') },
  {
    key: 'cat',
    file: 'd/pet.png',
    bytes: Buffer.from('cat'),
    prompt: 'a cat on a sofa',
    generation: { seed: 42, sampler: 'DPM++ 2M Karras', steps: 20, cfg_scale: 5 },
  },
  {
    key: 'lights',
    file: 'd/street.png',
    bytes: Buffer.from('lights'),
    tags: ['lighting:neon lights'],
    description: 'wet streets of cities',
  },
  { key: 'other', file: 'e/other.png', bytes: Buffer.from('other'), prompt: 'a quiet forest' },
  {
    key: 'copied',
    file: 'f/original.png',
    bytes: Buffer.from('copied'),
    copies: [{ file: 'g/sunset-copy.png', firstSeen: '2024-02-01T00:00:00.000Z' }],
  },
  {
    key: 'everywhere',
    file: 'e/cyberpunk-cat.png',
    bytes: Buffer.from('everywhere'),
    tags: ['style:cyberpunk'],
    prompt: 'cyberpunk cats',
  },
];

let ws: Workspace;
let index: BuiltIndex;
let lib: string;

beforeAll(async () => {
  ws = makeWorkspace({ roots: ['lib'] });
  lib = ws.roots[0] ?? '';
  index = await buildIndex(ws.searchDb, { lib, projects: path.join(ws.dir, 'projects') }, SPECS);
  index.db.close();
});

afterAll(() => ws.cleanup());

const alice = (...args: string[]) => runAlice(args, { env: ws.env, cwd: ws.dir });
async function found(...args: string[]): Promise<string[]> {
  const r = await alice('search', ...args, '--json');
  if (r.code !== 0) throw new Error(`alice search ${args.join(' ')}: ${r.stderr}`);
  return r.json<SearchResponse>().results.map((x) => index.keyOf(x.content_hash));
}

describe('alice search WORDS', () => {
  it('finds a word in a tag, a prompt and a file name; the asset matching everywhere ranks first', async () => {
    const keys = await found('cyberpunk');
    expect(keys[0]).toBe('everywhere');
    expect([...keys].sort()).toEqual(['everywhere', 'named', 'prompted', 'tagged']);
  });

  it('matches the name of every copy, not only the one shown', async () => {
    expect(await found('sunset')).toEqual(['copied']);
    expect(await found('original')).toEqual(['copied']);
    expect(await found('sunset', '--type', 'image')).toEqual(['copied']);
  });

  it('folds case, stems plurals and matches prefixes; every word must match', async () => {
    expect((await found('CATS')).sort()).toEqual(['cat', 'everywhere']);
    expect((await found('cyber')).sort()).toEqual(['everywhere', 'named', 'prompted', 'tagged']);
    expect(await found('neon')).toEqual(['lights']); // a word inside a tag value
    expect(await found('lighting')).toEqual(['lights']); // the tag category
    expect((await found('city')).sort()).toEqual(['lights', 'prompted']); // cities = city
    expect(await found('cyberpunk', 'cat')).toEqual(['everywhere']);
    expect(await found('nothing-like-this')).toEqual([]);
  });

  it('combines with filters and sorts', async () => {
    expect(await found('cyberpunk', '--path', path.join(lib, 'c'))).toEqual(['named']);
    expect(await found('cyberpunk', '--tag', 'style:cyberpunk', '--sort', 'name')).toEqual([
      'everywhere',
      'tagged',
    ]);
    expect(await found('cyberpunk', '--has-prompt', '--limit', '1')).toEqual(['everywhere']);
    const total = (await alice('search', 'cyberpunk', '--limit', '1', '--json')).json<SearchResponse>().total;
    expect(total).toBe(4);
  });

  it('--prompt cats finds "cat" (stemmed terms)', async () => {
    expect((await found('--prompt', 'cats')).sort()).toEqual(['cat', 'everywhere']);
    expect((await found('--prompt', 'cities')).sort()).toEqual(['lights', 'prompted']);
  });
});

describe('generation filters', () => {
  it('--gen-seed, --sampler, --steps, --cfg, --lora', async () => {
    expect(await found('--gen-seed', '1234567890')).toEqual(['prompted']);
    expect(await found('--gen-seed', '42')).toEqual(['cat']);
    expect(await found('--sampler', 'dpm++')).toEqual(['cat']);
    expect(await found('--steps', '30')).toEqual(['prompted']);
    expect(await found('--cfg', '7.5')).toEqual(['prompted']);
    expect(await found('--cfg', '5')).toEqual(['cat']);
    expect(await found('--lora', 'neonglow')).toEqual(['prompted']);
    expect(await found('--lora', 'neonglow', '--steps', '20')).toEqual([]);
  });
});

describe('output for scripts', () => {
  it('--paths prints one path per line; -0 works with xargs -0', async () => {
    const r = await alice('search', 'cyberpunk', '--paths', '--sort', 'name');
    expect(r.code).toBe(0);
    const names = SPECS.filter((s) => ['everywhere', 'named', 'prompted', 'tagged'].includes(s.key)).map(
      (s) => path.join(lib, s.file),
    );
    expect(
      r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ).toEqual(names.sort());

    const piped = spawnSync(
      'bash',
      ['-o', 'pipefail', '-c', `"${process.execPath}" "${ALICE_BIN}" search cyberpunk -0 | xargs -0 ls`],
      { cwd: ws.dir, env: { ...process.env, ...ws.env }, encoding: 'utf8' },
    );
    expect(piped.status, piped.stderr).toBe(0);
    expect(
      piped.stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ).toEqual(names.sort());
  });

  it('--csv prints a header and quoted fields', async () => {
    const r = await alice('search', '--prompt', 'cat', '--csv', '--sort', 'name');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\r\n');
    expect(lines[0]).toBe(
      'content_hash,path,media_type,format,width,height,file_size,created_at,source,model,tags,prompt',
    );
    expect(lines[1]).toContain(
      `${index.hashOf('everywhere')},${path.join(lib, 'e/cyberpunk-cat.png')},image`,
    );
    expect(lines[1]).toContain('style:cyberpunk,cyberpunk cats');
    expect(lines.length).toBe(4); // header, two rows, the empty string after the last CRLF
  });
});

describe('stemming', () => {
  it('the SQL stemmer of the index migration agrees with the one words are indexed with', async () => {
    const db = await openDb(':memory:');
    try {
      const words = ['cats', 'cat', 'cities', 'boxes', 'dresses', 'glass', 'bus', 'virus', 'this', 'lights'];
      for (const w of [
        ...words,
        'churches',
        'dishes',
        'series',
        'ties',
        'has',
        'news',
        'ünïcodes',
        '1990s',
      ]) {
        const rows = await db.all<{ s: string }>(
          `SELECT ${stemSql('w')} AS s FROM (SELECT ?::VARCHAR AS w)`,
          [w],
        );
        expect(rows[0]?.s, w).toBe(stem(w));
      }
      expect(words.map(stem)).toEqual([
        'cat',
        'cat',
        'city',
        'box',
        'dress',
        'glass',
        'bus',
        'virus',
        'this',
        'light',
      ]);
    } finally {
      db.close();
    }
  });
});
