/**
 * Composition root: the one place services are built. Builds every adapter once, opens the index
 * lazily, closes all in reverse order. Operations (app/ops), the agent (daemon.ts) and the package
 * entry (src/index.ts) take their services from here.
 */
import fs from 'node:fs';
import type { ExiftoolAdapter } from '../adapters/exiftool.adapter.js';
import { openDb, type Db } from '../adapters/duckdb.adapter.js';
import { fileCompleteness } from '../adapters/completeness.adapter.js';
import { NODE_STAT, writeFileAtomic } from '../adapters/fs.adapter.js';
import { AssetRepository } from '../adapters/index/asset.repository.js';
import { assertSchemaCurrent, migrate } from '../adapters/index/schema.js';
import { SearchRepository } from '../adapters/index/search.repository.js';
import { isNetworkFs, mountOf } from '../adapters/mounts.adapter.js';
import { sha256File } from '../adapters/hash.adapter.js';
import { watchTree } from '../adapters/watcher.adapter.js';
import type { Config, RootConfig } from '../config/config.js';
import { AliceError, ErrorCode } from '../domain/errors.js';
import { isIgnoredDir } from '../domain/media.js';
import { PROJECT_TAG_SOURCE, projectTagsForPath } from '../domain/project.js';
import type { Lane } from '../pipeline/queue.js';
import { MigrateService, type MigrateDeps } from '../services/migrate/migrate.service.js';
import type { ProjectDeps } from '../services/project/project.service.js';
import { ProjectService } from '../services/project/project.service.js';
import { PruneService } from '../services/verify/prune.service.js';
import { selectedHashesIn } from '../services/project/project-store.js';
import { AssetsService } from '../services/search/assets.service.js';
import { SearchService } from '../services/search/search.service.js';
import { BASIC_ANALYSER } from '../services/scan/basic-analyser.js';
import { SidecarRepairer } from '../services/scan/sidecar-repair.js';
import {
  NO_EVENTS,
  NO_LOG,
  SYSTEM_CLOCK,
  SYSTEM_TIMERS,
  type Analyser,
  type EventSink,
  type Logger,
} from '../ports.js';
import { ScanService } from '../services/scan/scan.service.js';
import { EmbedService } from '../services/tagging/embed.service.js';
import { TagService } from '../services/tagging/tag.service.js';
import { UnderstandService } from '../services/tagging/understand.service.js';
import { FileSpendStore } from '../adapters/spend-store.adapter.js';
import { visionImages } from '../adapters/vision-images.adapter.js';
import { VisionHttpClient } from '../adapters/vision-http.adapter.js';
import { IntegrityService } from '../services/verify/integrity.service.js';
import { RootIdentityStore } from '../services/scan/root-identity.js';
import { VerifyService } from '../services/verify/verify.service.js';
import { StatusService, type StatusDoc } from '../services/watch/status.service.js';
import { WatchService } from '../services/watch/watch.service.js';
import { decodeCheckFor, hashImageFile } from './media-probes.js';

/** Search over an index, for a container and for `Search.open` (an index file without settings). */
export function searchServiceFor(db: Db, roots: readonly RootConfig[]): SearchService {
  const assetRepo = new AssetRepository(db);
  const assets = new AssetsService({ repo: assetRepo, roots });
  return new SearchService({
    repo: new SearchRepository(db),
    resolve: (ref, opts) => assets.resolve(ref, opts),
    hashImage: hashImageFile,
    projectRoots: roots.filter((r) => r.kind === 'project').map((r) => r.path),
    clock: SYSTEM_CLOCK,
    copyBytes: async (hashes) => {
      const out = new Map<string, { byteHash: string; size: number }>();
      for (const rows of (await assetRepo.locationsOfMany(hashes)).values())
        for (const l of rows) if (l.present) out.set(l.path, { byteHash: l.byte_hash, size: l.size });
      return out;
    },
  });
}

/** What the agent says about itself in its status file. */
export type AgentIdentity = Pick<StatusDoc, 'pid' | 'version' | 'started_at' | 'home' | 'socket' | 'index'>;

export interface ContainerOptions {
  /** Open the index read-only (dry runs); a missing index is then an empty in-memory one. */
  readOnly?: boolean;
  logger?: Logger;
  events?: EventSink;
  analyser?: Analyser;
  /** The one exiftool pool, used for embedding tags into files. */
  exif?: ExiftoolAdapter;
}

export class Container {
  readonly config: Config;
  readonly logger: Logger;
  readonly events: EventSink;
  readonly analyser: Analyser;
  readonly exif: ExiftoolAdapter | undefined;
  /** Events not yet delivered (Redis outbox), for the status file. */
  eventBacklog: () => number = () => 0;
  private readonly readOnly: boolean;
  private db: Db | undefined;
  private opening: Promise<Db> | undefined;
  private readonly closers: (() => Promise<void> | void)[] = [];

  constructor(config: Config, opts: ContainerOptions = {}) {
    this.config = config;
    this.readOnly = opts.readOnly ?? false;
    this.logger = opts.logger ?? NO_LOG;
    this.events = opts.events ?? NO_EVENTS;
    this.analyser = opts.analyser ?? BASIC_ANALYSER;
    this.exif = opts.exif;
  }

  get searchDb(): string {
    return this.config.searchDb;
  }

  /** Registers something to close on `close()`, in reverse order of registration. */
  onClose(fn: () => Promise<void> | void): void {
    this.closers.push(fn);
  }

  /**
   * The index, opened (and migrated when writable) on first use. A read-only container without an
   * index file opens an empty one, unless `mustExist`: a search there would answer "no matches"
   * for a library that is only not indexed yet.
   */
  async index(opts: { mustExist?: boolean } = {}): Promise<Db> {
    const file = this.config.searchDb;
    if (
      opts.mustExist === true &&
      (this.db === undefined || this.db.file === ':memory:') &&
      !fs.existsSync(file)
    ) {
      throw new AliceError(ErrorCode.INDEX_MISSING, `there is no index at ${file}`, {
        hint: 'run `alice index rebuild` (or start the agent with `alice watch`) to build it from the library',
      });
    }
    if (this.db !== undefined) return this.db;
    // One opening at a time, and the index is handed out only once migrated: a caller arriving
    // while the first one migrates (the agent's socket or web page during the first build) waits
    // for it instead of querying tables that do not exist yet.
    this.opening ??= this.open(file).finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async open(file: string): Promise<Db> {
    const db =
      this.readOnly && !fs.existsSync(file)
        ? await openDb(':memory:')
        : await openDb(file, {
            readOnly: this.readOnly,
            memoryLimit: this.config.settings.storage.index_memory_limit,
            // Whoever sees a change in the index can read its event: every commit first makes
            // the events emitted so far durable. Services emit before the write that shows the
            // change; this is the one place that flushes (a rebuild's swap flushes too).
            beforeCommit: () => this.flushEvents(),
          });
    try {
      if (!db.readOnly) await migrate(db);
      else if (db.file !== ':memory:') await assertSchemaCurrent(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    return db;
  }

  /**
   * Makes the events emitted so far durable (the sink warns and resolves when its backend is
   * down: the change still lands, its events follow from the queue or the outbox).
   */
  async flushEvents(): Promise<void> {
    await this.events.flush?.();
  }

  /** Closes the index (used by rebuild before it swaps the file). */
  closeIndex(): void {
    this.db?.close();
    this.db = undefined;
  }

  async repo(): Promise<AssetRepository> {
    return new AssetRepository(await this.index());
  }

  /** Root markers and devices, remembered in `$ALICE_HOME/state/roots.json` (writers only). */
  rootIdentity(): RootIdentityStore {
    const file = this.readOnly ? undefined : `${this.config.paths.state}/roots.json`;
    return new RootIdentityStore(file, async (f, data, mode) => {
      await fs.promises.mkdir(this.config.paths.state, { recursive: true, mode: 0o700 });
      await writeFileAtomic(f, data, mode);
    });
  }

  scanService(repo: AssetRepository): ScanService {
    const s = this.config.settings;
    return new ScanService({
      roots: this.config.roots,
      repo,
      analyser: this.analyser,
      events: this.events,
      clock: SYSTEM_CLOCK,
      logger: this.logger,
      hashConcurrency: s.pipeline.hash_concurrency,
      analyseConcurrency: s.pipeline.analyse_concurrency,
      massDeleteRatio: s.watch.mass_delete_ratio,
      identity: this.rootIdentity(),
      selectedHashes: () =>
        selectedHashesIn(this.config.roots.filter((r) => r.kind === 'project').map((r) => r.path)),
      pathTags: (file) => {
        const roots = this.config.roots.filter((r) => r.kind === 'project').map((r) => r.path);
        return projectTagsForPath(file, roots).map((t) => ({ ...t, source: PROJECT_TAG_SOURCE }));
      },
    });
  }

  /** Writes garbled sidecars back from `repo` (the index that still describes their assets). */
  sidecarRepairer(repo: AssetRepository): SidecarRepairer {
    return new SidecarRepairer({ repo, analyser: this.analyser, now: () => new Date().toISOString() });
  }

  async verifyService(): Promise<VerifyService> {
    const s = this.config.settings;
    return new VerifyService({
      roots: this.config.roots,
      repo: await this.repo(),
      sampleRatio: s.verify.sample_ratio,
      hashConcurrency: s.pipeline.hash_concurrency,
    });
  }

  async pruneService(): Promise<PruneService> {
    const repo = await this.repo();
    const identity = this.rootIdentity();
    return new PruneService({
      roots: this.config.roots,
      repo,
      events: this.events,
      checkRoot: async (root) => identity.check(root, await repo.presentCountUnder(root), false),
      clock: SYSTEM_CLOCK,
      selectedHashes: () =>
        selectedHashesIn(this.config.roots.filter((r) => r.kind === 'project').map((r) => r.path)),
    });
  }

  async assetsService(): Promise<AssetsService> {
    return new AssetsService({ repo: await this.repo(), roots: this.config.roots });
  }

  async searchService(): Promise<SearchService> {
    return searchServiceFor(await this.index({ mustExist: true }), this.config.roots);
  }

  async embedService(): Promise<EmbedService> {
    const exif = this.exif;
    if (exif === undefined) throw new Error('embedding needs the exiftool adapter (createContainer)');
    return new EmbedService({
      roots: this.config.roots,
      repo: await this.repo(),
      exif,
      settings: this.config.settings.embedding,
      decodeCheckFor,
      events: this.events,
      clock: SYSTEM_CLOCK,
      logger: this.logger,
    });
  }

  async tagService(): Promise<TagService> {
    return new TagService({
      assets: await this.assetsService(),
      embed: await this.embedService(),
      events: this.events,
      clock: SYSTEM_CLOCK,
    });
  }

  /**
   * `alice understand` and the agent's understanding lane. The key is read from the variable named
   * by `understanding.api_key_env` here and goes only into the request headers. `writeLane` runs
   * each result's writes (the agent passes its index lane).
   */
  async understandService(writeLane?: <T>(fn: () => Promise<T>) => Promise<T>): Promise<UnderstandService> {
    const s = this.config.settings.understanding;
    const key = process.env[s.api_key_env];
    return new UnderstandService({
      settings: s,
      provider: new VisionHttpClient({
        provider: s.provider,
        baseUrl: s.base_url,
        model: s.model,
        apiKey: key === undefined || key === '' ? undefined : key,
      }),
      images: visionImages,
      spend: new FileSpendStore(this.config.paths.state),
      assets: await this.assetsService(),
      embed: await this.embedService(),
      repo: await this.repo(),
      events: this.events,
      clock: SYSTEM_CLOCK,
      logger: this.logger,
      ...(writeLane === undefined ? {} : { writeLane }),
    });
  }

  /** What the project use cases (select, unselect, export) and ProjectService need. */
  async projectDeps(): Promise<ProjectDeps> {
    return {
      roots: this.config.roots,
      repo: await this.repo(),
      assets: await this.assetsService(),
      clock: SYSTEM_CLOCK,
    };
  }

  async projectService(): Promise<ProjectService> {
    return new ProjectService(await this.projectDeps());
  }

  /** `steps`: the rebuild and embed operations the migration runs afterwards. */
  async migrateService(steps: Pick<MigrateDeps, 'rebuild' | 'embed'>): Promise<MigrateService> {
    const repo = await this.repo();
    return new MigrateService({
      roots: this.config.roots,
      analyser: this.analyser,
      events: this.events,
      logger: this.logger,
      clock: SYSTEM_CLOCK,
      hashConcurrency: this.config.settings.pipeline.hash_concurrency,
      locationsOf: (hash) => repo.locationsOf(hash),
      ...steps,
    });
  }

  /** The agent's status file writer; it samples the events backlog at each write. */
  statusService(identity: AgentIdentity): StatusService {
    return new StatusService(
      this.config.paths.status,
      (file, data, mode) => writeFileAtomic(file, data, mode),
      identity,
      (doc) => (doc.events_backlog = this.eventBacklog()),
    );
  }

  /** The agent's watchers over every root, indexing through `lane`. */
  watchService(opts: { status: StatusService; lane: Lane; logger: Logger }): WatchService {
    const s = this.config.settings;
    return new WatchService({
      roots: this.config.roots,
      settings: {
        backend: s.watch.backend,
        pollPaths: s.watch.poll_paths,
        pollIntervalMs: s.watch.poll_interval_ms,
        debounceMs: s.watch.debounce_ms,
        settleMs: s.watch.settle_ms,
        incompleteWaitMs: s.watch.incomplete_wait_s * 1000,
        moveGraceS: s.watch.move_grace_s,
        batchSize: s.pipeline.batch_size,
      },
      scanner: async () => this.scanService(await this.repo()),
      lane: opts.lane,
      watchTree: (root, onEvents, onError, backend) =>
        watchTree(root, {
          backend,
          pollIntervalMs: s.watch.poll_interval_ms,
          ignoreDir: isIgnoredDir,
          onEvents: (ev) => onEvents(ev.map((e) => ({ kind: e.kind, path: e.path }))),
          onError,
        }),
      isNetworkRoot: async (root) => {
        const m = await mountOf(root);
        return m !== undefined && isNetworkFs(m.fsType);
      },
      status: opts.status,
      events: this.events,
      logger: opts.logger,
      timers: SYSTEM_TIMERS,
      completeness: fileCompleteness,
      hash: sha256File,
      hashConcurrency: s.pipeline.hash_concurrency,
      files: NODE_STAT,
    });
  }

  /** The scheduled bit-rot check: a slice of the library per run, its cursor in the state dir. */
  integrityService(): IntegrityService {
    const s = this.config.settings;
    return new IntegrityService({
      repo: () => this.repo(),
      stateFile: `${this.config.paths.state}/verify-cursor.json`,
      budgetMs: s.verify.budget_minutes * 60_000,
      cycleDays: s.verify.cycle_days,
      events: this.events,
    });
  }

  async close(): Promise<void> {
    for (const fn of this.closers.reverse()) await fn();
    this.closers.length = 0;
    this.closeIndex();
  }
}
