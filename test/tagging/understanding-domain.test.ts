/** The pure rules of understanding: answer validation, cost, the per-request bound, the merge. */
import { describe, expect, it } from 'vitest';
import { readReply, retryAfterMs } from '../../src/adapters/vision-http.adapter.js';
import {
  costOf,
  isUnderstoodBy,
  mergeUnderstanding,
  parseAnswer,
  requestCostBound,
} from '../../src/domain/understanding.js';

const CATS = ['style', 'mood', 'subject'];

describe('parseAnswer', () => {
  it('takes JSON from code fences or surrounded by prose, keeping only configured categories', () => {
    const json =
      '{"tags": {"Mood": ["Serene", "serene", " calm  "], "other": ["x"], "style": "ink, wash"}, "description": " A pond. "}';
    for (const text of [json, `\`\`\`json\n${json}\n\`\`\``, `Here it is: ${json} — enjoy {not json}`]) {
      const r = parseAnswer(text, CATS);
      expect(r).toEqual({
        ok: true,
        answer: { tags: { mood: ['serene', 'calm'], style: ['ink', 'wash'] }, description: 'A pond.' },
      });
    }
  });

  it('rejects prose, the wrong shape, and answers with no tag in a configured category', () => {
    expect(parseAnswer('a nice picture', CATS)).toEqual({
      ok: false,
      reason: 'the answer holds no JSON object',
    });
    const wrong = parseAnswer('{"labels": ["a"]}', CATS);
    expect(wrong.ok).toBe(false);
    expect(wrong.ok ? '' : wrong.reason).toMatch(/wrong JSON shape/);
    expect(parseAnswer('{"tags": {"other": ["a"]}, "description": "d"}', CATS)).toMatchObject({ ok: false });
  });
});

describe('cost and budget bound', () => {
  it('cost is usage × price per million tokens; the bound covers the image, prompt and every output token', () => {
    expect(costOf({ input_tokens: 1000, output_tokens: 200 }, { input: 2.5, output: 10 })).toBeCloseTo(
      0.0045,
      12,
    );
    const bound = requestCostBound({ input: 2.5, output: 10 }, CATS);
    expect(bound).toBeGreaterThan(
      costOf({ input_tokens: 1600, output_tokens: 600 }, { input: 2.5, output: 10 }),
    );
    expect(requestCostBound({ input: 0, output: 0 }, CATS)).toBe(0);
    expect(requestCostBound({ input: 1, output: 1 }, CATS, 3)).toBeGreaterThan(
      requestCostBound({ input: 1, output: 1 }, CATS),
    );
  });
});

describe('mergeUnderstanding', () => {
  const meta = { provider: 'openai' as const, model: 'm1', at: '2026-01-01T00:00:00.000Z', cost: 0.01 };

  it("keeps the user's tags and their source, records ai:<model> for new ones, replaces the model's old ones", () => {
    const u = {
      tags: { subject: ['cat'], mood: ['gloomy'] },
      tag_sources: { 'subject:cat': 'user', 'mood:gloomy': 'ai:m0' },
      description: 'my cat',
    };
    const m = mergeUnderstanding(
      u,
      { tags: { subject: ['cat', 'sofa'], mood: ['cosy'] }, description: 'A cat.' },
      meta,
    );
    expect(m.understanding.tags).toEqual({ subject: ['cat', 'sofa'], mood: ['cosy'] });
    expect(m.understanding.tag_sources).toEqual({
      'subject:cat': 'user',
      'subject:sofa': 'ai:m1',
      'mood:cosy': 'ai:m1',
    });
    expect(m.understanding.description).toBe('my cat');
    expect(m.understanding['ai_description']).toBe('A cat.');
    expect(m.added.sort()).toEqual(['mood:cosy', 'subject:sofa']);
    expect(m.removed).toEqual(['mood:gloomy']);
    expect(isUnderstoodBy(m.understanding, 'openai', 'm1')).toBe(true);
    expect(isUnderstoodBy(m.understanding, 'openai', 'm2')).toBe(false);
  });
});

describe('protocol replies', () => {
  it('reads text and usage from both protocols, and Retry-After as seconds or a date', () => {
    expect(
      readReply('openai', {
        choices: [{ message: { content: 'hi' } }],
        usage: { prompt_tokens: 5, completion_tokens: 2 },
      }),
    ).toEqual({ text: 'hi', usage: { input_tokens: 5, output_tokens: 2 } });
    expect(
      readReply('anthropic', {
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
        usage: { input_tokens: 7, output_tokens: 1 },
      }),
    ).toEqual({ text: 'ab', usage: { input_tokens: 7, output_tokens: 1 } });
    expect(readReply('openai', { error: 'x' })).toBeUndefined();
    expect(retryAfterMs('1')).toBe(1000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
