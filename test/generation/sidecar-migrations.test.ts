import { describe, expect, it } from 'vitest';
import { isAliceError } from '../../src/domain/errors.js';
import { checkSidecar, newSidecar } from '../../src/domain/sidecar.js';
import { MIGRATION_KEY, migrateSidecar } from '../../src/domain/sidecar-migrations.js';
import { expectEveryFieldKept, valueAt } from '../migrate/helpers.js';

const HASH = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const NOW = '2025-01-02T03:04:05.000Z';

const V1 = {
  version: '1.0',
  file_hash: '5f1c2e3d4b5a6978',
  content_hash: HASH,
  original_path: 'inbox/2024-01-01/midjourney/cat_00012.png',
  file_name: 'cat_00012.png',
  file_size: 123456,
  last_modified: 1704067200.123,
  analysis: {
    source_type: 'midjourney',
    date_taken: '2024-01-01',
    project_folder: 'inbox',
    media_type: 'MediaType.IMAGE',
    file_number: 12,
    quality_stars: 4,
    brisque_score: 23.5,
    pipeline_result: 'passed',
  },
  analysis_time: 0.52,
  cached_at: '2024-01-01T10:00:00.123456',
};

const V3 = {
  version: '3.0',
  file_hash: '0a1b2c3d4e5f6071',
  content_hash: HASH,
  original_path: '/Users/me/inbox/sd/00012-1234.png',
  file_name: '00012-1234.png',
  file_size: 2048,
  last_modified: 1714067200.5,
  analysis: {
    source_type: 'stablediffusion',
    date_taken: '2024-04-25',
    project_folder: 'portraits',
    media_type: 'image',
    file_number: null,
    quality_stars: 5,
    brisque_score: null,
    pipeline_result: null,
    version: '4.0',
    understanding: {
      description: 'A neon-lit portrait of a woman in the rain',
      tags: { style: ['cyberpunk', 'photorealistic'], mood: ['moody'], subject: ['woman', 'rain'] },
      positive_prompt: 'portrait of a woman, neon rain, cyberpunk',
      negative_prompt: 'blurry, deformed',
      technical_details: { lighting: 'neon', composition: 'rule of thirds' },
      provider: 'anthropic',
      model: 'claude-3-haiku-20240307',
      cost: 0.00042,
      timestamp: '2024-04-25T12:00:00',
    },
    enhanced_metadata: { project_id: 'default', tags: { style: ['cyberpunk'] } },
  },
  analysis_time: 1.7,
  cached_at: '2024-04-25T12:00:01',
};

describe('migrateSidecar', () => {
  it('upgrades a 1.0 sidecar and keeps every field', () => {
    const { sidecar, changes } = migrateSidecar(V1, { contentHash: HASH, now: NOW });
    expect(checkSidecar(sidecar, HASH).ok).toBe(true);
    expect(sidecar).toMatchObject({
      version: '4.0',
      content_hash: HASH,
      file_name: 'cat_00012.png',
      file_size: 123456,
      first_seen: '2024-01-01T10:00:00.123456',
      updated_at: NOW,
      last_paths: ['inbox/2024-01-01/midjourney/cat_00012.png'],
      aliases: [],
      derived_from: null,
      perceptual: null,
      generation: { source: 'midjourney', detected_from: 'migrate:alicemultiverse' },
      analysis: { media_type: 'image', understanding: { tags: {}, tag_sources: {} } },
      [MIGRATION_KEY]: {
        version: '1.0',
        at: NOW,
        values: { version: '1.0', 'analysis.media_type': 'MediaType.IMAGE' },
      },
    });
    expect(changes.join('\n')).toMatch(/version "1.0" → "4.0"/);
    expectEveryFieldKept(V1, sidecar);
  });

  it('upgrades a 3.0 sidecar with understanding, copying prompts into generation', () => {
    const { sidecar, changes } = migrateSidecar(V3, { contentHash: HASH, now: NOW });
    expect(checkSidecar(sidecar, HASH).ok).toBe(true);
    expect(sidecar.generation).toEqual({
      source: 'stablediffusion',
      prompt: 'portrait of a woman, neon rain, cyberpunk',
      negative_prompt: 'blurry, deformed',
      detected_from: 'migrate:alicemultiverse',
    });
    const u = sidecar.analysis.understanding;
    expect(u.tags).toEqual(V3.analysis.understanding.tags);
    expect(u.tag_sources).toEqual({
      'style:cyberpunk': 'migrate',
      'style:photorealistic': 'migrate',
      'mood:moody': 'migrate',
      'subject:woman': 'migrate',
      'subject:rain': 'migrate',
    });
    // The absolute original path is not a root-relative path, so it is kept but not a last path.
    expect(sidecar.last_paths).toEqual([]);
    expect(changes.join('\n')).toMatch(/claude-3-haiku-20240307.*not copied/);
    expectEveryFieldKept(V3, sidecar);
  });

  it('converts flat tag lists, odd media types and invalid values, recording the originals', () => {
    const legacy = {
      version: '3.0',
      content_hash: OTHER,
      file_name: 'loop.gif',
      file_size: 'big',
      updated_at: 'yesterday',
      analysis: {
        media_type: 'MediaType.GIF',
        understanding: {
          tags: ['cyberpunk', 'style:neon', 'mood:dark', 7],
          cost: 'free',
          description: { text: 'x' },
        },
      },
      aliases: ['not-a-hash'],
      perceptual: { phash: 1 },
      generation: 'dall-e',
      [MIGRATION_KEY]: { version: '0.9' },
    };
    const { sidecar } = migrateSidecar(legacy, { contentHash: HASH, now: NOW });
    expect(checkSidecar(sidecar, HASH).ok).toBe(true);
    expect(sidecar.content_hash).toBe(HASH);
    expect(sidecar.file_size).toBe(0);
    expect(sidecar.analysis.media_type).toBe('image');
    expect(sidecar.analysis.understanding.tags).toEqual({
      keywords: ['cyberpunk'],
      style: ['neon'],
      mood: ['dark'],
    });
    expect(sidecar.analysis.understanding.cost).toBeUndefined();
    expect(sidecar.aliases).toEqual([]);
    expect(sidecar.perceptual).toBeNull();
    expect(sidecar.generation).toBeNull();
    expect(valueAt(sidecar, [MIGRATION_KEY, 'values'])).toMatchObject({
      content_hash: OTHER,
      file_size: 'big',
      updated_at: 'yesterday',
      'analysis.media_type': 'MediaType.GIF',
      'analysis.understanding.tags': ['cyberpunk', 'style:neon', 'mood:dark', 7],
      'analysis.understanding.cost': 'free',
      'analysis.understanding.description': { text: 'x' },
      aliases: ['not-a-hash'],
      perceptual: { phash: 1 },
      generation: 'dall-e',
      [MIGRATION_KEY]: { version: '0.9' },
    });
    expectEveryFieldKept(legacy, sidecar);
  });

  it('takes the generator from provider when source_type is missing', () => {
    const legacy = {
      version: '3.0',
      file_name: 'x.mp4',
      file_size: 1,
      analysis: {
        media_type: 'video',
        understanding: { tags: {}, provider: 'Leonardo', model: 'phoenix', positive_prompt: 'a storm' },
      },
    };
    const { sidecar } = migrateSidecar(legacy, { contentHash: HASH, now: NOW });
    expect(sidecar.generation).toMatchObject({ source: 'leonardo', model: 'phoenix', prompt: 'a storm' });
    expect(sidecar.analysis.media_type).toBe('video');
    expectEveryFieldKept(legacy, sidecar);
  });

  it('falls back to the extension for unknown media types and migrates AliceMultiverse "4.0" files', () => {
    const legacy = {
      version: '4.0',
      content_hash: HASH,
      file_name: 'clip.mov',
      file_size: 5,
      analysis: { media_type: 'unknown' },
    };
    const { sidecar, changes } = migrateSidecar(legacy, { contentHash: HASH, now: NOW });
    expect(sidecar.analysis.media_type).toBe('video');
    expect(changes.length).toBeGreaterThan(0);
    expectEveryFieldKept(legacy, sidecar);
  });

  it('returns a valid 4.0 sidecar unchanged, and migration is idempotent', () => {
    const current = newSidecar({
      contentHash: HASH,
      fileName: 'a.png',
      fileSize: 3,
      mediaType: 'image',
      now: NOW,
    });
    expect(migrateSidecar(current, { contentHash: HASH, now: NOW })).toEqual({
      sidecar: current,
      changes: [],
    });
    const once = migrateSidecar(V3, { contentHash: HASH, now: NOW }).sidecar;
    expect(migrateSidecar(once, { contentHash: HASH, now: '2030-01-01T00:00:00Z' })).toEqual({
      sidecar: once,
      changes: [],
    });
  });

  it('does not modify its input', () => {
    const before = JSON.stringify(V3);
    migrateSidecar(V3, { contentHash: HASH, now: NOW });
    expect(JSON.stringify(V3)).toBe(before);
  });

  it('refuses non-objects and bad hashes with AliceError', () => {
    for (const bad of [null, 'x', [1], 3]) {
      let caught: unknown;
      try {
        migrateSidecar(bad, { contentHash: HASH, now: NOW });
      } catch (err) {
        caught = err;
      }
      expect(isAliceError(caught) && caught.code === 'INVALID_INPUT').toBe(true);
    }
    expect(() => migrateSidecar(V1, { contentHash: 'nope', now: NOW })).toThrow(/SHA-256/);
  });
});
