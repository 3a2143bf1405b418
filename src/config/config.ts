/**
 * Loads settings: file (found via --config, $ALICE_CONFIG, ./settings.yaml, $ALICE_HOME/settings.yaml)
 * + environment, validated at once (every problem reported with its key path), resolved to absolute
 * paths and frozen.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { AliceError, ErrorCode, errnoCode, errorMessage } from '../domain/errors.js';
import { DEFAULT_SETTINGS, type Settings } from './defaults.js';
import { defaultAliceHome, isInside, resolveFrom } from './paths.js';
import { settingsSchema, suggest } from './schema.js';

export type RootKind = 'asset' | 'project';

export interface RootConfig {
  readonly path: string;
  readonly kind: RootKind;
  /** True when the root came from built-in defaults, so alice may create it. */
  readonly isDefault: boolean;
}

export interface Config {
  readonly home: string;
  readonly settingsFile: string | null;
  readonly settings: Settings;
  readonly searchDb: string;
  readonly roots: readonly RootConfig[];
  readonly paths: {
    readonly socket: string;
    readonly status: string;
    readonly logs: string;
    readonly events: string;
    readonly state: string;
  };
}

export interface LoadOptions {
  configFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Validates a cron expression; injected so config stays free of the cron library. */
  isValidCron?: (expr: string) => boolean;
}

function locateSettings(opts: LoadOptions, home: string): string | null {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.configFile !== undefined) return path.resolve(cwd, opts.configFile);
  const fromEnv = env['ALICE_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(cwd, fromEnv);
  for (const candidate of [path.join(cwd, 'settings.yaml'), path.join(home, 'settings.yaml')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

function readSettingsFile(file: string, explicit: boolean): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && explicit) {
      throw new AliceError(ErrorCode.CONFIG_NOT_FOUND, `settings file not found: ${file}`, {
        hint: 'check --config / ALICE_CONFIG, or copy settings.example.yaml',
      });
    }
    throw new AliceError(ErrorCode.CONFIG_INVALID, `cannot read settings file ${file}: ${errorMessage(err)}`);
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new AliceError(ErrorCode.CONFIG_INVALID, `settings file ${file} is not valid YAML`, {
      details: doc.errors.map((e) => e.message.split('\n')[0] ?? e.message),
      hint: 'fix the YAML syntax at the line shown',
    });
  }
  return doc.toJS() ?? {};
}

function keysAt(keyPath: readonly PropertyKey[]): string[] {
  let node: unknown = DEFAULT_SETTINGS;
  for (const k of keyPath) node = (node as Record<string, unknown>)[String(k)];
  return typeof node === 'object' && node !== null ? Object.keys(node) : [];
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const where = issue.path.map(String).join('.') || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const near = suggest(key, keysAt(issue.path));
        const full = [...issue.path.map(String), key].join('.');
        out.push(`${full}: unknown key${near === undefined ? '' : ` (did you mean "${near}"?)`}`);
      }
    } else {
      out.push(`${where}: ${issue.message}`);
    }
  }
  return out;
}

function merge(input: Record<string, Record<string, unknown> | undefined>): Settings {
  const out: Record<string, unknown> = {};
  for (const [section, defaults] of Object.entries(DEFAULT_SETTINGS)) {
    out[section] = { ...defaults, ...(input[section] ?? {}) };
  }
  return out as Settings;
}

function applyEnv(settings: Settings, env: NodeJS.ProcessEnv): Settings {
  const events = { ...settings.events };
  if (env['USE_REDIS_EVENTS'] === 'true') events.backend = 'redis';
  if (env['USE_REDIS_EVENTS'] === 'false') events.backend = 'file';
  if (env['REDIS_URL']) events.redis_url = env['REDIS_URL'];
  if (env['ALICE_EVENTS_STREAM']) events.stream = env['ALICE_EVENTS_STREAM'];
  const logging = { ...settings.logging };
  const level = env['ALICE_LOG_LEVEL'];
  if (level === 'error' || level === 'warn' || level === 'info' || level === 'debug') logging.level = level;
  return { ...settings, events, logging };
}

function checkRoots(roots: readonly RootConfig[], problems: string[]): void {
  roots.forEach((root, i) => {
    const key = `storage.${root.kind}_paths[${roots.filter((r, j) => r.kind === root.kind && j < i).length}]`;
    try {
      if (!fs.statSync(root.path).isDirectory()) problems.push(`${key}: not a directory (${root.path})`);
    } catch {
      // A missing root is offline (unmounted disk), not a settings error.
    }
    roots.forEach((other, j) => {
      if (j <= i) return;
      if (root.path === other.path) problems.push(`${key}: ${root.path} is configured twice`);
      else if (isInside(other.path, root.path) || isInside(root.path, other.path)) {
        problems.push(`${key}: ${root.path} overlaps ${other.path} (one root inside another)`);
      }
    });
  });
}

function checkCron(
  settings: Settings,
  isValid: ((e: string) => boolean) | undefined,
  problems: string[],
): void {
  if (isValid === undefined) return;
  const crons: [string, string][] = [
    ['watch.reconcile_cron', settings.watch.reconcile_cron],
    ['verify.cron', settings.verify.cron],
    ['verify.consistency_cron', settings.verify.consistency_cron],
  ];
  for (const [key, expr] of crons)
    if (!isValid(expr)) problems.push(`${key}: invalid cron expression "${expr}"`);
}

/** Loads, validates and freezes the configuration. Throws CONFIG_INVALID listing every problem. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const home = defaultAliceHome(env);
  const settingsFile = locateSettings(opts, home);
  const explicit = opts.configFile !== undefined || Boolean(env['ALICE_CONFIG']);
  const raw = settingsFile === null ? {} : readSettingsFile(settingsFile, explicit);
  const parsed = settingsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new AliceError(ErrorCode.CONFIG_INVALID, `settings file ${settingsFile ?? ''} has errors`, {
      details: formatIssues(parsed.error.issues),
      hint: 'see settings.example.yaml for every key and its default',
    });
  }
  const settings = applyEnv(merge(parsed.data), env);
  const base = settingsFile === null ? home : path.dirname(settingsFile);
  const storage = parsed.data.storage ?? {};
  const roots: RootConfig[] = [
    ...settings.storage.asset_paths.map((p) => ({
      path: resolveFrom(base, p),
      kind: 'asset' as const,
      isDefault: storage.asset_paths === undefined,
    })),
    ...settings.storage.project_paths.map((p) => ({
      path: resolveFrom(base, p),
      kind: 'project' as const,
      isDefault: storage.project_paths === undefined,
    })),
  ];
  const problems: string[] = [];
  checkRoots(roots, problems);
  checkCron(settings, opts.isValidCron, problems);
  if (problems.length > 0) {
    throw new AliceError(
      ErrorCode.CONFIG_INVALID,
      `settings${settingsFile === null ? '' : ` in ${settingsFile}`} have ${problems.length} problem(s)`,
      {
        details: problems,
        hint: 'fix every line above; alice refuses to start with invalid settings',
      },
    );
  }
  const a = settings.agent;
  const config: Config = {
    home,
    settingsFile,
    settings,
    searchDb: resolveFrom(base, settings.storage.search_db),
    roots,
    paths: {
      socket: resolveFrom(home, a.socket),
      status: resolveFrom(home, a.status_file),
      logs: resolveFrom(home, settings.logging.dir),
      events: path.join(home, 'events'),
      state: path.join(home, 'state'),
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
