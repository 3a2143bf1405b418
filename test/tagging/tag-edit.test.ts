import { describe, expect, it } from 'vitest';
import type { EmbedResult } from '../../src/domain/embed-plan.js';
import { mergeOutsideEdit, outsideEditRemoves } from '../../src/domain/outside-edit.js';
import { newSidecar, type Sidecar } from '../../src/domain/sidecar.js';
import {
  changeTags,
  embedIntentOf,
  embedStateOf,
  normaliseDescription,
  sameEmbedding,
  withEmbedding,
} from '../../src/domain/tag-edit.js';
import { parseTag } from '../../src/domain/tags.js';

const H = (c: string): string => c.repeat(64);
const NOW = '2026-01-02T03:04:05.000Z';

function sidecar(tags: Record<string, string[]>, sources: Record<string, string> = {}): Sidecar {
  const s = newSidecar({ contentHash: H('a'), fileName: 'x.jpg', fileSize: 1, mediaType: 'image', now: NOW });
  s.analysis.understanding.tags = tags;
  s.analysis.understanding.tag_sources = sources;
  return s;
}

const tags = (...raw: string[]) => raw.map((r) => parseTag(r));

describe('changeTags', () => {
  it('add keeps existing tags, marks the given ones as the user’s and reports only new ones', () => {
    const u = sidecar({ keywords: ['cat'] }, { 'keywords:cat': 'file:XMP-dc:Subject' }).analysis
      .understanding;
    const c = changeTags(u, 'add', tags('style:cyberpunk', 'Cat'));
    expect(c.understanding.tags).toEqual({ keywords: ['cat'], style: ['cyberpunk'] });
    expect(c.understanding.tag_sources).toEqual({ 'keywords:cat': 'user', 'style:cyberpunk': 'user' });
    expect(c.added).toEqual(['style:cyberpunk']);
    expect(c.removed).toEqual([]);
  });

  it('remove drops tags whatever their source, case-insensitively', () => {
    const u = sidecar(
      { keywords: ['cat', 'dog'], style: ['noir'] },
      { 'keywords:cat': 'user', 'style:noir': 'file:XMP-lr:HierarchicalSubject' },
    ).analysis.understanding;
    const c = changeTags(u, 'remove', tags('CAT', 'style:noir', 'absent'));
    expect(c.understanding.tags).toEqual({ keywords: ['dog'] });
    expect(c.understanding.tag_sources).toEqual({});
    expect(c.removed).toEqual(['keywords:cat', 'style:noir']);
  });

  it('set replaces every tag of the asset, from every source', () => {
    const u = sidecar({ keywords: ['cat'], style: ['noir'] }, { 'style:noir': 'vocabulary' }).analysis
      .understanding;
    const c = changeTags(u, 'set', tags('style:noir', 'new'));
    expect(c.understanding.tags).toEqual({ style: ['noir'], keywords: ['new'] });
    expect(c.understanding.tag_sources).toEqual({ 'style:noir': 'user', 'keywords:new': 'user' });
    expect(c.added).toEqual(['keywords:new']);
    expect(c.removed).toEqual(['keywords:cat']);
  });

  it('keeps awkward values exactly', () => {
    const raw = ['-overwrite_original', 'a=b', '"quoted"', 'line1\nline2', '日本語', 'x:y:z'];
    const c = changeTags(sidecar({}).analysis.understanding, 'add', tags(...raw));
    expect(c.understanding.tags).toEqual({
      keywords: ['-overwrite_original', 'a=b', '"quoted"', 'line1\nline2', '日本語'],
      x: ['y:z'],
    });
  });
});

describe('descriptions and the embed intent', () => {
  it('an empty description clears it; text is trimmed but kept otherwise', () => {
    expect(normaliseDescription('  ')).toBeNull();
    expect(normaliseDescription(' a\nb ')).toBe('a\nb');
  });

  it('leaves the file’s description alone unless the sidecar has one or it is cleared', () => {
    const s = sidecar({ style: ['noir'] });
    expect(embedIntentOf(s)).toEqual({ tags: [{ category: 'style', value: 'noir' }], contentHash: H('a') });
    expect(embedIntentOf(s, true).description).toBeNull();
    s.analysis.understanding.description = 'hello';
    expect(embedIntentOf(s).description).toBe('hello');
  });
});

describe('recording embedding outcomes', () => {
  const written = (h: string): EmbedResult => ({ status: 'written', newHash: h, warnings: [] });
  const failed: EmbedResult = { status: 'failed', reason: 'boom', warnings: ['w'] };

  it('a failure of any file wins and names the path', () => {
    const s = embedStateOf(
      [
        { path: '/a', result: written(H('b')), byteHash: H('b') },
        { path: '/b', result: failed },
      ],
      NOW,
    );
    expect(s).toEqual({ state: 'failed', at: NOW, reason: '/b: boom', warnings: ['w'] });
  });

  it('written beats current; sidecar_only keeps its reason; nothing tried gives undefined', () => {
    const cur: EmbedResult = { status: 'current' };
    expect(
      embedStateOf(
        [
          { path: '/a', result: cur, byteHash: H('c') },
          { path: '/b', result: written(H('b')), byteHash: H('b') },
        ],
        NOW,
      ),
    ).toEqual({ state: 'written', at: NOW, hash: H('b') });
    expect(embedStateOf([{ path: '/g', result: { status: 'sidecar_only', reason: 'gif' } }], NOW)).toEqual({
      state: 'sidecar_only',
      at: NOW,
      reason: 'gif',
    });
    expect(embedStateOf([], NOW)).toBeUndefined();
  });

  it('adds new byte hashes as aliases and leaves an unchanged sidecar as the same object', () => {
    const s = sidecar({});
    const after = withEmbedding(s, { state: 'written', at: NOW, hash: H('b') }, [H('b'), H('a')]);
    expect(after.aliases).toEqual([H('b')]);
    expect(after.embedding).toEqual({ state: 'written', at: NOW, hash: H('b') });
    const again = withEmbedding(
      after,
      { state: 'current', at: '2027-01-01T00:00:00.000Z', hash: H('b') },
      [],
    );
    expect(again).toBe(after);
    expect(sameEmbedding(after.embedding, { state: 'current', at: NOW, hash: H('c') })).toBe(false);
    expect(sameEmbedding(after.embedding, { state: 'failed', at: NOW, reason: 'x' })).toBe(false);
  });
});

describe('mergeOutsideEdit (another program edited a file alice embedded into)', () => {
  function previous(): Sidecar {
    const s = sidecar(
      { keywords: ['user-tag', 'from-file', 'embedded-gone'], style: ['noir'] },
      {
        'keywords:user-tag': 'user',
        'keywords:from-file': 'file:XMP-dc:Subject',
        'keywords:embedded-gone': 'user',
        'style:noir': 'user',
      },
    );
    s.analysis.understanding.description = 'old words';
    s.embedding = { state: 'written', at: NOW, hash: H('b') };
    return s;
  }

  function fresh(
    fileTags: string[],
    opts: { aliceHash?: boolean; description?: string | null } = {},
  ): Sidecar {
    const s = newSidecar({
      contentHash: H('c'),
      fileName: 'x.jpg',
      fileSize: 2,
      mediaType: 'image',
      now: NOW,
    });
    const parsed = tags(...fileTags);
    s.analysis.understanding.tags = Object.fromEntries(
      [...new Set(parsed.map((t) => t.category))].map((c) => [
        c,
        parsed.filter((t) => t.category === c).map((t) => t.value),
      ]),
    );
    s.analysis.understanding.tag_sources = Object.fromEntries(
      parsed.map((t) => [`${t.category}:${t.value.toLowerCase()}`, 'file:XMP-dc:Subject']),
    );
    s.analysis.understanding.description = opts.description ?? null;
    if (opts.aliceHash !== false) s.embedded_metadata = { alice_content_hash: H('a') };
    return s;
  }

  it('adds the file’s new keywords and drops file-sourced tags the file lost; user tags keep their source', () => {
    const m = mergeOutsideEdit(fresh(['user-tag', 'style:noir', 'outside']), previous(), H('c'));
    expect(m.derived_from).toBe(H('a'));
    expect(m.analysis.understanding.tags).toEqual({ keywords: ['user-tag', 'outside'], style: ['noir'] });
    expect(m.analysis.understanding.tag_sources).toEqual({
      'keywords:user-tag': 'user',
      'style:noir': 'user',
      'keywords:outside': 'file:XMP-dc:Subject',
    });
  });

  it('keeps tags alice embedded when the other program stripped alice’s XMP', () => {
    const m = mergeOutsideEdit(fresh(['outside'], { aliceHash: false }), previous(), H('c'));
    expect(m.analysis.understanding.tags).toEqual({
      keywords: ['user-tag', 'embedded-gone', 'outside'],
      style: ['noir'],
    });
    expect(m.analysis.understanding.description).toBe('old words');
  });

  it('keeps them when alice never embedded (state failed) and takes a changed description only under the rule', () => {
    const p = previous();
    p.embedding = { state: 'failed', at: NOW, reason: 'x' };
    expect(outsideEditRemoves(p, H('c'), H('a'))).toBe(false);
    const kept = mergeOutsideEdit(fresh([], { description: 'new words' }), p, H('c'));
    expect(kept.analysis.understanding.description).toBe('old words');
    expect(kept.analysis.understanding.tags['keywords']).toContain('embedded-gone');
    const taken = mergeOutsideEdit(fresh([], { description: 'new words' }), previous(), H('c'));
    expect(taken.analysis.understanding.description).toBe('new words');
  });

  it('does not apply the rule when the bytes are the ones alice left', () => {
    expect(outsideEditRemoves(previous(), H('b'), H('a'))).toBe(false);
    expect(outsideEditRemoves(previous(), H('c'), H('a'))).toBe(true);
  });
});
