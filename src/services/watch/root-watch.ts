/**
 * Per-root watching state: which backend, whether the root is online, and its device id (a
 * different device under the same path means a disk was unmounted or remounted).
 */
import fs from 'node:fs/promises';
import type { RootConfig } from '../../config/config.js';
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

export async function probeRoot(path: string): Promise<{ online: boolean; dev: number | undefined }> {
  try {
    const st = await fs.stat(path);
    return { online: st.isDirectory(), dev: st.isDirectory() ? st.dev : undefined };
  } catch {
    return { online: false, dev: undefined };
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
