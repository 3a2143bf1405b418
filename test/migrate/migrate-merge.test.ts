/** The pure merge rules of `alice migrate`: each only adds, and applying twice changes nothing. */
import { describe, expect, it } from 'vitest';
import { importRecord } from '../../src/domain/record-import.js';
import { checkSidecar, newSidecar, type Sidecar } from '../../src/domain/sidecar.js';
import { migrateSidecar } from '../../src/domain/sidecar-migrations.js';
import {
  applyRecord,
  enrichFromAnalysis,
  mergeLegacyInto,
} from '../../src/services/migrate/migrate-merge.js';
import type { Analysis } from '../../src/ports.js';
import { expectEveryFieldKept, legacyV1 } from './helpers.js';

const HASH = 'c'.repeat(64);
const NOW = '2025-06-01T00:00:00.000Z';
const LATER = '2025-06-02T00:00:00.000Z';

function fresh(): Sidecar {
  return newSidecar({ contentHash: HASH, fileName: 'a.png', fileSize: 10, mediaType: 'image', now: NOW });
}

function analysis(over: Partial<Analysis> = {}): Analysis {
  return {
    media: { width: 8, height: 8 },
    generation: null,
    perceptual: { phash: '0'.repeat(16), dhash: '1'.repeat(16), ahash: '2'.repeat(16) },
    tags: [],
    description: null,
    embeddedMetadata: {},
    warnings: [],
    ...over,
  };
}

describe('mergeLegacyInto', () => {
  it('keeps the 4.0 values, adds what is missing, and records the legacy values that lost', () => {
    const legacy = legacyV1(HASH, 10, 'a.png');
    const migrated = migrateSidecar(legacy, { contentHash: HASH, now: NOW }).sidecar;
    const current = fresh();
    current.analysis.understanding.tags = { style: ['noir'] };
    current.analysis.understanding.description = 'mine';
    const merged = mergeLegacyInto(current, migrated, legacy);
    expect(checkSidecar(merged, HASH).ok).toBe(true);
    expect(merged.analysis.understanding.description).toBe('mine');
    expect(merged.analysis.understanding.tags['style']).toEqual(['noir', 'cyberpunk', 'neon noir']);
    expect(merged.analysis['quality_stars']).toBe(4);
    expect(merged.generation?.prompt).toBe('a black cat in neon rain, cyberpunk city');
    expectEveryFieldKept(legacy, merged);
  });
});

describe('enrichFromAnalysis', () => {
  const legacy = legacyV1(HASH, 10, 'a.png');
  const migrated = migrateSidecar(legacy, { contentHash: HASH, now: NOW }).sidecar;

  it('fills media and hashes, and lets the file’s own generation metadata replace a guessed one', () => {
    const gen = { source: 'automatic1111', prompt: 'a duck', detected_from: 'png:parameters' };
    const out = enrichFromAnalysis(migrated, analysis({ generation: gen }), {
      mime: 'image/png',
      format: 'png',
    });
    expect(out.media).toEqual({ mime: 'image/png', format: 'png', width: 8, height: 8 });
    expect(out.perceptual?.phash).toBe('0'.repeat(16));
    expect(out.generation).toEqual(gen);
    expect(out.analysis.understanding['positive_prompt']).toBe('a black cat in neon rain, cyberpunk city');
    expectEveryFieldKept(legacy, out);
  });

  it('never lets a file-name guess replace what the legacy sidecar recorded', () => {
    const guess = { source: 'automatic1111', detected_from: 'filename' };
    const out = enrichFromAnalysis(migrated, analysis({ generation: guess }), {
      mime: 'image/png',
      format: 'png',
    });
    expect(out.generation).toEqual(migrated.generation);
  });

  it('adds file tags the sidecar lacks with their source, and keeps the user description', () => {
    const out = enrichFromAnalysis(
      migrated,
      analysis({
        tags: [
          { category: 'style', value: 'CYBERPUNK', source: 'vocabulary' },
          { category: 'subject', value: 'duck', source: 'vocabulary' },
        ],
        description: 'from the file',
        warnings: ['png text: bad CRC'],
      }),
      { mime: 'image/png', format: 'png' },
    );
    expect(out.analysis.understanding.tags['style']).toEqual(['cyberpunk', 'neon noir']);
    expect(out.analysis.understanding.tags['subject']).toEqual(['cat', 'duck']);
    expect(out.analysis.understanding.tag_sources?.['subject:duck']).toBe('vocabulary');
    expect(out.analysis.understanding.description).toBe('A black cat under neon rain');
    expect(out.warnings).toEqual(['png text: bad CRC']);
  });
});

describe('applyRecord', () => {
  const record = importRecord({
    path: 'a.png',
    tags: 'style:noir; mood:calm',
    description: 'from the database',
    prompt: 'a duck on a lake',
    negative_prompt: 'blurry',
  });

  it('adds tags (source import), fills description and prompts, and is a no-op the second time', () => {
    const once = applyRecord(fresh(), record, LATER);
    expect(once.changes).toEqual(['tags +2', 'description', 'generation']);
    const u = once.sidecar.analysis.understanding;
    expect(u.tags).toEqual({ style: ['noir'], mood: ['calm'] });
    expect(u.tag_sources).toEqual({ 'style:noir': 'import', 'mood:calm': 'import' });
    expect(u.description).toBe('from the database');
    expect(once.sidecar.generation).toEqual({
      source: 'unknown',
      detected_from: 'import',
      prompt: 'a duck on a lake',
      negative_prompt: 'blurry',
    });
    expect(once.sidecar.updated_at).toBe(LATER);
    expect(checkSidecar(once.sidecar, HASH).ok).toBe(true);
    const twice = applyRecord(once.sidecar, record, '2030-01-01T00:00:00.000Z');
    expect(twice.changes).toEqual([]);
    expect(twice.sidecar).toEqual(once.sidecar);
  });

  it('never overwrites a description, a prompt or a tag the sidecar already has', () => {
    const s = fresh();
    s.analysis.understanding.tags = { style: ['Noir'] };
    s.analysis.understanding.tag_sources = { 'style:noir': 'user' };
    s.analysis.understanding.description = 'mine';
    s.generation = { source: 'comfyui', prompt: 'a goose', detected_from: 'png:prompt' };
    const r = applyRecord(s, record, LATER);
    expect(r.changes).toEqual(['tags +1', 'generation.prompt']);
    expect(r.sidecar.analysis.understanding.tags).toEqual({ style: ['Noir'], mood: ['calm'] });
    expect(r.sidecar.analysis.understanding.tag_sources?.['style:noir']).toBe('user');
    expect(r.sidecar.analysis.understanding.description).toBe('mine');
    expect(r.sidecar.generation).toMatchObject({ prompt: 'a goose', negative_prompt: 'blurry' });
  });
});
