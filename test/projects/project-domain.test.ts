/** Pure project rules: names, file schemas, line numbers, placed names, project paths, manifest. */
import { describe, expect, it } from 'vitest';
import { parseYamlText, setYamlKeys } from '../../src/adapters/yaml.adapter.js';
import { AliceError } from '../../src/domain/errors.js';
import { jsonErrorOffset, lineColumnAt } from '../../src/domain/json-position.js';
import { buildManifest } from '../../src/domain/project-manifest.js';
import {
  PROJECT_TAG_SOURCE,
  exportFolderName,
  isProjectCopyPath,
  jsonErrorPosition,
  projectFileSchema,
  projectNameProblem,
  projectTagsForPath,
  selectedFileName,
  selectionsFileSchema,
  sessionLogName,
  validateProjectName,
  type Selection,
} from '../../src/domain/project.js';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);

describe('project names', () => {
  const bad = [
    '',
    '.',
    '..',
    'a/b',
    'a\\b',
    '../x',
    '.hidden',
    'a\0b',
    'tab\there',
    'a<b',
    'a>b',
    'a:b',
    'a"b',
    'a|b',
    'a?b',
    'a*b',
    'CON',
    'nul',
    'com1',
    'LPT9.txt',
    'trailing.',
    'trailing ',
    ' leading',
    'x'.repeat(101),
  ];
  it.each(bad)('refuses %j with PROJECT_INVALID', (name) => {
    expect(projectNameProblem(name)).toBeTypeOf('string');
    try {
      validateProjectName(name);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AliceError);
      expect((err as AliceError).code).toBe('PROJECT_INVALID');
      expect((err as AliceError).message).toContain('invalid project name');
    }
  });

  it.each(['client-x', 'trailer 2025', 'Été', 'a..b', 'console', 'x'.repeat(100), 'v1.2'])(
    'accepts %j',
    (name) => {
      expect(projectNameProblem(name)).toBeUndefined();
      expect(validateProjectName(name)).toBe(name.normalize('NFC'));
    },
  );

  it('normalises to NFC so macOS (NFD) and Linux spellings name the same folder', () => {
    expect(validateProjectName('E\u0301te\u0301')).toBe('Été');
  });
});

describe('project.yaml and selections.json schemas', () => {
  it('accepts a minimal project.yaml, keeps unknown keys, treats empty brief/description as empty', () => {
    const r = projectFileSchema.parse({
      name: 'p',
      description: null,
      created: 't',
      updated: 't',
      status: 'paused',
      brief: null,
      extra: 1,
    });
    expect(r).toMatchObject({ description: '', brief: {}, status: 'paused', extra: 1 });
  });

  it('refuses an unknown status', () => {
    expect(
      projectFileSchema.safeParse({ name: 'p', created: 't', updated: 't', status: 'bogus' }).success,
    ).toBe(false);
  });

  it('refuses a selection whose file_name would point outside selected/', () => {
    const sel = (file_name: string): unknown => ({
      version: 1,
      selections: [{ content_hash: H1, reason: 'r', selected_at: 't', file_name }],
    });
    expect(selectionsFileSchema.safeParse(sel('a.png')).success).toBe(true);
    for (const f of ['../x.png', 'a/b.png', '..', 'a\\b'])
      expect(selectionsFileSchema.safeParse(sel(f)).success).toBe(false);
  });
});

describe('line numbers of hand-edited files', () => {
  it('YAML syntax errors carry their line', () => {
    const r = parseYamlText('name: p\nstatus: [active\nbrief: {}\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('locates a value by key path (also inside JSON text)', () => {
    const text = '{\n  "version": 1,\n  "selections": [\n    {\n      "content_hash": "zz"\n    }\n  ]\n}\n';
    const r = parseYamlText(text);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.lineOf(['selections', 0, 'content_hash'])).toBe(5);
      expect(r.lineOf(['selections', 0, 'reason'])).toBe(4); // missing key: its object's line
      expect(r.lineOf(['version'])).toBe(2);
    }
  });

  it('JSON.parse errors become line and column', () => {
    const text = '{\n  "version": 1,\n  "selections": [,]\n}';
    let message = '';
    try {
      JSON.parse(text);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(jsonErrorPosition(text, message).line).toBe(3);
    expect(jsonErrorPosition('abc', 'Unexpected token in JSON at position 0')).toEqual({
      line: 1,
      column: 1,
    });
  });

  it('the JSON scan agrees with JSON.parse on what is valid, and points at the mistake', () => {
    const cases = [
      '{}',
      '[1, 2.5e3, -0, "a\\n\\u00e9", true, false, null, {"a": [ ]}]',
      ' {"a":1} ',
      '{"a":1,}',
      '[1,]',
      '{"a" 1}',
      '{a: 1}',
      '[01]',
      '"\t"',
      '{"a":1}}',
      '',
      '[',
      '"abc',
      'nul',
      '\ufeff{}',
    ];
    for (const text of cases) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      expect(jsonErrorOffset(text) === undefined, text).toBe(valid);
    }
    expect(jsonErrorOffset('{\n  "a": 1,\n  "b": [1, 2,, 3]\n}')).toBe(25);
    expect(lineColumnAt('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });

  it('setYamlKeys changes one key and keeps comments and other keys', () => {
    const text = '# mine\nname: p # the name\nupdated: old\nbrief:\n  client: ACME\n';
    const out = setYamlKeys(text, { updated: 'new' });
    expect(out).toContain('# mine');
    expect(out).toContain('# the name');
    expect(out).toContain('updated: new');
    expect(out).toContain('client: ACME');
  });
});

describe('names and paths', () => {
  it('keeps the original name, else adds -<hash8> before the extension (case-insensitive)', () => {
    expect(selectedFileName('a.png', H1, new Set())).toBe('a.png');
    expect(selectedFileName('A.png', H1, new Set(['a.png']))).toBe('A-aaaaaaaa.png');
    expect(selectedFileName('a.png', H1, new Set(['a.png', 'a-aaaaaaaa.png']))).toBe('a-aaaaaaaa-2.png');
  });

  it('tags files in <project root>/<name>/created/ with project:<name> only', () => {
    const roots = ['/lib/projects', '/other'];
    expect(projectTagsForPath('/lib/projects/trailer/created/shot.png', roots)).toEqual([
      { category: 'project', value: 'trailer' },
    ]);
    expect(projectTagsForPath('/lib/projects/trailer/created/sub/x.mp4', roots)).toHaveLength(1);
    expect(projectTagsForPath('/lib/projects/trailer/selected/x.png', roots)).toEqual([]);
    expect(projectTagsForPath('/lib/projects/created/x.png', roots)).toEqual([]);
    expect(projectTagsForPath('/lib/projects-2/trailer/created/x.png', roots)).toEqual([]);
    expect(projectTagsForPath('/assets/trailer/created/x.png', roots)).toEqual([]);
    expect(PROJECT_TAG_SOURCE).toBe('project');
  });

  it('project copies are selected/ and exports/, not created/', () => {
    const roots = ['/p'];
    expect(isProjectCopyPath('/p/x/selected/a.png', roots)).toBe(true);
    expect(isProjectCopyPath('/p/x/exports/2025/selected/a.png', roots)).toBe(true);
    expect(isProjectCopyPath('/p/x/created/a.png', roots)).toBe(false);
    expect(isProjectCopyPath('/lib/selected/a.png', roots)).toBe(false);
  });

  it('session logs are per local day; export folders have no colons', () => {
    expect(sessionLogName(new Date(2025, 0, 31, 23, 59))).toBe('2025-01-31.jsonl');
    expect(exportFolderName(new Date(Date.UTC(2025, 0, 31, 9, 5, 0, 123)))).toBe('2025-01-31T09-05-00Z');
  });
});

describe('manifest', () => {
  it('credits reasons by content, uses the name to break ties, and sorts by path', () => {
    const sel = (hash: string, file: string, reason: string): Selection => ({
      content_hash: hash,
      reason,
      role: null,
      selected_at: 't',
      source_path: `/lib/${file}`,
      file_name: file,
    });
    const m = buildManifest(
      { name: 'p', description: '' },
      new Date(0),
      [
        {
          path: 'selected/b.png',
          kind: 'selected',
          sha256: H2,
          size: 2,
          assetHash: H2,
          tags: ['k:z', 'k:a'],
          prompt: null,
        },
        {
          path: 'selected/a.png',
          kind: 'selected',
          sha256: H2,
          size: 1,
          assetHash: undefined,
          tags: [],
          prompt: 'cat',
        },
        {
          path: 'created/c.png',
          kind: 'created',
          sha256: H1,
          size: 3,
          assetHash: H1,
          tags: [],
          prompt: null,
        },
      ],
      [sel(H1, 'a.png', 'wrong content: not credited'), sel(H2, 'b.png', 'the hero')],
    );
    expect(m.files.map((f) => f.path)).toEqual(['created/c.png', 'selected/a.png', 'selected/b.png']);
    expect(m.files[0]?.reason).toBeNull();
    expect(m.files[1]).toMatchObject({ reason: 'the hero', indexed: false, asset_hash: H2, prompt: 'cat' });
    expect(m.files[2]).toMatchObject({ reason: 'the hero', tags: ['k:a', 'k:z'] });
  });
});
