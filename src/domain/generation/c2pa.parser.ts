/**
 * C2PA manifests, as exiftool names their fields: `ClaimGenerator` (C2PA 1.x claim_generator, e.g.
 * "Adobe_Firefly/1.0 adobe_c2pa/0.7.6 c2pa-rs/0.25.2"), `ClaimGeneratorInfoName` /
 * `ClaimGeneratorInfoVersion` (2.x claim_generator_info), `ActionsSoftwareAgentName` /
 * `ActionsSoftwareAgent` (the tool per action, e.g. "GPT-4o"), `ActionsDigitalSourceType` (an IPTC
 * digital source type URI; `trainedAlgorithmicMedia` means AI-made). Signed camera or editor
 * manifests without an AI source type give nothing. Pure.
 */
import type { Generation } from './model.js';
import { finish } from './common.js';

/** exiftool tag names read from C2PA/JUMBF metadata, in the order they are trusted. */
export const C2PA_KEYS = [
  'ClaimGeneratorInfoName',
  'ClaimGenerator',
  'ActionsSoftwareAgentName',
  'ActionsSoftwareAgent',
  'ClaimGeneratorInfoVersion',
  'ActionsDigitalSourceType',
  'DigitalSourceType',
] as const;

export type C2paFields = Partial<Record<(typeof C2PA_KEYS)[number], string>>;

/** Generator patterns → source, most specific first (Sora before the OpenAI catch-all). */
const SIGNERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bsora\b/i, 'sora'],
  [/dall[\s·.\-_]*e/i, 'dall-e'],
  [/openai|chatgpt|gpt[-\s_]?4o|gpt[-\s_]?image/i, 'dall-e'],
  [/firefly/i, 'firefly'],
  [/bing|microsoft[\s_]*(designer|responsible)|designer/i, 'bing'],
  [/imagen|gemini|google/i, 'imagen'],
  [/midjourney/i, 'midjourney'],
  [/stability|stable[\s_]?(diffusion|assistant)/i, 'stability'],
  [/meta[\s_]?ai|imagine[\s_]with[\s_]meta/i, 'meta-ai'],
  [/leonardo/i, 'leonardo'],
  [/ideogram/i, 'ideogram'],
  [/runway/i, 'runway'],
  [/kling/i, 'kling'],
];

const AI_SOURCE = /trainedAlgorithmicMedia/i;

/** `Adobe_Firefly/1.0 adobe_c2pa/0.7.6` → `1.0` (the first product token's version). */
function claimVersion(claimGenerator: string | undefined): string | undefined {
  const m = claimGenerator === undefined ? null : /^[^\s/]+\/(\S+)/.exec(claimGenerator.trim());
  return m?.[1];
}

export function hasC2pa(fields: C2paFields): boolean {
  return C2PA_KEYS.some((k) => fields[k] !== undefined);
}

export function parseC2pa(fields: C2paFields, warnings: string[]): Generation | null {
  const generators = [
    fields.ClaimGeneratorInfoName,
    fields.ClaimGenerator,
    fields.ActionsSoftwareAgentName,
    fields.ActionsSoftwareAgent,
  ];
  const joined = generators.filter((g) => g !== undefined).join(' | ');
  const aiMade = AI_SOURCE.test(`${fields.ActionsDigitalSourceType ?? ''} ${fields.DigitalSourceType ?? ''}`);
  let source = SIGNERS.find(([re]) => re.test(joined))?.[1];
  // Adobe tools sign many non-AI edits; they count only with an AI digital source type.
  if (source === undefined && aiMade) source = /adobe/i.test(joined) ? 'firefly' : 'c2pa';
  if (source === undefined) return null;
  const from = C2PA_KEYS.find((k) => fields[k] !== undefined) ?? 'ClaimGenerator';
  return finish(
    {
      source,
      source_version: fields.ClaimGeneratorInfoVersion ?? claimVersion(fields.ClaimGenerator),
      model: fields.ActionsSoftwareAgentName ?? fields.ActionsSoftwareAgent,
      detected_from: `c2pa:${from}`,
    },
    JSON.stringify(fields),
    warnings,
  );
}
