/**
 * `alice tag add|remove|set`, `alice describe` and `alice embed`: change what the user says about
 * assets in every sidecar and the index, then write it into the files. See
 * docs/embedded-metadata.md.
 */
import path from 'node:path';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import { sidecarFingerprint, type Sidecar } from '../../domain/sidecar.js';
import { changeTags, normaliseDescription, type TagMode } from '../../domain/tag-edit.js';
import { flattenTags, formatTag, parseTag, type Tag } from '../../domain/tags.js';
import type { AssetsService } from '../search/assets.service.js';
import type { EmbedReport, EmbedService, FileEmbed, RootSidecar } from './embed.service.js';
import { NO_PROGRESS, type Clock, type EventSink, type Progress } from '../../ports.js';

export interface TagDeps {
  assets: AssetsService;
  embed: EmbedService;
  events: EventSink;
  clock: Clock;
}

/** Who is asking: relative paths resolve against `cwd`; remote callers are confined to the roots. */
export interface Caller {
  readonly cwd: string;
  readonly remote: boolean;
}

export interface AssetChange {
  content_hash: string;
  /** The references (paths, hashes) that named this asset. */
  refs: string[];
  /** False when the sidecars already said this (the files are still checked). */
  changed: boolean;
  added: string[];
  removed: string[];
  /** The asset's tags afterwards, `category:value`. */
  tags: string[];
  description: string | null;
  /** What embedding did to each present file. */
  files: FileEmbed[];
}

export interface ChangeResult {
  /** Files whose embedding failed (the sidecar and index were still updated). */
  failed: number;
  assets: AssetChange[];
}

export interface Target {
  hash: string;
  refs: string[];
  sidecars: RootSidecar[];
}

/**
 * Parses `category:value` / bare values; an empty value is an error, and so is a category with
 * nothing after its colon (`style:` is a value left out, not the keyword "style:"). Everything
 * else is kept exactly.
 */
export function parseTags(raw: readonly string[]): Tag[] {
  return raw.map((input) => {
    const category = /^\s*([\p{L}\p{N}_-]{1,64})\s*:\s*$/u.exec(input)?.[1];
    if (category !== undefined)
      throw new AliceError(
        ErrorCode.INVALID_INPUT,
        `tag ${JSON.stringify(input)} has no value after its category`,
        {
          hint: `give category:value, e.g. ${category.toLowerCase()}:cyberpunk`,
        },
      );
    const tag = parseTag(input);
    if (tag.value.trim() === '')
      throw new AliceError(ErrorCode.INVALID_INPUT, `empty tag: ${JSON.stringify(input)}`, {
        hint: 'give tags as category:value or a bare value',
      });
    return tag;
  });
}

export class TagService {
  constructor(private readonly deps: TagDeps) {}

  /** Adds, removes or replaces the user's tags on every asset named by `refs`. */
  async changeTags(
    refs: readonly string[],
    mode: TagMode,
    rawTags: readonly string[],
    caller: Caller,
  ): Promise<ChangeResult> {
    const tags = parseTags(rawTags);
    if (tags.length === 0 && mode !== 'set')
      throw new AliceError(ErrorCode.INVALID_INPUT, `tag ${mode}: no tags given`, {
        hint: 'give --tag <tag>',
      });
    return this.update(refs, caller, ['tags'], false, (s) => {
      const c = changeTags(s.analysis.understanding, mode, tags);
      return {
        sidecar: { ...s, analysis: { ...s.analysis, understanding: c.understanding } },
        added: c.added,
        removed: c.removed,
      };
    });
  }

  /** Sets (or, with empty text, clears) the description of the asset named by `ref`. */
  async describe(ref: string, text: string, caller: Caller): Promise<ChangeResult> {
    const description = normaliseDescription(text);
    return this.update([ref], caller, ['description'], description === null, (s) => ({
      sidecar: {
        ...s,
        analysis: { ...s.analysis, understanding: { ...s.analysis.understanding, description } },
      },
      added: [],
      removed: [],
    }));
  }

  /** `alice embed`: the assets named by `refs`, or every asset with a present file when `all`. */
  async embed(
    refs: readonly string[],
    all: boolean,
    dryRun: boolean,
    caller: Caller,
    progress: Progress = NO_PROGRESS,
  ): Promise<EmbedReport> {
    if (all === refs.length > 0)
      throw new AliceError(
        ErrorCode.INVALID_INPUT,
        all
          ? 'alice embed: give files/hashes or --all, not both'
          : 'alice embed: which files? give files/hashes, or --all for every asset with a file present',
        { hint: 'e.g. `alice embed photo.png` or `alice embed --all --dry-run`' },
      );
    const hashes = all
      ? await this.deps.embed.presentAssets()
      : (await this.resolve(refs, caller)).map((t) => t.hash);
    return this.deps.embed.embedMany(hashes, dryRun, progress);
  }

  private async update(
    refs: readonly string[],
    caller: Caller,
    changes: string[],
    clearDescription: boolean,
    edit: (s: Sidecar) => { sidecar: Sidecar; added: string[]; removed: string[] },
  ): Promise<ChangeResult> {
    const targets = await this.resolve(refs, caller);
    const result: ChangeResult = { failed: 0, assets: [] };
    for (const t of targets) {
      const change = await this.apply(t, changes, edit);
      change.files = await this.deps.embed.embedAsset(t.sidecars, {
        dryRun: false,
        changes,
        clearDescription,
      });
      result.failed += change.files.filter((f) => f.status === 'failed').length;
      result.assets.push(change);
    }
    return result;
  }

  /** Edits every sidecar of one asset, writes the changed ones and the index, emits events. */
  private async apply(
    t: Target,
    changes: string[],
    edit: (s: Sidecar) => { sidecar: Sidecar; added: string[]; removed: string[] },
  ): Promise<AssetChange> {
    const now = this.deps.clock.now().toISOString();
    let added: string[] = [];
    let removed: string[] = [];
    let changed = false;
    for (const [i, s] of t.sidecars.entries()) {
      const e = edit(s.sidecar);
      if (i === 0) ({ added, removed } = e);
      if (sidecarFingerprint(e.sidecar) === sidecarFingerprint(s.sidecar)) continue;
      s.sidecar = { ...e.sidecar, updated_at: now };
      changed = true;
    }
    const first = (t.sidecars[0] as RootSidecar).sidecar;
    if (changed) {
      // Written before touching any file: the user's change is durable even if embedding fails.
      await this.deps.embed.saveSidecars(t.sidecars);
      // Emitted before the index shows the change: its commit makes the event durable first.
      this.emitChange(t.sidecars[0] as RootSidecar, changes, added, removed);
      await this.deps.embed.reindex(first);
    }
    return {
      content_hash: t.hash,
      refs: t.refs,
      changed,
      added,
      removed,
      tags: flattenTags(first.analysis.understanding.tags).map(formatTag),
      description: first.analysis.understanding.description ?? null,
      files: [],
    };
  }

  private emitChange(rs: RootSidecar, changes: string[], added: string[], removed: string[]): void {
    const s = rs.sidecar;
    const rel = s.last_paths?.[0];
    const where = {
      content_hash: s.content_hash,
      path: rel === undefined ? '' : path.join(rs.root, rel),
      root: rs.root,
      media_type: s.analysis.media_type,
    };
    // One event per change: `asset.tagged` carries the tag delta, `asset.updated` the rest.
    if (changes.includes('tags')) this.deps.events.emit('asset.tagged', { ...where, added, removed });
    else this.deps.events.emit('asset.updated', { ...where, changes });
  }

  private resolve(refs: readonly string[], caller: Caller): Promise<Target[]> {
    return resolveTargets(this.deps.assets, this.deps.embed, refs, caller);
  }
}

/** The part of AssetsService that resolving references needs. */
export type TargetResolver = Pick<AssetsService, 'resolve'>;

/** Resolves every reference to an indexed asset with a readable sidecar before anything changes. */
export async function resolveTargets(
  assets: TargetResolver,
  embed: Pick<EmbedService, 'sidecarsOf'>,
  refs: readonly string[],
  caller: Caller,
): Promise<Target[]> {
  const byHash = new Map<string, Target>();
  for (const ref of refs) {
    const r = await assets.resolve(ref, { cwd: caller.cwd, confineToRoots: caller.remote });
    if (r.contentHash === undefined || !r.indexed)
      throw new AliceError(ErrorCode.NOT_FOUND, `not in the library: ${ref}`, {
        hint: 'run `alice index update` if the file is inside a configured root',
      });
    const known = byHash.get(r.contentHash);
    if (known !== undefined) known.refs.push(ref);
    else byHash.set(r.contentHash, { hash: r.contentHash, refs: [ref], sidecars: [] });
  }
  for (const t of byHash.values()) {
    t.sidecars = await embed.sidecarsOf(t.hash);
    if (t.sidecars.length === 0)
      throw new AliceError(
        ErrorCode.NOT_FOUND,
        `no readable sidecar for ${t.refs.join(', ')} in any online root`,
        {
          hint: 'run `alice index update` (or `alice index rebuild`) to recreate it',
        },
      );
  }
  return [...byHash.values()];
}
