/**
 * Coalescing raw watcher events (pure): latest event per path wins, delete+create is an update,
 * alice's own and temporary paths never reach the pipeline, and folders fold their contents.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  coalesce,
  isRelevantPath,
  scanTargets,
  type Change,
  type ChangeKind,
} from '../../src/domain/change-set.js';

const root = path.join(path.sep, 'lib');
const p = (...parts: string[]): string => path.join(root, ...parts);

function run(events: Change[], into = new Map<string, ChangeKind>()): Record<string, ChangeKind> {
  return Object.fromEntries(coalesce(into, events));
}

describe('coalesce', () => {
  it('keeps one entry per path, the latest event winning', () => {
    expect(
      run([
        { kind: 'update', path: p('a.png') },
        { kind: 'delete', path: p('a.png') },
        { kind: 'update', path: p('b.png') },
      ]),
    ).toEqual({ [p('a.png')]: 'delete', [p('b.png')]: 'update' });
  });

  it('treats a create after a delete as an update (the file was replaced)', () => {
    expect(
      run([
        { kind: 'delete', path: p('a.png') },
        { kind: 'create', path: p('a.png') },
      ]),
    ).toEqual({
      [p('a.png')]: 'update',
    });
  });

  it('keeps a new file new while it is still being written', () => {
    expect(
      run([
        { kind: 'create', path: p('a.png') },
        { kind: 'update', path: p('a.png') },
        { kind: 'update', path: p('a.png') },
      ]),
    ).toEqual({ [p('a.png')]: 'create' });
  });

  it('a file created and deleted before processing ends as a delete', () => {
    expect(
      run([
        { kind: 'create', path: p('a.png') },
        { kind: 'delete', path: p('a.png') },
      ]),
    ).toEqual({
      [p('a.png')]: 'delete',
    });
  });

  it('merges into the map it is given across calls (a batch put back to wait)', () => {
    const m = new Map<string, ChangeKind>([[p('a.png'), 'delete']]);
    run([{ kind: 'create', path: p('a.png') }], m);
    expect(m.get(p('a.png'))).toBe('update');
  });
});

describe('isRelevantPath', () => {
  it.each([
    ['a.png', true],
    ['sub/deep/a.png', true],
    ['x.png.tmp', false],
    ['download.png.crdownload', false],
    ['movie.mp4.part', false],
    ['a.png~', false],
    ['.hidden.png', false],
    ['.metadata/ab/abcd.json', false],
    ['.metadata/ab/.abcd.json.123.alice-tmp', false],
    ['sub/.cache/a.png', false],
    ['.a.png.12ab.alice-tmp', false],
  ])('%s → %s', (rel, want) => {
    expect(isRelevantPath(p(...rel.split('/')), root)).toBe(want);
  });

  it('rejects the root itself and paths outside it', () => {
    expect(isRelevantPath(root, root)).toBe(false);
    expect(isRelevantPath(path.join(path.sep, 'other', 'a.png'), root)).toBe(false);
    expect(isRelevantPath(path.join(path.sep, 'library', 'a.png'), root)).toBe(false);
  });
});

describe('scanTargets', () => {
  it('folds paths below a changed folder into the folder', () => {
    const changes = new Map<string, ChangeKind>([
      [p('album', 'a.png'), 'create'],
      [p('album'), 'create'],
      [p('album', 'deep', 'b.png'), 'create'],
      [p('c.png'), 'update'],
    ]);
    expect(scanTargets(changes)).toEqual([p('album'), p('c.png')]);
  });

  it('does not fold a sibling whose name merely starts with the folder name', () => {
    const changes = new Map<string, ChangeKind>([
      [p('album'), 'delete'],
      [p('album-2024', 'a.png'), 'create'],
      [p('album.png'), 'create'],
    ]);
    expect(scanTargets(changes)).toEqual([p('album'), p('album-2024', 'a.png'), p('album.png')]);
  });

  it('gives an empty list for an empty change set', () => {
    expect(scanTargets(new Map())).toEqual([]);
  });
});
