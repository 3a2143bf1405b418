/**
 * `alice index rebuild|update`: walks every online root, hashes what changed, resolves moves,
 * duplicates, in-place edits and deletions, writes sidecars and updates the index.
 */
import fs from 'node:fs/promises';
import { isDirectory, releaseFileBytes } from '../../adapters/fs.adapter.js';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import type { LocationRow } from '../../adapters/index/rows.js';
import type { RootConfig } from '../../config/config.js';
import { isInside } from '../../config/paths.js';
import { ErrorCode, isAliceError } from '../../domain/errors.js';
import { isMismatchDamage, MediaType, mediaInfoFor } from '../../domain/media.js';
import type { Sidecar } from '../../domain/sidecar.js';
import {
  keepIdentityAfterEdit,
  mergeOutsideEdit,
  needsPixelHash,
  sameAssetAfterEdit,
} from '../../domain/outside-edit.js';
import { mapLimit } from '../../pipeline/map-limit.js';
import { entryOf, sidecarFromAnalysis } from './asset-rows.js';
import type { HashResult } from '../../adapters/hash.adapter.js';
import type { Analyser, Clock, EventSink, Logger, Progress, TaggedValue } from '../../ports.js';
import { addTags, hasTag, tagKey } from '../../domain/tags.js';
import { EarlyAnalyses } from './early-analyses.js';
import { collectRoot, hashFiles, targetProblem, type FileProblem, type SeenFile } from './scan-collect.js';
import { SidecarCache, type SidecarIssue, type SidecarRecovery } from './sidecar-cache.js';
import { SidecarRepairer } from './sidecar-repair.js';
import { forgetRoot, type ForgetRootReport } from './root-forget.js';
import type { RootCheck, RootIdentityStore } from './root-identity.js';

export interface ScanDeps {
  roots: readonly RootConfig[];
  repo: AssetRepository;
  analyser: Analyser;
  events: EventSink;
  clock: Clock;
  logger: Logger;
  hashConcurrency: number;
  analyseConcurrency: number;
  massDeleteRatio: number;
  /** Tags implied by where a file lies (e.g. `project:<name>` for a project's created/ folder). */
  pathTags?: (file: string) => TaggedValue[];
  /** Root identity (marker + device); without it a root is online when its folder is there. */
  identity?: RootIdentityStore;
  /**
   * Content hashes that project selections name (null: unknown). A half-written ghost is dropped
   * only when none names it; without this, no selection is known.
   */
  selectedHashes?: () => Promise<ReadonlySet<string> | null>;
}

export interface ScanOptions {
  mode: 'rebuild' | 'update';
  dryRun: boolean;
  allowMassDelete: boolean;
  progress: Progress;
  /** Only look at these paths (files or folders) instead of walking every root (the agent). */
  targets?: readonly string[];
  /** Vanished locations from earlier passes, still waiting for a matching new path (a move). */
  pendingVanished?: readonly LocationRow[];
  /** Return unmatched vanished locations in `vanished_pending` instead of marking them missing. */
  deferMissing?: boolean;
  /**
   * The index a garbled sidecar is repaired from (a rebuild: the previous one, still open);
   * default: the index this pass writes.
   */
  previousIndex?: AssetRepository;
  /**
   * Content hashes taken just before this pass (the agent hashes a batch while the one before is
   * indexed). A file whose size, mtime and inode still match is not read again.
   */
  hashed?: ReadonlyMap<string, HashResult>;
  /** Analyses started for this pass's files before it ran ({@link ScanService.analyseAhead}). */
  early?: EarlyAnalyses;
}

export interface MoveRecord {
  content_hash: string;
  from: string;
  to: string;
}

export interface ScanSummary {
  mode: 'rebuild' | 'update';
  dry_run: boolean;
  files_seen: number;
  unchanged: number;
  hashed: number;
  assets: number;
  duplicates: number;
  /** Present assets whose content is damaged (`alice search --damaged`). */
  damaged: number;
  new: number;
  moved: number;
  modified: number;
  restored: number;
  missing: number;
  sidecars_written: number;
  errors: FileProblem[];
  sidecar_issues: SidecarIssue[];
  offline_roots: string[];
  /** Why each offline root is offline (marker gone, another device, empty folder, unreachable). */
  offline_reasons: Record<string, string>;
  mass_delete_blocked: { root: string; would_mark: number; present: number }[];
  moves: MoveRecord[];
  /** With `deferMissing`: vanished locations not matched by a move in this pass. */
  vanished_pending: LocationRow[];
  bytes_hashed: number;
  elapsed_ms: number;
  files_per_s: number;
  mb_per_s: number;
}

/**
 * Assets resolved at once per decode slot (`analyseConcurrency`): the analyser bounds the decodes
 * themselves, so the other steps of more files (reads, header scans, exiftool, sidecar writes,
 * whose latency is I/O, not CPU) overlap them instead of waiting in line behind them.
 */
const RESOLVE_PER_DECODE = 8;

/** Targets of an agent batch stat'ed and walked at once. */
const TARGET_STATS_AT_ONCE = 16;

/**
 * A rebuild hashes videos first: each one's analysis then starts at once and waits on its ffmpeg
 * and exiftool processes while the images decode, instead of trailing after the last image.
 * Otherwise in walk order (copies of one content keep theirs).
 */
function videosFirst(files: readonly SeenFile[]): SeenFile[] {
  return [...files.filter((f) => f.media.type === 'video'), ...files.filter((f) => f.media.type !== 'video')];
}

/** What a target path is now: a regular file, a folder, gone, or something else (a link). */
async function pathKind(p: string): Promise<'file' | 'dir' | 'gone' | 'other'> {
  try {
    const st = await fs.lstat(p);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'gone';
  }
}

/** Roots holding fewer files than this are not guarded: deleting 2 of 3 files is not an accident. */
const MASS_DELETE_MIN = 10;

interface Pass {
  opts: ScanOptions;
  now: string;
  cache: SidecarCache;
  summary: ScanSummary;
  aliasMap: Map<string, string>;
  loaded: Map<string, Sidecar>;
  touched: Set<string>;
  sidecarOf: Map<string, Sidecar>;
  locationRows: LocationRow[];
  /**
   * Per asset, the first path this pass found it at that was not its location before (not a move,
   * not the same path again): only such a path can make a new duplicate.
   */
  newCopies: Map<string, LocationRow>;
  deletePaths: string[];
  /** Assets some file of this pass belongs to. */
  seenAssets: Set<string>;
  /** Half-written ghosts to drop (index rows, then their sidecar in `root`). */
  ghosts: { hash: string; root: string }[];
  /** The committed index's locations of this pass's assets, read in one go before resolving. */
  indexed: Map<string, LocationRow[]>;
  /** The files each asset's sidecars were placed for (a failed sidecar write forgets them). */
  placed: Map<string, SeenFile[]>;
  /** Analyses started while hashing (none in a dry run). */
  early?: EarlyAnalyses | undefined;
}

/** A fresh pass: nothing loaded, touched or written yet. */
function newPass(opts: ScanOptions, now: string, recover?: SidecarRecovery): Pass {
  return {
    opts,
    now,
    cache: new SidecarCache(opts.dryRun, recover),
    summary: emptySummary(opts),
    aliasMap: new Map(),
    loaded: new Map(),
    touched: new Set(),
    sidecarOf: new Map(),
    locationRows: [],
    newCopies: new Map(),
    deletePaths: [],
    seenAssets: new Set(),
    ghosts: [],
    indexed: new Map(),
    placed: new Map(),
  };
}

function emptySummary(opts: ScanOptions): ScanSummary {
  return {
    mode: opts.mode,
    dry_run: opts.dryRun,
    files_seen: 0,
    unchanged: 0,
    hashed: 0,
    assets: 0,
    duplicates: 0,
    damaged: 0,
    new: 0,
    moved: 0,
    modified: 0,
    restored: 0,
    missing: 0,
    sidecars_written: 0,
    errors: [],
    sidecar_issues: [],
    offline_roots: [],
    offline_reasons: {},
    mass_delete_blocked: [],
    moves: [],
    vanished_pending: [],
    bytes_hashed: 0,
    elapsed_ms: 0,
    files_per_s: 0,
    mb_per_s: 0,
  };
}

/** The media type of an indexed path (only files with a known extension are indexed). */
function mediaTypeOfPath(file: string): MediaType {
  return mediaInfoFor(file)?.type ?? MediaType.IMAGE;
}

export class ScanService {
  constructor(private readonly deps: ScanDeps) {}

  async run(opts: ScanOptions): Promise<ScanSummary> {
    const started = performance.now();
    const repairer = new SidecarRepairer({
      repo: opts.previousIndex ?? this.deps.repo,
      analyser: this.deps.analyser,
      now: () => this.deps.clock.now().toISOString(),
    });
    const pass = newPass(opts, this.deps.clock.now().toISOString(), repairer.recovery);
    const { changed, vanished } = await this.collect(pass);
    const early =
      opts.early ??
      (opts.dryRun || opts.mode !== 'rebuild'
        ? undefined
        : new EarlyAnalyses(this.deps.analyser, this.deps.analyseConcurrency * RESOLVE_PER_DECODE));
    pass.early = early;
    try {
      return await this.runHashed(pass, changed, vanished, started);
    } finally {
      await early?.settle();
    }
  }

  private async runHashed(
    pass: Pass,
    changed: SeenFile[],
    vanished: Map<string, LocationRow>,
    started: number,
  ): Promise<ScanSummary> {
    const { opts } = pass;
    // Only a rebuild starts analyses while it hashes (the agent's started before the pass).
    const early = opts.mode === 'rebuild' ? pass.early : undefined;
    const hashed = await hashFiles(
      early === undefined ? changed : videosFirst(changed),
      this.deps.hashConcurrency,
      opts.progress,
      pass.summary.errors,
      opts.hashed,
      early === undefined ? undefined : (f, bytes) => this.startEarly(pass, early, f, bytes),
    );
    pass.summary.hashed = hashed.filter((f) => f.movedFrom === undefined).length;
    pass.summary.bytes_hashed = hashed.reduce((n, f) => n + (f.movedFrom === undefined ? f.size : 0), 0);
    const groups = await this.group(pass, hashed, vanished);
    for (const asset of groups.keys()) pass.seenAssets.add(asset);
    await this.resolveAll(pass, groups);
    if (opts.mode === 'rebuild') this.addMissingFromSidecars(pass, groups);
    // Every sidecar is on disk before the index names its asset. Into an empty index (a
    // rebuild's), the index rows are written while the sidecars are, in a transaction that
    // commits once they all are (the asset of a failed write is taken out first). Elsewhere the
    // sidecars go first, so a failed write drops its asset before the index changes at all.
    const overlap = opts.mode === 'rebuild' && !opts.dryRun && (await this.deps.repo.isEmpty());
    if (!overlap) await this.writeSidecars(pass);
    // The index changes of this pass land together or not at all. Its events are emitted before
    // the commit, which makes them durable first (the index's beforeCommit hook, wired by the
    // composition root): whoever sees a change can read its event.
    await this.deps.repo.atomically(async () => {
      if (opts.deferMissing === true) pass.summary.vanished_pending = [...vanished.values()];
      else await this.markVanished(pass, vanished);
      if (overlap) {
        const [failed] = await Promise.all([this.writeSidecars(pass), this.persistRows(pass)]);
        await this.deps.repo.deleteAssets(failed);
      } else await this.persistRows(pass);
      await this.persistRest(pass);
    });
    // A ghost's sidecar goes once the index no longer lists it (a crash before leaves it to
    // describe a missing asset, as before, rather than an index row with no sidecar).
    for (const g of pass.ghosts) await pass.cache.remove(g.root, g.hash);
    return this.finish(pass, started);
  }

  /**
   * For the agent: starts analysing the new content among files hashed ahead of their pass (a
   * settled batch, hashed while the batch before is indexed), so decodes go on while that batch's
   * sidecars and index rows are written. Only content that neither the index nor a sidecar in the
   * file's root knows: what the pass would analyse anyway. Hand the result to the pass (`early`),
   * which takes what has started and settles the rest; returns at once, the analyses start in the
   * background as decode capacity frees. Never throws: a failed check leaves a file to its pass.
   */
  analyseAhead(hashed: ReadonlyMap<string, HashResult>): EarlyAnalyses {
    const early = new EarlyAnalyses(this.deps.analyser, this.deps.analyseConcurrency * RESOLVE_PER_DECODE);
    early.track(this.startAhead(early, hashed).catch(() => undefined));
    return early;
  }

  private async startAhead(early: EarlyAnalyses, hashed: ReadonlyMap<string, HashResult>): Promise<void> {
    const known = await this.deps.repo.resolveHashes([...hashed.values()].map((h) => h.hash));
    const sidecars = new SidecarCache(true);
    for (const [file, h] of hashed) {
      const media = mediaInfoFor(file);
      const root = this.deps.roots.find((r) => isInside(file, r.path));
      if (!early.open) return;
      if (media === undefined || root === undefined || known.has(h.hash) || !early.claim(h.hash)) continue;
      if ((await sidecars.get(root.path, h.hash).catch(() => null)) !== null) continue;
      await early.start(h.hash, file, media);
    }
  }

  /**
   * A rebuild starts the analysis of a hashed file at once when its content has no sidecar yet:
   * not seen in this pass, none in its root (the rebuild's index is new and empty, so nothing
   * else can describe it). Anything else is left to the resolve step, which finds the sidecar or
   * analyses then. An update does not: asking the index about every file as it is hashed costs
   * more than the overlap gains, and the agent already hashes a batch while the one before is
   * indexed. Never throws: a failed check only means the analysis starts later.
   */
  private async startEarly(pass: Pass, early: EarlyAnalyses, f: SeenFile, bytes?: Buffer): Promise<void> {
    const hash = f.byteHash;
    const skip = (): void => (bytes === undefined ? undefined : releaseFileBytes(bytes));
    if (hash === undefined || f.movedFrom !== undefined) return skip();
    if (!early.open || pass.loaded.has(hash) || pass.aliasMap.has(hash) || !early.claim(hash)) return skip();
    try {
      if ((await pass.cache.get(f.root.path, hash)) !== null) return skip();
    } catch {
      return skip();
    }
    await early.start(hash, f.path, f.media, bytes);
  }

  private async collect(pass: Pass): Promise<{ changed: SeenFile[]; vanished: Map<string, LocationRow> }> {
    const changed: SeenFile[] = [];
    const vanished = new Map<string, LocationRow>();
    for (const row of pass.opts.pendingVanished ?? []) vanished.set(row.path, row);
    if (pass.opts.targets !== undefined)
      await this.collectTargets(pass, pass.opts.targets, changed, vanished);
    else await this.collectRoots(pass, changed, vanished);
    this.matchByStat(changed, vanished);
    return { changed, vanished };
  }

  /** The agent's path: stat only the paths that events named (a folder is walked). */
  private async collectTargets(
    pass: Pass,
    targets: readonly string[],
    changed: SeenFile[],
    vanished: Map<string, LocationRow>,
  ): Promise<void> {
    const { repo } = this.deps;
    const rootOnline = new Map<string, Promise<boolean>>();
    const inRoot = targets.flatMap((target) => {
      const root = this.deps.roots.find((r) => isInside(target, r.path));
      return root === undefined ? [] : [{ target, root }];
    });
    // A regular file has nothing below it: its index row comes with the others' in a few
    // queries. A folder, or a path that is gone, is asked for everything at or below it.
    const kinds = await mapLimit(inRoot, TARGET_STATS_AT_ONCE, ({ target }) => pathKind(target));
    const files = inRoot.filter((_, i) => kinds[i] === 'file').map((t) => t.target);
    const fileStats = files.length > 0 ? await repo.locationStatsAt(files) : new Map<string, string>();
    const known = new Map<string, string>();
    const seen = new Set<string>();
    const collected = await mapLimit(inRoot, TARGET_STATS_AT_ONCE, async ({ target, root }, i) => {
      let mine: Map<string, string>;
      if (kinds[i] === 'file') {
        const stat = fileStats.get(target);
        mine = new Map(stat === undefined ? [] : [[target, stat]]);
      } else mine = await repo.locationStats({ atOrBelow: target });
      const online = rootOnline.get(root.path) ?? isDirectory(root.path);
      rootOnline.set(root.path, online);
      if (!(await online)) return undefined;
      const problems: FileProblem[] = [];
      const coll = await collectRoot(root, mine, problems, target);
      if (coll.seenPaths.size === 0 && problems.length === 0) {
        // An event named it, yet nothing was read: say why when it was not a plain deletion.
        const problem = await targetProblem(target, root.path);
        if (problem !== undefined) problems.push(problem);
      }
      return { coll, mine, problems };
    });
    // In the targets' order, as one at a time gave them.
    for (const c of collected) {
      if (c === undefined) continue;
      pass.summary.errors.push(...c.problems);
      pass.summary.files_seen += c.coll.seenPaths.size;
      pass.summary.unchanged += c.coll.unchanged;
      for (const [p, stat] of c.mine) known.set(p, stat);
      for (const p of c.coll.seenPaths) seen.add(p);
      changed.push(...c.coll.changed);
    }
    await this.attachRows(changed, known, seen, vanished);
    // A path held from an earlier pass that exists again (deleted and re-created) is not gone.
    for (const p of seen) vanished.delete(p);
  }

  /**
   * Files at or below `dir` that the index does not hold with their current size, mtime and inode
   * (stat only, nothing is read). The agent's sweep after a burst: a watcher can drop events.
   */
  async unindexedUnder(dir: string): Promise<string[]> {
    const root = this.deps.roots.find((r) => isInside(dir, r.path));
    if (root === undefined || !(await isDirectory(dir))) return [];
    const known = await this.deps.repo.locationStats({ atOrBelow: dir });
    const coll = await collectRoot(root, known, [], dir);
    return coll.changed.map((f) => f.path);
  }

  /**
   * Is `rootPath` online (see root-identity.ts)? `claim`: write its marker when it has none and
   * is online.
   */
  async checkRoot(rootPath: string, claim = true): Promise<RootCheck> {
    if (this.deps.identity === undefined) {
      return (await isDirectory(rootPath))
        ? { online: true }
        : { online: false, reason: 'not a reachable folder' };
    }
    const indexed = await this.deps.repo.presentCountUnder(rootPath);
    return this.deps.identity.check(rootPath, indexed, claim);
  }

  /** `alice root forget`: see root-forget.ts. */
  forgetRoot(root: string, dryRun: boolean): Promise<ForgetRootReport> {
    const { roots, repo, identity, events, logger, clock } = this.deps;
    return forgetRoot(
      {
        roots,
        repo,
        events,
        logger,
        clock,
        check: (r) => this.checkRoot(r, false),
        ...(identity === undefined ? {} : { identity }),
      },
      root,
      dryRun,
    );
  }

  /**
   * After a walk over `known` (path → statKey): reads the index rows of the changed files that
   * have one into their `prev`, and of the present locations the walk did not see into
   * `vanished`. Only these rows are read in full, never every location under the root.
   */
  private async attachRows(
    changed: SeenFile[],
    known: ReadonlyMap<string, string>,
    seen: ReadonlySet<string>,
    vanished: Map<string, LocationRow>,
  ): Promise<void> {
    const gone: string[] = [];
    for (const [p, stat] of known) if (stat.startsWith('1:') && !seen.has(p)) gone.push(p);
    const wanted = [...changed.filter((f) => f.hadRow).map((f) => f.path), ...gone];
    const rows = new Map((await this.deps.repo.locationsAt(wanted)).map((r) => [r.path, r]));
    for (const f of changed) if (f.hadRow) f.prev = rows.get(f.path);
    for (const p of gone) {
      const row = rows.get(p);
      if (row !== undefined) vanished.set(p, row);
    }
  }

  private async collectRoots(
    pass: Pass,
    changed: SeenFile[],
    vanished: Map<string, LocationRow>,
  ): Promise<void> {
    const { repo } = this.deps;
    for (const root of this.deps.roots) {
      const check = await this.checkRoot(root.path, !pass.opts.dryRun);
      if (!check.online) {
        const reason = check.reason ?? 'offline';
        pass.summary.offline_roots.push(root.path);
        pass.summary.offline_reasons[root.path] = reason;
        this.deps.events.emit('root.offline', { root: root.path, reason });
        this.deps.logger.warn('root offline: nothing under it is marked missing', {
          root: root.path,
          reason,
        });
        if (!pass.opts.dryRun) await repo.setRoot(root.path, root.kind, 'offline', null);
        continue;
      }
      // The stat of every location under the root, in pages of paths (not their full rows).
      let known = new Map<string, string>();
      // Locations whose asset row is absent (an index written by a crashed older version): their
      // files are read again so the asset comes back, even though their stat matches.
      let recheck = new Set<string>();
      if (pass.opts.mode === 'update') {
        known = await repo.locationStats({ root: root.path });
        recheck = new Set(await repo.locationsWithoutAsset(root.path));
      } else for (const s of await pass.cache.loadAll(root.path)) this.register(pass, s);
      const coll = await collectRoot(root, known, pass.summary.errors, root.path, recheck);
      pass.summary.files_seen += coll.seenPaths.size;
      pass.summary.unchanged += coll.unchanged;
      await this.attachRows(coll.changed, known, coll.seenPaths, vanished);
      changed.push(...coll.changed);
      if (!pass.opts.dryRun) await repo.setRoot(root.path, root.kind, 'online', pass.now);
    }
  }

  private matchByStat(changed: SeenFile[], vanished: Map<string, LocationRow>): void {
    // A file whose inode, size and mtime match a vanished location moved: no need to read it.
    const byStat = new Map<string, LocationRow>();
    for (const row of vanished.values()) byStat.set(`${row.inode}:${row.size}:${row.mtime_ms}`, row);
    for (const f of changed) {
      const row = f.prev === undefined ? byStat.get(`${f.ino}:${f.size}:${f.mtimeMs}`) : undefined;
      if (row === undefined || !vanished.has(row.path)) continue;
      f.byteHash = row.byte_hash;
      f.movedFrom = row;
      vanished.delete(row.path);
    }
  }

  private register(pass: Pass, s: Sidecar): void {
    if (!pass.loaded.has(s.content_hash)) pass.loaded.set(s.content_hash, s);
    for (const alias of s.aliases ?? []) pass.aliasMap.set(alias, s.content_hash);
  }

  private async group(
    pass: Pass,
    hashed: SeenFile[],
    vanished: Map<string, LocationRow>,
  ): Promise<Map<string, SeenFile[]>> {
    const byAsset = new Map<string, LocationRow[]>();
    for (const row of vanished.values())
      (byAsset.get(row.content_hash) ?? byAsset.set(row.content_hash, []).get(row.content_hash))?.push(row);
    const groups = new Map<string, SeenFile[]>();
    // One query per few hundred files, not one per file.
    const resolved = await this.deps.repo.resolveHashes(
      hashed.flatMap((f) =>
        f.movedFrom === undefined && !pass.aliasMap.has(f.byteHash as string) ? [f.byteHash as string] : [],
      ),
    );
    for (const f of hashed) {
      const byte = f.byteHash as string;
      const asset = f.movedFrom?.content_hash ?? pass.aliasMap.get(byte) ?? resolved.get(byte) ?? byte;
      if (f.movedFrom === undefined && f.prev?.content_hash !== asset) {
        const cand = byAsset.get(asset)?.pop();
        if (cand !== undefined) {
          f.movedFrom = cand;
          vanished.delete(cand.path);
        }
      }
      (groups.get(asset) ?? groups.set(asset, []).get(asset))?.push(f);
    }
    return groups;
  }

  private async resolveAll(pass: Pass, groups: Map<string, SeenFile[]>): Promise<void> {
    // Videos first: each waits on ffmpeg and exiftool processes for longer than an image takes,
    // so started early they overlap the image decodes instead of trailing after the last one.
    const list = [...groups.entries()].sort(
      ([, a], [, b]) => Number(b[0]?.media.type === 'video') - Number(a[0]?.media.type === 'video'),
    );
    // What was started early is taken from here on; nothing more starts.
    pass.early?.close();
    // Nothing is committed while assets resolve, so the index's locations can be read at once.
    pass.indexed = await this.deps.repo.locationsOfMany([...groups.keys()]);
    pass.opts.progress.start('indexing', list.length);
    await mapLimit(list, this.deps.analyseConcurrency * RESOLVE_PER_DECODE, async ([asset, files]) => {
      try {
        await this.resolveAsset(pass, asset, files);
      } catch (err) {
        // A full disk keeps its code (DISK_FULL) so the user sees why, not a generic failure.
        const code = isAliceError(err) ? err.code : ErrorCode.EINDEX;
        const message = isAliceError(err) ? err.message : String(err);
        for (const f of files) pass.summary.errors.push({ path: f.path, root: f.root.path, code, message });
        this.forget(pass, asset, files);
      }
      pass.opts.progress.tick(1);
    });
    pass.opts.progress.done();
  }

  /**
   * Writes the sidecars this pass changed. A write that failed (a full disk) drops its asset from
   * the pass, as a failure during the asset's resolution would; returns the assets dropped.
   */
  private async writeSidecars(pass: Pass): Promise<string[]> {
    await pass.cache.flush();
    const dropped: string[] = [];
    for (const fail of pass.cache.takeFailures()) {
      const files = pass.placed.get(fail.hash) ?? [];
      if (!pass.sidecarOf.has(fail.hash)) continue; // already forgotten (another root's write)
      const code = isAliceError(fail.error) ? fail.error.code : ErrorCode.EINDEX;
      const message = isAliceError(fail.error) ? fail.error.message : String(fail.error);
      for (const f of files) pass.summary.errors.push({ path: f.path, root: f.root.path, code, message });
      this.forget(pass, fail.hash, files);
      dropped.push(fail.hash);
    }
    return dropped;
  }

  /**
   * Drops what a failed asset recorded in this pass (its locations, a move's old path, its sidecar)
   * so the index does not claim a file whose sidecar was never written: the next pass retries it.
   */
  private forget(pass: Pass, asset: string, files: SeenFile[]): void {
    const paths = new Set(files.map((f) => f.path));
    const movedFrom = new Set(files.flatMap((f) => (f.movedFrom === undefined ? [] : [f.movedFrom.path])));
    pass.locationRows = pass.locationRows.filter((r) => !paths.has(r.path));
    pass.deletePaths = pass.deletePaths.filter((p) => !movedFrom.has(p));
    pass.sidecarOf.delete(asset);
    pass.newCopies.delete(asset);
  }

  /** Finds this asset's sidecar in any root, or makes a new one from the file (analysed once). */
  private async baseSidecar(
    pass: Pass,
    asset: string,
    files: SeenFile[],
  ): Promise<{ sidecar: Sidecar; isNew: boolean }> {
    for (const f of files) {
      const s = await pass.cache.get(f.root.path, asset);
      if (s !== null) return { sidecar: s, isNew: false };
    }
    const loaded = pass.loaded.get(asset);
    if (loaded !== undefined) return { sidecar: loaded, isNew: false };
    const roots = new Set([
      ...(pass.indexed.get(asset) ?? []).map((l) => l.root),
      ...files.map((f) => f.movedFrom?.root ?? ''),
    ]);
    for (const root of roots) {
      if (root === '') continue;
      const s = await pass.cache.get(root, asset);
      if (s !== null) return { sidecar: s, isNew: false };
    }
    const first = files[0] as SeenFile;
    const analysis = await (pass.early?.take(asset, first.path) ??
      this.deps.analyser.analyse(first.path, first.media));
    return {
      sidecar: sidecarFromAnalysis({
        hash: asset,
        file: first.path,
        size: first.size,
        media: first.media,
        analysis,
        now: pass.now,
        mtimeMs: first.mtimeMs,
      }),
      isNew: true,
    };
  }

  /**
   * A file rewritten in place that is still the previous asset (alice's marker, or the same
   * decoded pixels): its new bytes become an alias of that asset, which keeps its tags, history
   * and project selections. Returns false when the edit made new content.
   */
  private async keepIdentity(pass: Pass, analysed: Sidecar, files: SeenFile[]): Promise<boolean> {
    let fresh = analysed;
    const edited = files.find((f) => f.prev !== undefined && f.movedFrom === undefined);
    const prev = edited?.prev;
    if (edited === undefined || prev === undefined || prev.content_hash === fresh.content_hash) return false;
    const old = await pass.cache.get(prev.root, prev.content_hash);
    if (old === null) return false;
    if (!sameAssetAfterEdit(fresh, old) && needsPixelHash(fresh, old)) {
      const pixels = await this.deps.analyser.pixelHash?.(edited.path);
      if (pixels !== undefined) fresh = { ...fresh, pixel_hash: pixels };
    }
    if (!sameAssetAfterEdit(fresh, old)) return false;
    const asset = old.content_hash;
    const sidecar = keepIdentityAfterEdit(fresh, old, edited.byteHash as string);
    pass.summary.modified++;
    this.deps.events.emit('asset.updated', {
      content_hash: asset,
      path: edited.path,
      root: edited.root.path,
      media_type: sidecar.analysis.media_type,
      changes: ['metadata'],
    });
    pass.sidecarOf.set(asset, sidecar);
    pass.touched.add(asset);
    for (const f of files) this.recordFile(pass, asset, f);
    await this.placeSidecars(pass, asset, sidecar, files, true);
    return true;
  }

  /**
   * Was the previous content of an edited path a half-written ghost? Damaged (did not decode
   * completely), only ever seen at this one path (no other location, present or not, and no other
   * file of this pass), with no aliases, no edits derived from it and no project selection naming it.
   */
  private async isGhost(pass: Pass, old: Sidecar, edited: SeenFile): Promise<boolean> {
    const hash = old.content_hash;
    // Whole content under the wrong name was not half-written: only decode damage makes a ghost.
    if (old.damage === undefined || old.damage === '' || isMismatchDamage(old.damage)) return false;
    if ((old.aliases ?? []).length > 0 || pass.seenAssets.has(hash)) return false;
    const { repo } = this.deps;
    if ((await repo.locationsOf(hash)).some((l) => l.path !== edited.path)) return false;
    if ((await repo.aliasesOf(hash)).length > 0) return false;
    if ((await repo.derivedFrom(hash)).length > 0) return false;
    const selected =
      this.deps.selectedHashes === undefined ? new Set<string>() : await this.deps.selectedHashes();
    return selected !== null && !selected.has(hash);
  }

  private async resolveAsset(pass: Pass, asset: string, files: SeenFile[]): Promise<void> {
    const { summary } = pass;
    const base = await this.baseSidecar(pass, asset, files);
    const isNew = base.isNew;
    let sidecar = base.sidecar;
    if (isNew && (await this.keepIdentity(pass, sidecar, files))) return;
    const edited = files.find(
      (f) => f.prev !== undefined && f.prev.content_hash !== asset && f.movedFrom === undefined,
    );
    if (edited?.prev !== undefined) {
      summary.modified++;
      if (isNew) {
        const old = await pass.cache.get(edited.prev.root, edited.prev.content_hash);
        const ghost = old !== null && (await this.isGhost(pass, old, edited));
        if (ghost) {
          // Half-written content seen only at this path: the file was still being written, not
          // edited. Nothing derives from it; it is dropped instead of staying as `missing`.
          sidecar = { ...mergeOutsideEdit(sidecar, old, edited.byteHash as string), derived_from: null };
          pass.ghosts.push({ hash: old.content_hash, root: edited.prev.root });
          this.deps.logger.info('dropped half-written content', {
            path: edited.path,
            content_hash: old.content_hash,
            damage: old.damage,
          });
        } else {
          pass.touched.add(edited.prev.content_hash);
          if (old !== null) sidecar = mergeOutsideEdit(sidecar, old, edited.byteHash as string);
          else sidecar = { ...sidecar, derived_from: edited.prev.content_hash };
        }
        this.deps.events.emit('asset.updated', {
          content_hash: asset,
          path: edited.path,
          root: edited.root.path,
          media_type: sidecar.analysis.media_type,
          changes: ['content'],
          ...(ghost ? {} : { derived_from: edited.prev.content_hash }),
        });
      } else {
        pass.touched.add(edited.prev.content_hash);
      }
    } else if (isNew) {
      summary.new++;
      const first = files[0];
      if (first !== undefined)
        this.deps.events.emit('asset.discovered', {
          content_hash: asset,
          path: first.path,
          root: first.root.path,
          media_type: sidecar.analysis.media_type,
          size: first.size,
        });
    }
    const implied = this.impliedTags(sidecar, files);
    if (implied.length > 0) {
      const u = sidecar.analysis.understanding;
      sidecar = {
        ...sidecar,
        analysis: {
          ...sidecar.analysis,
          understanding: {
            ...u,
            tags: addTags(u.tags, implied),
            tag_sources: {
              ...(u.tag_sources ?? {}),
              ...Object.fromEntries(implied.map((t) => [tagKey(t), t.source])),
            },
          },
        },
      };
    }
    pass.sidecarOf.set(asset, sidecar);
    pass.touched.add(asset);
    for (const f of files) this.recordFile(pass, asset, f);
    await this.placeSidecars(
      pass,
      asset,
      sidecar,
      files,
      isNew || edited !== undefined || implied.length > 0,
    );
  }

  private impliedTags(sidecar: Sidecar, files: SeenFile[]): TaggedValue[] {
    const fn = this.deps.pathTags;
    if (fn === undefined) return [];
    return files.flatMap((f) => fn(f.path)).filter((t) => !hasTag(sidecar.analysis.understanding.tags, t));
  }

  private recordFile(pass: Pass, asset: string, f: SeenFile): void {
    const { summary } = pass;
    const from = f.movedFrom;
    if (from !== undefined) {
      summary.moved++;
      if (summary.moves.length < 1000)
        summary.moves.push({ content_hash: asset, from: from.path, to: f.path });
      pass.deletePaths.push(from.path);
      this.deps.events.emit('asset.moved', {
        content_hash: asset,
        root: f.root.path,
        media_type: f.media.type,
        old_path: from.path,
        new_path: f.path,
        old_root: from.root,
      });
    } else if (f.prev !== undefined && !f.prev.present && f.prev.content_hash === asset) {
      summary.restored++;
      this.deps.events.emit('asset.restored', {
        content_hash: asset,
        path: f.path,
        root: f.root.path,
        media_type: f.media.type,
      });
    }
    const row: LocationRow = {
      path: f.path,
      content_hash: asset,
      byte_hash: f.byteHash as string,
      root: f.root.path,
      rel_path: f.rel,
      size: f.size,
      mtime_ms: f.mtimeMs,
      inode: f.ino,
      present: true,
      first_seen: f.prev?.first_seen ?? from?.first_seen ?? pass.now,
      last_seen: pass.now,
      missing_since: null,
    };
    pass.locationRows.push(row);
    if (from === undefined && f.prev?.content_hash !== asset && !pass.newCopies.has(asset))
      pass.newCopies.set(asset, row);
  }

  /** One sidecar per asset per root: copies it into roots that lack it, drops it from roots it left. */
  private async placeSidecars(
    pass: Pass,
    asset: string,
    sidecar: Sidecar,
    files: SeenFile[],
    changed: boolean,
  ): Promise<void> {
    pass.placed.set(asset, files);
    const byRoot = new Map<string, SeenFile[]>();
    for (const f of files) (byRoot.get(f.root.path) ?? byRoot.set(f.root.path, []).get(f.root.path))?.push(f);
    for (const [root, inRoot] of byRoot) {
      const existing = await pass.cache.get(root, asset);
      const rels = inRoot.map((f) => f.rel).sort();
      const samePaths = JSON.stringify(existing?.last_paths ?? []) === JSON.stringify(rels);
      if (existing !== null && !changed && samePaths) continue;
      const next: Sidecar = {
        ...(changed ? sidecar : (existing ?? sidecar)),
        last_paths: rels,
        updated_at: pass.now,
      };
      await pass.cache.put(root, next);
    }
    const leftRoots = new Set(
      files.flatMap((f) =>
        f.movedFrom !== undefined && f.movedFrom.root !== f.root.path ? [f.movedFrom.root] : [],
      ),
    );
    for (const oldRoot of leftRoots) {
      const others = (pass.indexed.get(asset) ?? []).filter(
        (l) => l.root === oldRoot && l.present && !pass.deletePaths.includes(l.path),
      );
      if (others.length === 0 && !byRoot.has(oldRoot)) await pass.cache.remove(oldRoot, asset);
    }
  }

  private async markVanished(pass: Pass, vanished: Map<string, LocationRow>): Promise<void> {
    const byRoot = new Map<string, LocationRow[]>();
    for (const row of vanished.values())
      (byRoot.get(row.root) ?? byRoot.set(row.root, []).get(row.root))?.push(row);
    for (const [root, rows] of byRoot) {
      const present = await this.deps.repo.presentCountUnder(root);
      // A root that would go from N files to 0 is blocked whatever its size: far more often an
      // unmounted disk or a dropped share than a user deleting everything.
      if (
        !pass.opts.allowMassDelete &&
        ((present >= MASS_DELETE_MIN && rows.length > present * this.deps.massDeleteRatio) ||
          (present >= 2 && rows.length >= present))
      ) {
        pass.summary.mass_delete_blocked.push({ root, would_mark: rows.length, present });
        const reason = `refused to mark ${rows.length} of ${present} files missing at once (more than watch.mass_delete_ratio ${this.deps.massDeleteRatio})`;
        this.deps.logger.warn('safety check refused a mass delete', {
          root,
          would_mark: rows.length,
          present,
          reason,
        });
        this.deps.events.emit('safety.refused', {
          kind: 'mass_delete',
          root,
          reason,
          would_mark: rows.length,
          present,
        });
        continue;
      }
      if (!pass.opts.dryRun)
        await this.deps.repo.markMissing(
          rows.map((r) => r.path),
          pass.now,
        );
      pass.summary.missing += rows.length;
      for (const r of rows) {
        pass.touched.add(r.content_hash);
        this.deps.events.emit('asset.missing', {
          content_hash: r.content_hash,
          path: r.path,
          root,
          media_type: mediaTypeOfPath(r.path),
        });
      }
    }
  }

  /** Marks locations missing now (the agent, once their grace window has passed). */
  async markMissingNow(rows: readonly LocationRow[], allowMassDelete: boolean): Promise<ScanSummary> {
    const opts: ScanOptions = {
      mode: 'update',
      dryRun: false,
      allowMassDelete,
      progress: { start: () => undefined, tick: () => undefined, done: () => undefined },
    };
    const pass = newPass(opts, this.deps.clock.now().toISOString());
    await this.deps.repo.atomically(async () => {
      await this.markVanished(pass, new Map(rows.map((r) => [r.path, r])));
      await this.deps.repo.refreshStatus([...pass.touched]);
    });
    return pass.summary;
  }

  /** Rebuild: sidecars whose files are all gone still describe assets (status missing). */
  private addMissingFromSidecars(pass: Pass, groups: Map<string, SeenFile[]>): void {
    const ghosts = new Set(pass.ghosts.map((g) => g.hash));
    for (const [hash, s] of pass.loaded) {
      if (groups.has(hash) || ghosts.has(hash)) continue;
      pass.sidecarOf.set(hash, s);
      pass.touched.add(hash);
    }
  }

  /** The pass's locations and assets into the index (in the caller's transaction). */
  private async persistRows(pass: Pass): Promise<void> {
    if (pass.opts.dryRun) return;
    const { repo } = this.deps;
    const locations = pass.locationRows;
    const entries = [...pass.sidecarOf.values()].map((s) => entryOf(s, null, false));
    await repo.deleteLocations(pass.deletePaths);
    await repo.upsertLocations(locations);
    // After the path points at its new content, so no location row of a ghost is left behind.
    await repo.deleteAssets(pass.ghosts.map((g) => g.hash));
    await repo.upsertAssets(entries);
    await repo.refreshStatus([...pass.touched]);
  }

  /** The pass's file errors, and the news of duplicates it found (after its rows are in). */
  private async persistRest(pass: Pass): Promise<void> {
    if (pass.opts.dryRun) return;
    const { repo } = this.deps;
    const errorsByRoot = new Map<string, FileProblem[]>(this.deps.roots.map((r) => [r.path, []]));
    for (const e of pass.summary.errors) errorsByRoot.get(e.root)?.push(e);
    for (const [root, list] of errorsByRoot) {
      if (pass.summary.offline_roots.includes(root)) continue;
      await repo.replaceFileErrors(
        root,
        list.map((e) => ({ ...e, at: pass.now })),
      );
    }
    const locations = await repo.locationsOfMany([...pass.touched]);
    // A copy found at a new path; copies that only moved (a renamed folder) are no news.
    for (const hash of pass.touched) {
      const locs = (locations.get(hash) ?? []).filter((l) => l.present);
      const seen = pass.newCopies.get(hash);
      if (locs.length > 1 && seen !== undefined) {
        this.deps.events.emit('asset.duplicate_found', {
          content_hash: hash,
          path: seen.path,
          root: seen.root,
          media_type: mediaTypeOfPath(seen.path),
          duplicate_of: locs.filter((l) => l.path !== seen.path).map((l) => l.path),
        });
      }
    }
  }

  private async finish(pass: Pass, started: number): Promise<ScanSummary> {
    const s = pass.summary;
    const counts = await this.deps.repo.counts(
      this.deps.roots.filter((r) => r.kind === 'project').map((r) => r.path),
    );
    const dryRebuild = pass.opts.dryRun && pass.opts.mode === 'rebuild';
    s.assets = dryRebuild ? pass.sidecarOf.size : counts.assets;
    s.duplicates = dryRebuild ? 0 : counts.duplicates;
    s.damaged = dryRebuild ? 0 : counts.damaged;
    s.sidecars_written = pass.cache.written;
    s.sidecar_issues = pass.cache.issues;
    s.elapsed_ms = Math.round(performance.now() - started);
    const secs = Math.max(s.elapsed_ms, 1) / 1000;
    s.files_per_s = Math.round((s.hashed / secs) * 10) / 10;
    s.mb_per_s = Math.round((s.bytes_hashed / 1e6 / secs) * 10) / 10;
    if (pass.opts.mode === 'rebuild' && !pass.opts.dryRun)
      this.deps.events.emit('index.rebuilt', {
        assets: s.assets,
        roots: this.deps.roots.map((r) => r.path),
        duration_ms: s.elapsed_ms,
      });
    for (const i of s.sidecar_issues)
      if (i.kind === 'repaired')
        this.deps.logger.warn('garbled sidecar written back from the index', {
          file: i.file,
          kept_as: i.movedTo,
          reason: i.reason,
        });
    // Each failed file once, with what failed (the summary and the status count them).
    for (const e of s.errors)
      this.deps.logger.warn('file failed', { path: e.path, code: e.code, message: e.message });
    this.deps.logger.info('scan finished', {
      mode: s.mode,
      files: s.files_seen,
      hashed: s.hashed,
      errors: s.errors.length,
    });
    return s;
  }
}
