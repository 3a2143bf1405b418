import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadVocabulary } from '../../src/app/compose.js';
import { loadConfig } from '../../src/config/config.js';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_VOCABULARY } from '../../src/domain/default-vocabulary.js';
import { isAliceError } from '../../src/domain/errors.js';
import {
  mergeVocabularies,
  parseVocabulary,
  tagsFromPrompt,
  tagsFromPromptByEveryMatcher,
  type Vocabulary,
} from '../../src/domain/vocabulary.js';
import { formatTag } from '../../src/domain/tags.js';
import { makeWorkspace } from '../helpers/fixtures.js';

const tags = (prompt: string, vocab: Vocabulary = DEFAULT_VOCABULARY): string[] =>
  tagsFromPrompt(prompt, vocab).map(formatTag);

describe('tagsFromPrompt', () => {
  it('tries only the matchers a prompt can meet, with the answer of trying every one', () => {
    const vocab = mergeVocabularies(
      DEFAULT_VOCABULARY,
      parseVocabulary({
        odd: {
          'r&b': null,
          '#hashtag': null,
          ':)': null,
          'ab.cd': null,
          straße: ['σοφία'],
          kelvin: ['Kitten'],
          sun: null,
          σigma: null,
        },
      }),
    );
    const words = [
      ...Object.values(vocab).flatMap((w) => Object.entries(w).flatMap(([c, s]) => [c, ...s])),
      'R&B',
      '#HashTag',
      ':)',
      'AB.CD',
      'STRAẞE',
      'ΣΟΦΊΑ',
      'σοφίας',
      '\u212Aitten',
      'ſun',
      'ςigma',
      'x',
      '12',
    ];
    const seps = [' ', ', ', '_', '-', '(', ')', ':1.2', '', '.', '  '];
    let state = 7;
    const next = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const parts: string[] = [];
      for (let k = 0, n = 1 + next(12); k < n; k++) {
        let w = words[next(words.length)] as string;
        if (next(3) === 0) w = w.toUpperCase();
        parts.push(w, seps[next(seps.length)] as string);
      }
      const prompt = parts.join('');
      const want = tagsFromPromptByEveryMatcher(prompt, vocab);
      expect(tagsFromPrompt(prompt, vocab), prompt).toEqual(want);
      checked += want.length;
    }
    expect(checked).toBeGreaterThan(400); // the prompts did hit the vocabulary
  });

  it('tags a typical prompt with the default vocabulary', () => {
    expect(
      tags(
        'masterpiece, (Cyberpunk:1.2) city at night, neon lights, close-up portrait of a cat, oil painting',
      ),
    ).toEqual([
      'style:cyberpunk',
      'style:oil painting',
      'subject:portrait',
      'subject:cat',
      'subject:city',
      'lighting:neon lights',
      'lighting:night',
      'shot:close-up',
    ]);
  });

  it('matches whole words only', () => {
    expect(tags('a category of concatenated scattered dogma')).toEqual([]);
    expect(tags('catalogue')).toEqual([]);
  });

  it('matches phrases across spaces, underscores and hyphens, case-insensitively', () => {
    expect(tags('OIL_PAINTING of a landscape')).toEqual(['style:oil painting', 'subject:landscape']);
    expect(tags('Pixel-Art  hero')).toEqual(['style:pixel art']);
    expect(tags('oil\n painting')).toEqual(['style:oil painting']);
  });

  it('maps synonyms to the canonical word, once', () => {
    expect(tags('kitten, kittens and a feline')).toEqual(['subject:cat']);
    expect(tags('black and white photo, b&w')).toEqual(['color:monochrome']);
  });

  it('is Unicode-aware', () => {
    const vocab = parseVocabulary({ subject: { Katze: ['Kätzchen'], 猫: ['ねこ'] }, mood: { ruhig: [] } });
    expect(tags('ein KÄTZCHEN im Garten, 猫, ruhig', vocab)).toEqual([
      'subject:Katze',
      'subject:猫',
      'mood:ruhig',
    ]);
    // ä is a letter: "Kätzchenhaus" is one word, so no boundary after "Kätzchen".
    expect(tags('Kätzchenhaus', vocab)).toEqual([]);
    // Regex characters in words are literal.
    expect(tags('c++ code', parseVocabulary({ topic: ['c++'] }))).toEqual(['topic:c++']);
  });

  it('returns nothing for empty prompts', () => {
    expect(tags('')).toEqual([]);
    expect(tags('   ')).toEqual([]);
  });
});

describe('parseVocabulary', () => {
  it('reads the YAML shapes a user writes', () => {
    const yaml = `
Style:
  vaporwave: [synthwave, retrowave]
  solarpunk:
  ukiyo-e: woodblock print
subject:
  - axolotl
  - capybara
`;
    const vocab = parseVocabulary(parseYaml(yaml));
    expect(vocab).toEqual({
      style: { vaporwave: ['synthwave', 'retrowave'], solarpunk: [], 'ukiyo-e': ['woodblock print'] },
      subject: { axolotl: [], capybara: [] },
    });
    expect(tags('a capybara in synthwave colors, woodblock print', vocab)).toEqual([
      'style:vaporwave',
      'style:ukiyo-e',
      'subject:capybara',
    ]);
  });

  it('reports every problem at once', () => {
    try {
      parseVocabulary({ 'bad category!': { a: [] }, style: { ok: [1, 2] }, mood: 'nope' });
      expect.unreachable();
    } catch (err) {
      expect(isAliceError(err)).toBe(true);
      if (!isAliceError(err)) return;
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.details.length).toBeGreaterThanOrEqual(3);
    }
    expect(() => parseVocabulary(null)).toThrow(/vocabulary file is invalid/);
  });

  it('merges a user vocabulary over the default', () => {
    const merged = mergeVocabularies(
      DEFAULT_VOCABULARY,
      parseVocabulary({ subject: { cat: ['moggy'], axolotl: [] } }),
    );
    expect(tags('a moggy and an axolotl', merged)).toEqual(['subject:cat', 'subject:axolotl']);
    expect(tags('kitten', merged)).toEqual(['subject:cat']);
  });

  it('the default vocabulary is itself valid', () => {
    expect(parseVocabulary(DEFAULT_VOCABULARY)).toEqual(DEFAULT_VOCABULARY);
    for (const category of ['style', 'subject', 'mood', 'lighting', 'color', 'shot']) {
      expect(Object.keys(DEFAULT_VOCABULARY[category] ?? {}).length).toBeGreaterThan(5);
    }
  });
});

describe('loadVocabulary (tagging.vocabulary in settings)', () => {
  it('merges a user file, and reports a YAML syntax error with its line as CONFIG_INVALID', () => {
    const ws = makeWorkspace({ settings: { tagging: { vocabulary: 'vocab.yaml' } } });
    try {
      fs.writeFileSync(path.join(ws.dir, 'vocab.yaml'), 'subject:\n  axolotl: [salamander]\n');
      const config = loadConfig({ env: { ...ws.env }, cwd: ws.dir });
      expect(tags('a salamander', loadVocabulary(config))).toEqual(['subject:axolotl']);
      fs.writeFileSync(path.join(ws.dir, 'vocab.yaml'), 'subject:\n  axolotl: [salamander\n  cat: x\n');
      let caught: unknown;
      try {
        loadVocabulary(config);
      } catch (err) {
        caught = err;
      }
      expect(isAliceError(caught) && caught.code).toBe('CONFIG_INVALID');
      expect(String((caught as Error).message)).toMatch(/vocab\.yaml is not valid YAML \(line \d+/);
    } finally {
      ws.cleanup();
    }
  });
});
