import fs from 'node:fs';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { settingsSchema } from '../../src/config/schema.js';

describe('settings.example.yaml', () => {
  const example = YAML.parse(fs.readFileSync('settings.example.yaml', 'utf8')) as unknown;

  it('documents every key with exactly its default', () => {
    expect(example).toEqual(JSON.parse(JSON.stringify(DEFAULT_SETTINGS)));
  });

  it('is itself a valid settings file', () => {
    expect(settingsSchema.safeParse(example).success).toBe(true);
  });

  it('has every section', () => {
    const text = fs.readFileSync('settings.example.yaml', 'utf8');
    for (const section of Object.keys(DEFAULT_SETTINGS))
      expect(text).toMatch(new RegExp(`^${section}:`, 'm'));
  });
});
