/**
 * Coalescing raw watcher events into a change set. Pure: the latest event for a path wins, paths
 * alice ignores (hidden, temp, partial downloads, `.metadata/`) are dropped, and a path below a
 * folder that is already in the set as a whole is folded into it.
 */
import path from 'node:path';
import { isIgnoredDir, isIgnoredName } from './media.js';

export type ChangeKind = 'create' | 'update' | 'delete';

export interface Change {
  readonly kind: ChangeKind;
  readonly path: string;
}

/** True when a watcher path should reach the pipeline at all. */
export function isRelevantPath(p: string, root: string): boolean {
  const rel = path.relative(root, p);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return false;
  const parts = rel.split(path.sep);
  const name = parts[parts.length - 1] ?? '';
  return !parts.slice(0, -1).some(isIgnoredDir) && !isIgnoredName(name);
}

/** Merges events into `into` (path → latest kind). A create after a delete is an update. */
export function coalesce(into: Map<string, ChangeKind>, events: readonly Change[]): Map<string, ChangeKind> {
  for (const e of events) {
    const prev = into.get(e.path);
    if (prev === 'delete' && e.kind === 'create') into.set(e.path, 'update');
    else if (prev === 'create' && e.kind === 'update') into.set(e.path, 'create');
    else into.set(e.path, e.kind);
  }
  return into;
}

/**
 * The targets a scan must look at: every changed path, minus paths below another changed path
 * (a folder that was created, moved or deleted is walked or compared as a whole).
 */
export function scanTargets(changes: ReadonlyMap<string, ChangeKind>): string[] {
  const sorted = [...changes.keys()].sort();
  const out: string[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && p.startsWith(`${last}${path.sep}`)) continue;
    out.push(p);
  }
  return out;
}
