/**
 * What `alice tag add|remove|set` and `alice describe` do to a sidecar, and how the outcome of
 * embedding into an asset's files is recorded in it. Pure: no I/O. See docs/embedded-metadata.md.
 */
import type { EmbedIntent, EmbedResult } from './embed-plan.js';
import type { EmbedState, Sidecar, TagSource, Understanding } from './sidecar.js';
import { flattenTags, formatTag, groupTags, hasTag, tagKey, type Tag } from './tags.js';

/** The three ways `alice tag` changes an asset's tags. */
export const TagMode = { ADD: 'add', REMOVE: 'remove', SET: 'set' } as const;
export type TagMode = (typeof TagMode)[keyof typeof TagMode];

/** Source recorded for tags given on the command line (or by an MCP/agent client). */
export const USER_SOURCE: TagSource = 'user';

export interface TagChange {
  readonly understanding: Understanding;
  /** `category:value` of tags the asset did not have before. */
  readonly added: string[];
  /** `category:value` of tags the asset no longer has. */
  readonly removed: string[];
}

function sourcesOf(u: Understanding): Record<string, TagSource> {
  return { ...(u.tag_sources ?? {}) };
}

/**
 * Applies one tag command. `add` adds the tags not yet present (case-insensitive) and marks every
 * given tag as the user's, so a tag first read from a file becomes the user's when they name it;
 * `remove` drops the given tags whatever their source; `set` replaces **all** tags of the asset
 * (from every source) with the given ones, all the user's.
 */
export function changeTags(u: Understanding, mode: TagMode, tags: readonly Tag[]): TagChange {
  const before = flattenTags(u.tags);
  const sources = sourcesOf(u);
  let next: Record<string, string[]>;
  if (mode === TagMode.REMOVE) {
    const drop = new Set(tags.map(tagKey));
    next = groupTags(before.filter((t) => !drop.has(tagKey(t))));
    for (const key of drop) delete sources[key];
  } else {
    const base = mode === TagMode.SET ? [] : before;
    next = groupTags([...base, ...tags]);
    if (mode === TagMode.SET) for (const key of Object.keys(sources)) delete sources[key];
    for (const t of tags) sources[tagKey(t)] = USER_SOURCE;
  }
  const after = flattenTags(next);
  return {
    understanding: { ...u, tags: next, tag_sources: sources },
    added: after.filter((t) => !hasTag(u.tags, t)).map(formatTag),
    removed: before.filter((t) => !hasTag(next, t)).map(formatTag),
  };
}

/** The description as stored: trimmed text, or null for none (an empty text clears it). */
export function normaliseDescription(text: string | null): string | null {
  const t = text?.trim() ?? '';
  return t === '' ? null : t;
}

/**
 * What the asset's files should carry. A description the sidecar does not hold is left alone in
 * the file (`undefined`), so an asset alice indexed before it read embedded descriptions never
 * loses one; only an explicit clear (`alice describe <file> ""`) removes it (`clearDescription`).
 */
export function embedIntentOf(sidecar: Sidecar, clearDescription = false): EmbedIntent {
  const d = sidecar.analysis.understanding.description;
  const description = typeof d === 'string' && d.trim() !== '' ? d : clearDescription ? null : undefined;
  return {
    tags: flattenTags(sidecar.analysis.understanding.tags),
    contentHash: sidecar.content_hash,
    ...(description === undefined ? {} : { description }),
  };
}

/** The outcome of embedding into one file of an asset. */
export interface FileOutcome {
  readonly path: string;
  readonly result: EmbedResult;
  /** The file's byte hash afterwards: `newHash` when written, the indexed byte hash when current. */
  readonly byteHash?: string;
}

/**
 * One embedding state for the asset from the outcomes of all its files: any failure wins (every
 * failing path named), then `written`, then `current`, then `sidecar_only`. Undefined when no
 * file was tried.
 */
export function embedStateOf(outcomes: readonly FileOutcome[], at: string): EmbedState | undefined {
  const failed = outcomes.filter((o) => o.result.status === 'failed');
  const warnings = outcomes.flatMap((o) =>
    o.result.status === 'written' || o.result.status === 'failed' ? o.result.warnings : [],
  );
  const extra = warnings.length > 0 ? { warnings: [...new Set(warnings)] } : {};
  if (failed.length > 0) {
    const reason = failed.map((o) => `${o.path}: ${'reason' in o.result ? o.result.reason : ''}`).join('; ');
    return { state: 'failed', at, reason, ...extra };
  }
  for (const state of ['written', 'current'] as const) {
    const hit = outcomes.filter((o) => o.result.status === state && o.byteHash !== undefined).pop();
    if (hit?.byteHash !== undefined) return { state, at, hash: hit.byteHash, ...extra };
  }
  const only = outcomes.find((o) => o.result.status === 'sidecar_only');
  if (only !== undefined && only.result.status === 'sidecar_only')
    return { state: 'sidecar_only', at, reason: only.result.reason };
  return undefined;
}

/**
 * True when `next` tells nothing new: the same state, reason, hash and warnings, or a file found
 * current with the hash alice last recorded (so `alice embed` twice leaves sidecars untouched too).
 */
export function sameEmbedding(prev: EmbedState | undefined, next: EmbedState): boolean {
  if (prev === undefined) return false;
  if (next.state === 'current' && (prev.state === 'written' || prev.state === 'current'))
    return prev.hash === next.hash;
  return (
    prev.state === next.state &&
    prev.reason === next.reason &&
    prev.hash === next.hash &&
    JSON.stringify(prev.warnings ?? []) === JSON.stringify(next.warnings ?? [])
  );
}

/**
 * Records embedding into a sidecar: every new byte hash becomes an alias of the asset (so a scan,
 * or a rebuild from sidecars, still finds it) and the state replaces the old one unless it says
 * nothing new. Returns the same object when nothing changed.
 */
export function withEmbedding(
  sidecar: Sidecar,
  state: EmbedState | undefined,
  newHashes: readonly string[],
): Sidecar {
  const have = sidecar.aliases ?? [];
  const fresh = [...new Set(newHashes)].filter((h) => h !== sidecar.content_hash && !have.includes(h));
  const stateChanged = state !== undefined && !sameEmbedding(sidecar.embedding, state);
  if (fresh.length === 0 && !stateChanged) return sidecar;
  return {
    ...sidecar,
    aliases: [...have, ...fresh],
    ...(stateChanged ? { embedding: state } : {}),
  };
}
