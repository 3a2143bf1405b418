/**
 * File watching behind one port: native (@parcel/watcher: inotify/FSEvents, coalescing) or polling
 * (chokidar with usePolling, for network and FUSE mounts). Callers get plain path events and a
 * close function; neither library's objects leak out.
 */
import path from 'node:path';
import type { AsyncSubscription } from '@parcel/watcher';
import { errorMessage } from '../domain/errors.js';

export type RawEventKind = 'create' | 'update' | 'delete';

export interface RawEvent {
  readonly kind: RawEventKind;
  readonly path: string;
}

export interface WatchHandle {
  readonly backend: 'native' | 'poll';
  close(): Promise<void>;
}

export interface WatchOptions {
  backend: 'native' | 'poll';
  pollIntervalMs: number;
  /** True for directory names alice never descends into (.metadata, hidden folders). */
  ignoreDir: (name: string) => boolean;
  onEvents: (events: RawEvent[]) => void;
  onError: (err: Error) => void;
}

/** Thrown when the kernel's inotify watch limit is reached. */
export class WatchLimitError extends Error {
  readonly code = 'EWATCHLIMIT';
  constructor(root: string, cause: unknown) {
    super(`inotify watch limit reached while watching ${root}: ${errorMessage(cause)}`);
  }
}

function isLimitError(err: unknown): boolean {
  const msg = errorMessage(err);
  return /ENOSPC|No space left on device|inotify.*limit|too many open files|EMFILE/i.test(msg);
}

function ignoredByName(p: string, root: string, ignoreDir: (n: string) => boolean): boolean {
  const rel = path.relative(root, p);
  if (rel === '' || rel.startsWith('..')) return false;
  const parts = rel.split(path.sep);
  return parts.some(ignoreDir);
}

/** The OS's own watcher backend (inotify, FSEvents, Windows): no watchman probe. */
const NATIVE_BACKEND: 'inotify' | 'fs-events' | 'windows' | undefined =
  process.platform === 'linux'
    ? 'inotify'
    : process.platform === 'darwin'
      ? 'fs-events'
      : process.platform === 'win32'
        ? 'windows'
        : undefined;

async function watchNative(root: string, opts: WatchOptions): Promise<WatchHandle> {
  let sub: AsyncSubscription;
  try {
    // Loaded when a watch starts: the commands that never watch start faster without them.
    const { default: parcel } = await import('@parcel/watcher');
    sub = await parcel.subscribe(
      root,
      (err, events) => {
        if (err !== null) {
          opts.onError(isLimitError(err) ? new WatchLimitError(root, err) : err);
          return;
        }
        const out = events
          .filter((e) => !ignoredByName(e.path, root, opts.ignoreDir))
          .map((e) => ({ kind: e.type, path: e.path }));
        if (out.length > 0) opts.onEvents(out);
      },
      {
        ignore: ['.metadata', '.alice', '**/.metadata/**', '**/.alice/**'],
        // Named, never 'default': the default first probes watchman through popen() and, when
        // watchman is not installed, never reaps that shell (a zombie `[sh] <defunct>` child).
        ...(NATIVE_BACKEND === undefined ? {} : { backend: NATIVE_BACKEND }),
      },
    );
  } catch (err) {
    if (isLimitError(err)) throw new WatchLimitError(root, err);
    throw err;
  }
  return { backend: 'native', close: () => sub.unsubscribe() };
}

async function watchPoll(root: string, opts: WatchOptions): Promise<WatchHandle> {
  const { watch: chokidarWatch } = await import('chokidar');
  const watcher = chokidarWatch(root, {
    usePolling: true,
    interval: opts.pollIntervalMs,
    binaryInterval: opts.pollIntervalMs,
    ignoreInitial: true,
    followSymlinks: false,
    persistent: true,
    ignored: (p: string) => ignoredByName(p, root, opts.ignoreDir),
  });
  const push = (kind: RawEventKind) => (p: string) => opts.onEvents([{ kind, path: p }]);
  watcher.on('add', push('create'));
  watcher.on('addDir', push('create'));
  watcher.on('change', push('update'));
  watcher.on('unlink', push('delete'));
  watcher.on('unlinkDir', push('delete'));
  watcher.on('error', (err: unknown) => opts.onError(err instanceof Error ? err : new Error(String(err))));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { backend: 'poll', close: () => watcher.close() };
}

/** Starts watching `root` recursively with the chosen backend. */
export function watchTree(root: string, opts: WatchOptions): Promise<WatchHandle> {
  return opts.backend === 'native' ? watchNative(root, opts) : watchPoll(root, opts);
}
