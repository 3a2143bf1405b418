/**
 * Every setting with its default. `settings.example.yaml` documents the same keys; a test keeps the
 * two in sync. Relative paths resolve against the settings file's folder (or ALICE_HOME without one).
 */
export const DEFAULT_SETTINGS = {
  storage: {
    /** DuckDB index file: a cache, rebuildable from files and sidecars at any time. */
    search_db: 'data/search.duckdb',
    /**
     * Most memory DuckDB may hold (its buffer pool of table pages, plus query working memory)
     * in each process that opens the index: the agent, a CLI command, the MCP server. Past it,
     * DuckDB evicts cached pages and spills big sorts to disk. Bounds the agent's idle RSS.
     */
    index_memory_limit: '1GB',
    /** Folders of media to keep indexed. Without a settings file: `<ALICE_HOME>/assets`. */
    asset_paths: ['assets'] as string[],
    /** Folders that hold projects. Without a settings file: `<ALICE_HOME>/projects`. */
    project_paths: ['projects'] as string[],
  },
  watch: {
    /** `auto` (native, polling on network/FUSE mounts), `native` or `poll`. */
    backend: 'auto' as 'auto' | 'native' | 'poll',
    /** Roots (or folders below them) that are always polled. */
    poll_paths: [] as string[],
    poll_interval_ms: 2000,
    /** Quiet window after the last event before a change set is processed. */
    debounce_ms: 500,
    /** A file is processed once its size and mtime stayed the same for this long. */
    settle_ms: 300,
    /**
     * A settled file that is not complete yet (a PNG without IEND, a JPEG without EOI, an MP4
     * without its moov box) is checked again until it is, for at most this long; then it is indexed
     * anyway, as damaged if it does not decode.
     */
    incomplete_wait_s: 120,
    /** A vanished path waits this long for a matching new path (a move) before it is marked missing. */
    move_grace_s: 60,
    /** Stat-only reconciliation sweep (cron). */
    reconcile_cron: '17 * * * *',
    /** One pass never marks more than this share of a root missing. */
    mass_delete_ratio: 0.2,
  },
  pipeline: {
    hash_concurrency: 2,
    /**
     * Decodes at once: one more than the 2 cores this default is made for, so both stay busy
     * while a finished decode waits for the main thread to take its result.
     */
    analyse_concurrency: 3,
    /** Paths per agent batch. */
    batch_size: 200,
  },
  verify: {
    /** Integrity verification (cron): re-hash files within a time budget. */
    cron: '30 3 * * *',
    budget_minutes: 30,
    /** Every file is re-hashed at least once in this many days. */
    cycle_days: 7,
    /** Sidecar/index consistency check (cron). */
    consistency_cron: '45 4 * * *',
    /** Share of files re-hashed by `alice index verify` without `--full`. */
    sample_ratio: 0.05,
  },
  embedding: {
    /** Write tags, description and the alice hash into the files themselves. */
    enabled: true,
    /** Formats never written to (stay sidecar-only), e.g. [heic, mp4]. */
    disabled_formats: [] as string[],
    /** Keep the file's modification time after embedding. */
    preserve_mtime: true,
  },
  tagging: {
    /** YAML vocabulary file (category → word → synonyms); null uses the built-in one. */
    vocabulary: null as string | null,
    /** Turn prompt words into tags using the vocabulary. */
    from_prompt: true,
  },
  understanding: {
    /** Ask a vision model what each image shows (opt-in: it sends images to `base_url`). */
    enabled: false,
    /** Protocol: `openai` (chat completions: OpenAI, Ollama's /v1, LM Studio, vLLM, OpenRouter) or `anthropic` (Messages). */
    provider: 'openai' as 'openai' | 'anthropic',
    base_url: 'http://127.0.0.1:11434/v1',
    model: 'llava:13b',
    /** The API key is read from this environment variable, never stored or logged. */
    api_key_env: 'OPENAI_API_KEY',
    /** USD per million tokens; cost = usage × price. */
    price_per_mtok: { input: 0, output: 0 },
    /** Total spend cap in USD; no request is sent that could exceed it. */
    budget_usd: 5,
    /** Tag categories the model is asked for. */
    categories: ['style', 'mood', 'subject', 'color', 'composition'] as string[],
    /** Requests in flight at once. */
    concurrency: 2,
  },
  events: {
    /** `file` (default) or `redis`; USE_REDIS_EVENTS=true selects redis. */
    backend: 'file' as 'file' | 'redis',
    redis_url: 'redis://127.0.0.1:6379',
    stream: 'alice:events',
    max_len: 1_000_000,
    retention_days: 30,
  },
  agent: {
    /** Control socket, relative to ALICE_HOME. */
    socket: 'agent.sock',
    status_file: 'status.json',
    status_interval_s: 5,
    /** The status heartbeat is stale after this many seconds. */
    stale_after_s: 30,
  },
  logging: {
    level: 'info' as 'error' | 'warn' | 'info' | 'debug',
    dir: 'logs',
    max_days: 14,
    max_size_mb: 20,
  },
  mcp: {
    max_results: 100,
    thumbnails: 4,
    thumbnail_px: 256,
  },
  serve: {
    /** The agent (`alice watch`) also serves the web page, as `alice serve` does. */
    enabled: false,
    port: 7878,
    /**
     * Address to bind instead of 127.0.0.1 and ::1 (e.g. `0.0.0.0` or a LAN address). Needs a token
     * in the environment variable named by `token_env`; every request without it is refused.
     */
    host: null as string | null,
    /** Environment variable holding the access token required when `host` is set. */
    token_env: 'ALICE_SERVE_TOKEN',
    /** Thumbnails made at once (sharp/ffmpeg); more wait in a bounded queue. */
    thumbnail_concurrency: 2,
  },
};

export type Settings = typeof DEFAULT_SETTINGS;
