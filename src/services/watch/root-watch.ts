/**
 * Per-root watching state: which backend, whether the root is online, and its device id (a
 * different device under the same path means a disk was unmounted or remounted).
 */
import type { RootConfig } from '../../config/config.js';
import { errnoCode, errorMessage } from '../../domain/errors.js';
import type { StatPort } from '../../ports.js';
import type { RootStatus } from './status.service.js';

export interface WatchHandlePort {
  readonly backend: 'native' | 'poll';
  close(): Promise<void>;
}

export interface RootWatch {
  readonly root: RootConfig;
  handle: WatchHandlePort | undefined;
  online: boolean;
  dev: number | undefined;
  degraded: string | undefined;
}

export interface RootProbe {
  online: boolean;
  dev: number | undefined;
  /** Why it is offline (for `root.offline`). */
  reason?: string;
}

/** A root is online when it is a reachable folder; any error reaching it means offline, not missing. */
export async function probeRoot(files: StatPort, path: string): Promise<RootProbe> {
  try {
    const st = await files.stat(path);
    if (st === undefined) return { online: false, dev: undefined, reason: 'the folder does not exist' };
    return st.isDirectory
      ? { online: true, dev: st.dev }
      : { online: false, dev: undefined, reason: 'not a folder' };
  } catch (err) {
    return {
      online: false,
      dev: undefined,
      reason: `cannot reach the folder (${errnoCode(err) ?? errorMessage(err)})`,
    };
  }
}

export function rootStatus(w: RootWatch): RootStatus {
  const s: RootStatus = {
    path: w.root.path,
    kind: w.root.kind,
    state: !w.online ? 'offline' : w.handle?.backend === 'poll' ? 'polling' : 'watching',
    backend: w.handle?.backend ?? null,
  };
  if (w.degraded !== undefined) s.note = w.degraded;
  return s;
}

export const INOTIFY_HINT =
  'the inotify watch limit is reached; raise it with `sudo sysctl fs.inotify.max_user_watches=524288` ' +
  '(persist it in /etc/sysctl.d/60-alice.conf); this root is polled until then';
