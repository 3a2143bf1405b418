/**
 * Composition root: builds every adapter and service once, opens the index lazily, closes all in
 * reverse order. Only the CLI imports this.
 */
import fs from 'node:fs';
import type { ExiftoolAdapter } from '../adapters/exiftool.adapter.js';
import { openDb, type Db } from '../adapters/duckdb.adapter.js';
import { AssetRepository } from '../adapters/index/asset.repository.js';
import { assertSchemaCurrent, migrate } from '../adapters/index/schema.js';
import type { Config } from '../config/config.js';
import { AliceError, ErrorCode } from '../domain/errors.js';
import { PROJECT_TAG_SOURCE, projectTagsForPath } from '../domain/project.js';
import { AssetsService } from '../services/search/assets.service.js';
import { BASIC_ANALYSER } from '../services/scan/basic-analyser.js';
import { NO_EVENTS, NO_LOG, SYSTEM_CLOCK, type Analyser, type EventSink, type Logger } from '../ports.js';
import { ScanService } from '../services/scan/scan.service.js';
import { VerifyService } from '../services/verify/verify.service.js';

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
    if (this.readOnly && !fs.existsSync(file)) this.db = await openDb(':memory:');
    else this.db = await openDb(file, { readOnly: this.readOnly, memoryLimit: '1GB' });
    const db = this.db;
    try {
      if (!db.readOnly) await migrate(db);
      else if (db.file !== ':memory:') await assertSchemaCurrent(db);
    } catch (err) {
      this.closeIndex();
      throw err;
    }
    return db;
  }

  /** Closes the index (used by rebuild before it swaps the file). */
  closeIndex(): void {
    this.db?.close();
    this.db = undefined;
  }

  async repo(): Promise<AssetRepository> {
    return new AssetRepository(await this.index());
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
      pathTags: (file) => {
        const roots = this.config.roots.filter((r) => r.kind === 'project').map((r) => r.path);
        return projectTagsForPath(file, roots).map((t) => ({ ...t, source: PROJECT_TAG_SOURCE }));
      },
    });
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

  async assetsService(): Promise<AssetsService> {
    return new AssetsService({ repo: await this.repo(), roots: this.config.roots });
  }

  async close(): Promise<void> {
    for (const fn of this.closers.reverse()) await fn();
    this.closers.length = 0;
    this.closeIndex();
  }
}
