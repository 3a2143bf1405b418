/**
 * Per-root watching state: which backend, whether the root is online, and its device id (a
 * different device under the same path means a disk was unmounted or remounted).
 */
import type { RootConfig } from '../../config/config.js';
import fs from 'node:fs/promises';
import { errnoCode } from '../../domain/errors.js';
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
  /** The root folder's inode: another one at the same path means the folder was replaced. */
  ino?: number | undefined;
  /** Why it is offline (shown in status). */
  reason?: string | undefined;
  /** What the cheap periodic check saw last, so an unchanged offline root is not re-judged. */
  lastSeen?: string;
  degraded: string | undefined;
}

/**
 * The periodic cheap check: the root folder's device and inode and whether its marker is there
 * (two stats). A change means the root must be judged again.
 */
export async function glanceRoot(root: string, marker: string): Promise<string> {
  try {
    const st = await fs.stat(root);
    const hasMarker = await fs.stat(`${root}/${marker}`).then(
      () => true,
      () => false,
    );
    // Without a marker, whether the folder is empty decides too (a folder re-created empty and
    // then filled is judged again once it has files).
    const filled = hasMarker ? '' : (await fs.readdir(root)).length > 0 ? ':filled' : ':empty';
    return `${st.dev}:${st.ino}:${hasMarker ? 'marker' : 'no-marker'}${filled}`;
  } catch (err) {
    return `unreachable:${errnoCode(err) ?? ''}`;
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
  if (!w.online && w.reason !== undefined) s.reason = w.reason;
  return s;
}

export const INOTIFY_HINT =
  'the inotify watch limit is reached; raise it with `sudo sysctl fs.inotify.max_user_watches=524288` ' +
  '(persist it in /etc/sysctl.d/60-alice.conf); this root is polled until then';
