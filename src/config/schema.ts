/** zod schema of the settings file. Every object is strict: unknown keys are errors. */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const ratio = z.number().gt(0).lte(1);
const pathList = z.array(z.string().min(1));

export const settingsSchema = z
  .strictObject({
    storage: z
      .strictObject({
        search_db: z.string().min(1),
        index_memory_limit: z
          .string()
          .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'a size such as 128MB or 1GB'),
        asset_paths: pathList,
        project_paths: pathList,
      })
      .partial(),
    watch: z
      .strictObject({
        backend: z.enum(['auto', 'native', 'poll']),
        poll_paths: pathList,
        poll_interval_ms: positiveInt,
        debounce_ms: z.number().int().nonnegative(),
        settle_ms: z.number().int().nonnegative(),
        incomplete_wait_s: z.number().nonnegative(),
        move_grace_s: z.number().nonnegative(),
        reconcile_cron: z.string(),
        mass_delete_ratio: ratio,
      })
      .partial(),
    pipeline: z
      .strictObject({
        hash_concurrency: positiveInt,
        analyse_concurrency: positiveInt,
        batch_size: positiveInt,
        // Accepted and ignored: earlier versions documented them but nothing ever read them, and
        // older settings files may still set them.
        embed_concurrency: positiveInt,
        batch_ms: positiveInt,
      })
      .partial(),
    verify: z
      .strictObject({
        cron: z.string(),
        budget_minutes: z.number().positive(),
        cycle_days: z.number().positive(),
        consistency_cron: z.string(),
        sample_ratio: ratio,
      })
      .partial(),
    embedding: z
      .strictObject({
        enabled: z.boolean(),
        disabled_formats: z.array(z.string()),
        preserve_mtime: z.boolean(),
      })
      .partial(),
    tagging: z.strictObject({ vocabulary: z.string().nullable(), from_prompt: z.boolean() }).partial(),
    understanding: z
      .strictObject({
        enabled: z.boolean(),
        provider: z.enum(['openai', 'anthropic']),
        base_url: z.string().regex(/^https?:\/\//, 'must start with http:// or https://'),
        model: z.string().min(1),
        api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
        price_per_mtok: z.strictObject({ input: z.number().nonnegative(), output: z.number().nonnegative() }),
        budget_usd: z.number().nonnegative(),
        categories: z.array(z.string().regex(/^[a-z0-9_-]+$/i, 'letters, digits, _ or -')).min(1),
        concurrency: positiveInt,
      })
      .partial(),
    events: z
      .strictObject({
        backend: z.enum(['file', 'redis']),
        redis_url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://'),
        stream: z.string().min(1),
        max_len: positiveInt,
        retention_days: positiveInt,
      })
      .partial(),
    agent: z
      .strictObject({
        socket: z.string().min(1),
        status_file: z.string().min(1),
        status_interval_s: z.number().positive(),
        stale_after_s: z.number().positive(),
      })
      .partial(),
    logging: z
      .strictObject({
        level: z.enum(['error', 'warn', 'info', 'debug']),
        dir: z.string().min(1),
        max_days: positiveInt,
        max_size_mb: positiveInt,
      })
      .partial(),
    mcp: z
      .strictObject({
        max_results: positiveInt,
        thumbnails: z.number().int().nonnegative(),
        thumbnail_px: positiveInt,
      })
      .partial(),
    serve: z
      .strictObject({
        enabled: z.boolean(),
        port: z.number().int().min(0).max(65535),
        host: z.string().min(1).nullable(),
        token_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
        thumbnail_concurrency: positiveInt,
      })
      .partial(),
  })
  .partial();

export type SettingsInput = z.infer<typeof settingsSchema>;

/** Levenshtein distance, for "did you mean" hints on unknown keys. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(up + 1, (prev[j - 1] ?? 0) + 1, diag + cost);
      diag = up;
    }
  }
  return prev[b.length] ?? 0;
}

export function suggest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}
