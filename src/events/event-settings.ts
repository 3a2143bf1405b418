/** Event backend settings: defaults, and the environment overrides. Pure. */
import { AliceError, ErrorCode } from '../domain/errors.js';

export const EventBackend = { FILE: 'file', REDIS: 'redis' } as const;
export type EventBackend = (typeof EventBackend)[keyof typeof EventBackend];

/** Resolved settings of the events subsystem. */
export interface EventSettings {
  /** `file` (default): daily JSON-lines files under `$ALICE_HOME/events`. `redis`: a Redis stream. */
  readonly backend: EventBackend;
  /** Redis server for the `redis` backend. Env: `REDIS_URL`. */
  readonly redisUrl: string;
  /** Stream key for the `redis` backend. Env: `ALICE_EVENTS_STREAM`. */
  readonly stream: string;
  /** Approximate `MAXLEN` the stream is trimmed to on each `XADD`. */
  readonly maxLen: number;
  /** Daily event files older than this many days are deleted (file backend). */
  readonly retentionDays: number;
}

export const EVENT_SETTINGS_DEFAULTS: EventSettings = Object.freeze({
  backend: EventBackend.FILE,
  redisUrl: 'redis://127.0.0.1:6379',
  stream: 'alice:events',
  maxLen: 1_000_000,
  retentionDays: 30,
});

/** The `events:` section of settings.yaml (snake_case, every key optional). */
export interface EventSettingsInput {
  backend?: string | undefined;
  redis_url?: string | undefined;
  stream?: string | undefined;
  max_len?: number | undefined;
  retention_days?: number | undefined;
}

/**
 * Merges defaults, settings and the environment (env wins): `USE_REDIS_EVENTS=true|false`,
 * `REDIS_URL`, `ALICE_EVENTS_STREAM`. Reports every invalid value at once.
 */
export function eventSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  settings: EventSettingsInput = {},
): EventSettings {
  const problems: string[] = [];
  let backend = settings.backend ?? EVENT_SETTINGS_DEFAULTS.backend;
  const useRedis = env['USE_REDIS_EVENTS']?.trim().toLowerCase();
  if (useRedis === 'true' || useRedis === '1') backend = EventBackend.REDIS;
  else if (useRedis === 'false' || useRedis === '0') backend = EventBackend.FILE;
  else if (useRedis !== undefined && useRedis !== '')
    problems.push(`USE_REDIS_EVENTS: expected true or false, got "${useRedis}"`);
  if (backend !== EventBackend.FILE && backend !== EventBackend.REDIS) {
    problems.push(`events.backend: expected "file" or "redis", got "${backend}"`);
  }
  const redisUrl = nonEmpty(env['REDIS_URL']) ?? settings.redis_url ?? EVENT_SETTINGS_DEFAULTS.redisUrl;
  if (!/^rediss?:\/\//.test(redisUrl))
    problems.push(`REDIS_URL: expected redis://host:port, got "${redisUrl}"`);
  const stream = nonEmpty(env['ALICE_EVENTS_STREAM']) ?? settings.stream ?? EVENT_SETTINGS_DEFAULTS.stream;
  if (stream.trim() === '') problems.push('events.stream: must not be empty');
  const maxLen = settings.max_len ?? EVENT_SETTINGS_DEFAULTS.maxLen;
  if (!Number.isInteger(maxLen) || maxLen < 1)
    problems.push(`events.max_len: expected a positive integer, got ${maxLen}`);
  const retentionDays = settings.retention_days ?? EVENT_SETTINGS_DEFAULTS.retentionDays;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    problems.push(`events.retention_days: expected a positive integer, got ${retentionDays}`);
  }
  if (problems.length > 0) {
    throw new AliceError(ErrorCode.CONFIG_INVALID, 'invalid events settings', { details: problems });
  }
  return Object.freeze({ backend: backend as EventBackend, redisUrl, stream, maxLen, retentionDays });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
