/**
 * Weak evidence from default file names, used only when nothing is embedded:
 * - `ComfyUI_00001_.png` → comfyui;
 * - `DALL·E 2024-03-15 10.22.33 - a prompt.png` → dall-e, with the (possibly shortened) prompt;
 * - `00012-1234567.png` (A1111's index-seed naming) → automatic1111, source only.
 * Numbers are never turned into a prompt or a seed. Pure.
 */
import type { Generation } from './model.js';
import { finish } from './common.js';

function baseName(fileName: string): string {
  const name = fileName.normalize('NFC');
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
}

function stem(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

const DALLE = /^DALL[\s·.\-_]?E(?:\s*\d)?\s+\d{4}-\d{2}-\d{2}\s+\d{2}[.:]\d{2}[.:]\d{2}\s+-\s+(.+)$/iu;

export function parseFileName(fileName: string, warnings: string[]): Generation | null {
  const name = baseName(fileName);
  const bare = stem(name);
  const dalle = DALLE.exec(bare);
  if (dalle !== null) {
    return finish({ source: 'dall-e', prompt: dalle[1], detected_from: 'filename' }, name, warnings);
  }
  if (/^ComfyUI(?:_temp_[a-z]+)?_\d{5}_?(?:\s*\(\d+\))?$/i.test(bare)) {
    return finish({ source: 'comfyui', detected_from: 'filename' }, name, warnings);
  }
  if (/^\d{5}-\d{1,20}(?:-\d)?$/.test(bare)) {
    return finish({ source: 'automatic1111', detected_from: 'filename' }, name, warnings);
  }
  return null;
}
