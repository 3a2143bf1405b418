/** Settings: lookup order, path resolution, `~`, and validation that lists every problem at once. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container } from '../../src/app/container.js';
import { loadConfig } from '../../src/config/config.js';
import { AliceError, ErrorCode } from '../../src/domain/errors.js';
import { makeTempDir, removeDir } from '../helpers/fixtures.js';

let dir: string;

beforeAll(() => {
  dir = makeTempDir('alice-config-');
});
afterAll(() => removeDir(dir));

function write(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** A settings file with no roots whose index name tells which file was used. */
function marker(file: string, name: string): string {
  return write(file, `storage:\n  search_db: ${name}.duckdb\n  asset_paths: []\n  project_paths: []\n`);
}

function configError(fn: () => unknown): AliceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AliceError) return err;
    throw err;
  }
  throw new Error('expected an AliceError');
}

describe('settings lookup order', () => {
  it('uses --config, then $ALICE_CONFIG, then ./settings.yaml, then $ALICE_HOME/settings.yaml', () => {
    const base = path.join(dir, 'order');
    const home = path.join(base, 'home');
    const cwd = path.join(base, 'cwd');
    const flag = marker(path.join(base, 'flag', 'flag.yaml'), 'flag');
    const envFile = marker(path.join(base, 'env', 'env.yaml'), 'env');
    marker(path.join(cwd, 'settings.yaml'), 'cwd');
    marker(path.join(home, 'settings.yaml'), 'home');
    const env = { ALICE_HOME: home, ALICE_CONFIG: envFile };

    const c1 = loadConfig({ configFile: flag, env, cwd });
    expect(c1.settingsFile).toBe(flag);
    expect(c1.searchDb).toBe(path.join(base, 'flag', 'flag.duckdb'));

    const c2 = loadConfig({ env, cwd });
    expect(c2.settingsFile).toBe(envFile);
    expect(c2.searchDb).toBe(path.join(base, 'env', 'env.duckdb'));

    const c3 = loadConfig({ env: { ALICE_HOME: home }, cwd });
    expect(c3.settingsFile).toBe(path.join(cwd, 'settings.yaml'));
    expect(c3.searchDb).toBe(path.join(cwd, 'cwd.duckdb'));

    const c4 = loadConfig({ env: { ALICE_HOME: home }, cwd: base });
    expect(c4.settingsFile).toBe(path.join(home, 'settings.yaml'));
    expect(c4.searchDb).toBe(path.join(home, 'home.duckdb'));
  });

  it('a relative --config resolves against the working directory', () => {
    const base = path.join(dir, 'relflag');
    marker(path.join(base, 'conf', 'mine.yaml'), 'mine');
    const c = loadConfig({
      configFile: 'conf/mine.yaml',
      env: { ALICE_HOME: path.join(base, 'h') },
      cwd: base,
    });
    expect(c.settingsFile).toBe(path.join(base, 'conf', 'mine.yaml'));
  });

  it('without any file, uses built-in defaults below ALICE_HOME', () => {
    const home = path.join(dir, 'nofile-home');
    const cwd = path.join(dir, 'nofile-cwd');
    fs.mkdirSync(cwd, { recursive: true });
    const c = loadConfig({ env: { ALICE_HOME: home }, cwd });
    expect(c.settingsFile).toBeNull();
    expect(c.home).toBe(home);
    expect(c.searchDb).toBe(path.join(home, 'data', 'search.duckdb'));
    expect(c.roots.map((r) => [r.kind, r.path, r.isDefault])).toEqual([
      ['asset', path.join(home, 'assets'), true],
      ['project', path.join(home, 'projects'), true],
    ]);
    expect(Object.isFrozen(c) && Object.isFrozen(c.roots)).toBe(true);
  });

  it('an explicit settings file that does not exist is CONFIG_NOT_FOUND', () => {
    const err = configError(() =>
      loadConfig({ configFile: path.join(dir, 'nope.yaml'), env: { ALICE_HOME: dir }, cwd: dir }),
    );
    expect(err.code).toBe(ErrorCode.CONFIG_NOT_FOUND);
    const err2 = configError(() =>
      loadConfig({ env: { ALICE_HOME: dir, ALICE_CONFIG: path.join(dir, 'nope2.yaml') }, cwd: dir }),
    );
    expect(err2.code).toBe(ErrorCode.CONFIG_NOT_FOUND);
  });
});

describe('paths in settings', () => {
  it("resolve against the settings file's folder, not the working directory", () => {
    const base = path.join(dir, 'rel');
    const file = write(
      path.join(base, 'conf', 'settings.yaml'),
      'storage:\n  search_db: ../db/index.duckdb\n  asset_paths: [pics, ../shared]\n  project_paths: [proj]\n',
    );
    const c = loadConfig({
      configFile: file,
      env: { ALICE_HOME: path.join(base, 'home') },
      cwd: os.tmpdir(),
    });
    expect(c.searchDb).toBe(path.join(base, 'db', 'index.duckdb'));
    expect(c.roots.map((r) => [r.kind, r.path, r.isDefault])).toEqual([
      ['asset', path.join(base, 'conf', 'pics'), false],
      ['asset', path.join(base, 'shared'), false],
      ['project', path.join(base, 'conf', 'proj'), false],
    ]);
  });

  it('expand ~ to the home directory, in settings and in ALICE_HOME', () => {
    const file = write(
      path.join(dir, 'tilde', 'settings.yaml'),
      'storage:\n  search_db: ~/alice-test-db/x.duckdb\n  asset_paths: [~/alice-test-pics]\n  project_paths: []\n',
    );
    const c = loadConfig({ configFile: file, env: { ALICE_HOME: '~/alice-test-home' }, cwd: dir });
    expect(c.searchDb).toBe(path.join(os.homedir(), 'alice-test-db', 'x.duckdb'));
    expect(c.roots[0]?.path).toBe(path.join(os.homedir(), 'alice-test-pics'));
    expect(c.home).toBe(path.join(os.homedir(), 'alice-test-home'));
  });
});

describe('settings validation', () => {
  it('lists every problem at once with its key path, and suggests known keys', () => {
    const file = write(
      path.join(dir, 'bad', 'settings.yaml'),
      [
        'storag:',
        '  search_db: x.duckdb',
        'storage:',
        '  asset_paths: not-a-list',
        'watch:',
        '  debounse_ms: 100',
        '  mass_delete_ratio: 3',
        'pipeline:',
        '  hash_concurrency: 0',
        '',
      ].join('\n'),
    );
    const err = configError(() => loadConfig({ configFile: file, env: { ALICE_HOME: dir }, cwd: dir }));
    expect(err.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(err.hint).toBeTruthy();
    const text = err.details.join('\n');
    expect(err.details.length).toBeGreaterThanOrEqual(5);
    expect(text).toMatch(/storag: unknown key \(did you mean "storage"\?\)/);
    expect(text).toMatch(/watch\.debounse_ms: unknown key \(did you mean "debounce_ms"\?\)/);
    expect(text).toMatch(/storage\.asset_paths: /);
    expect(text).toMatch(/watch\.mass_delete_ratio: /);
    expect(text).toMatch(/pipeline\.hash_concurrency: /);
  });

  it('storage.index_memory_limit must be a size, and the index is opened with it', async () => {
    const bad = write(
      path.join(dir, 'memlimit-bad', 'settings.yaml'),
      'storage:\n  index_memory_limit: lots\n',
    );
    const err = configError(() => loadConfig({ configFile: bad, env: { ALICE_HOME: dir }, cwd: dir }));
    expect(err.details.join('\n')).toMatch(/storage\.index_memory_limit: .*128MB/);

    const limit = async (text: string): Promise<string> => {
      const base = path.join(dir, `memlimit-${text.length}`);
      const file = write(
        path.join(base, 'settings.yaml'),
        `storage:\n  search_db: i.duckdb\n  asset_paths: []\n  project_paths: []\n${text}`,
      );
      const c = new Container(loadConfig({ configFile: file, env: { ALICE_HOME: base }, cwd: base }), {
        readOnly: false,
      });
      try {
        const db = await c.index();
        const rows = await db.all<{ m: string }>("SELECT current_setting('memory_limit') AS m");
        return rows[0]?.m ?? '';
      } finally {
        await c.close();
      }
    };
    // DuckDB reports the limit in binary units: 64 MB = 61.0 MiB, the 1 GB default = 953.6 MiB.
    expect(await limit('  index_memory_limit: 64MB\n')).toBe('61.0 MiB');
    expect(await limit('')).toBe('953.6 MiB');
  });

  it('an unknown key with nothing close gets no suggestion', () => {
    const file = write(path.join(dir, 'unknown', 'settings.yaml'), 'zzzzzzzzzz: 1\n');
    const err = configError(() => loadConfig({ configFile: file, env: { ALICE_HOME: dir }, cwd: dir }));
    expect(err.details).toEqual(['zzzzzzzzzz: unknown key']);
  });

  it('rejects invalid YAML', () => {
    const file = write(path.join(dir, 'yaml', 'settings.yaml'), 'storage:\n  asset_paths: [a, b\n');
    const err = configError(() => loadConfig({ configFile: file, env: { ALICE_HOME: dir }, cwd: dir }));
    expect(err.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(err.details.length).toBeGreaterThan(0);
  });

  it('rejects roots that overlap, are configured twice, or are not folders — all in one report', () => {
    const base = path.join(dir, 'overlap');
    fs.mkdirSync(path.join(base, 'lib', 'inner'), { recursive: true });
    fs.mkdirSync(path.join(base, 'proj'), { recursive: true });
    write(path.join(base, 'a-file'), 'x');
    const file = write(
      path.join(base, 'settings.yaml'),
      'storage:\n  asset_paths: [lib, lib/inner, a-file, proj]\n  project_paths: [proj/..//proj]\n',
    );
    const err = configError(() => loadConfig({ configFile: file, env: { ALICE_HOME: base }, cwd: base }));
    expect(err.code).toBe(ErrorCode.CONFIG_INVALID);
    const text = err.details.join('\n');
    expect(text).toMatch(/storage\.asset_paths\[0\]: .*lib overlaps .*lib\/inner/);
    expect(text).toMatch(/storage\.asset_paths\[2\]: not a directory/);
    expect(text).toMatch(/storage\.asset_paths\[3\]: .*proj is configured twice/);
  });

  it('a root that does not exist is not an error (it is offline)', () => {
    const base = path.join(dir, 'offline');
    const file = write(
      path.join(base, 'settings.yaml'),
      'storage:\n  asset_paths: [gone]\n  project_paths: []\n',
    );
    const c = loadConfig({ configFile: file, env: { ALICE_HOME: base }, cwd: base });
    expect(c.roots.map((r) => r.path)).toEqual([path.join(base, 'gone')]);
  });
});
