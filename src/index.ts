/**
 * Package entry for scripts: `import { Search } from 'alice'`.
 *
 * ```ts
 * const s = await Search.connect();               // through the running agent, else the index file
 * const { results, total } = await s.search({ tags: ['style:cyberpunk'], media_type: 'image' });
 * const near = await s.findSimilar({ contentHash: results[0].content_hash, threshold: 10 });
 * await s.close();
 * ```
 *
 * The running agent owns the index file (DuckDB allows one writer and no readers beside it), so
 * `Search` works over either backend: the index opened read-only in this process, or any
 * `invoke(op, params)` function that runs the agent's operations (the control socket client).
 */
import fs from 'node:fs';
import { openDb, type Db } from './adapters/duckdb.adapter.js';
import { assertSchemaCurrent } from './adapters/index/schema.js';
import { callAgent } from './app/agent-client.js';
import { searchServiceFor } from './app/container.js';
import { loadConfig, type Config } from './config/config.js';
import { AliceError, ErrorCode } from './domain/errors.js';
import {
  dupesSchema,
  parseWith,
  searchFiltersSchema,
  similarSchema,
  type DupesParams,
  type SearchFilters,
  type SimilarParams,
} from './domain/search-filters.js';
import type {
  SearchService,
  DupesResponse,
  SearchResponse,
  SimilarResponse,
} from './services/search/search.service.js';

export type {
  DupesParams,
  PerceptualKind,
  SearchFilters,
  SimilarParams,
  SortKey,
} from './domain/search-filters.js';
export type {
  DupesResponse,
  ExactGroup,
  NearGroup,
  NearMember,
  SearchResponse,
  SearchResult,
  SimilarResponse,
  SimilarResult,
} from './services/search/search.service.js';
export type { Facets } from './adapters/index/search.repository.js';
export { AliceError, ErrorCode } from './domain/errors.js';

/** Runs a named library operation somewhere (the agent's control socket) and returns its result. */
export type Invoke = (op: string, params: unknown) => Promise<unknown>;

/** Sends an operation to the running agent; undefined when no agent answers. */
export type AgentCaller = (
  config: Config,
  op: string,
  params: unknown,
) => Promise<{ result: unknown } | undefined>;

export interface SearchOpenOptions {
  /** Settings: a loaded Config or a settings file path. Default: the usual lookup ($ALICE_CONFIG, …). */
  config?: Config | string;
  /** Index file to open instead of the configured one. */
  indexFile?: string;
}

export interface SearchConnectOptions extends SearchOpenOptions {
  /** How to reach the agent; default: the control socket from the settings. */
  callAgent?: AgentCaller;
}

interface Backend {
  search(filters: SearchFilters): Promise<SearchResponse>;
  findSimilar(query: SimilarParams): Promise<SimilarResponse>;
  dupes(query: DupesParams): Promise<DupesResponse>;
  close(): void;
}

function configOf(opts: SearchOpenOptions): Config | undefined {
  if (typeof opts.config === 'object') return opts.config;
  if (typeof opts.config === 'string') return loadConfig({ configFile: opts.config });
  return opts.indexFile === undefined ? loadConfig() : undefined;
}

class LocalBackend implements Backend {
  private readonly service: SearchService;

  constructor(
    private readonly db: Db,
    config: Config | undefined,
  ) {
    this.service = searchServiceFor(db, config?.roots ?? []);
  }

  search(filters: SearchFilters): Promise<SearchResponse> {
    return this.service.search(parseWith(searchFiltersSchema, filters, 'search'));
  }

  async findSimilar(query: SimilarParams): Promise<SimilarResponse> {
    return this.service.findSimilar(parseWith(similarSchema, query, 'similar'));
  }

  dupes(query: DupesParams): Promise<DupesResponse> {
    return this.service.dupes(parseWith(dupesSchema, query, 'dupes'));
  }

  close(): void {
    this.db.close();
  }
}

class RemoteBackend implements Backend {
  constructor(private readonly invoke: Invoke) {}

  async search(filters: SearchFilters): Promise<SearchResponse> {
    return (await this.invoke('search', filters)) as SearchResponse;
  }

  async findSimilar(query: SimilarParams): Promise<SimilarResponse> {
    return (await this.invoke('similar', query)) as SimilarResponse;
  }

  async dupes(query: DupesParams): Promise<DupesResponse> {
    return (await this.invoke('dupes', query)) as DupesResponse;
  }

  close(): void {
    // The agent owns its resources.
  }
}

/** Search, similarity and duplicate reports over an alice library. Read-only. */
export class Search {
  private closed = false;

  private constructor(private readonly backend: Backend) {}

  /**
   * Opens the index file read-only in this process: `Search.open('/path/search.duckdb')`, or
   * `Search.open({ config })` for the configured one (which also enables `project` filters and
   * confinement-free path lookups). Fails with INDEX_LOCKED while the agent runs: use `connect`.
   */
  static async open(target: string | SearchOpenOptions = {}): Promise<Search> {
    const opts: SearchOpenOptions = typeof target === 'string' ? { indexFile: target } : target;
    const config = configOf(opts);
    const file = opts.indexFile ?? config?.searchDb;
    if (file === undefined || !fs.existsSync(file)) {
      throw new AliceError(ErrorCode.INDEX_MISSING, `no index at ${file ?? '(unknown)'}`, {
        hint: 'run `alice index rebuild` (or start the agent) to create it',
      });
    }
    const db = await openDb(file, { readOnly: true });
    try {
      await assertSchemaCurrent(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new Search(new LocalBackend(db, config));
  }

  /** Through the running agent when there is one, else like {@link Search.open}. */
  static async connect(opts: SearchConnectOptions = {}): Promise<Search> {
    const config = typeof opts.config === 'object' ? opts.config : loadConfig({ configFile: opts.config });
    const call = opts.callAgent ?? callAgent;
    const probe = await call(config, 'search', { limit: 0 });
    if (probe !== undefined) {
      return Search.over(async (op, params) => {
        const res = await call(config, op, params);
        if (res === undefined) {
          throw new AliceError(ErrorCode.AGENT_UNAVAILABLE, 'the agent stopped answering', {
            hint: 'open a new Search: without the agent it reads the index file directly',
          });
        }
        return res.result;
      });
    }
    return Search.open({ ...opts, config });
  }

  /** Over any `invoke(op, params)` that runs the library's operations (e.g. the agent socket). */
  static over(invoke: Invoke): Search {
    return new Search(new RemoteBackend(invoke));
  }

  /** Matches for `filters` (all optional): `{ results, total }`, plus `facets` when asked. */
  async search(filters: SearchFilters = {}): Promise<SearchResponse> {
    this.assertOpen();
    return await this.backend.search(filters);
  }

  /**
   * Assets within `threshold` (default 10) bits of the query's perceptual hash, nearest first.
   * The query is `{ contentHash }` or `{ path }` (a file outside the library is hashed on the fly).
   */
  async findSimilar(query: SimilarParams): Promise<SimilarResponse> {
    this.assertOpen();
    return await this.backend.findSimilar(query);
  }

  /** Exact duplicate groups and, with `near: true`, near-duplicate groups with a suggested keeper. */
  async dupes(query: DupesParams = {}): Promise<DupesResponse> {
    this.assertOpen();
    return await this.backend.dupes(query);
  }

  /** Releases the index file (so the agent can open it). Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.backend.close();
    }
    return Promise.resolve();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('Search is closed');
  }
}
