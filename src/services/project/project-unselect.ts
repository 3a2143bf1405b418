/**
 * `project unselect`: removes selections, and their file in `selected/` only while that file still
 * holds the selected content (a file the user replaced is never deleted).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../../adapters/hash.adapter.js';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import { ProjectDir, type Selection } from '../../domain/project.js';
import { exists } from '../../adapters/fs.adapter.js';
import { confine, ProjectService, type CallerOptions, type ProjectDeps } from './project.service.js';
import {
  readProjectFile,
  readSelections,
  touchProjectFile,
  writeSelections,
  type ProjectHandle,
} from './project-store.js';

export interface UnselectItem {
  ref: string;
  content_hash: string | null;
  status: 'unselected' | 'not_selected';
  /** True when `selected/<file_name>` held this content and was removed. */
  file_removed: boolean;
}

/** The selection a ref names: a hash (prefix) of a selection, its original path, or a file's content. */
async function findSelection(
  deps: ProjectDeps,
  selections: readonly Selection[],
  ref: string,
  opts: CallerOptions,
): Promise<Selection | undefined> {
  const lower = ref.toLowerCase();
  if (/^[0-9a-f]{8,64}$/.test(lower)) {
    const hits = selections.filter((s) => s.content_hash.startsWith(lower));
    if (hits.length > 1)
      throw new AliceError(ErrorCode.INVALID_INPUT, `hash prefix ${ref} is ambiguous`, {
        hint: 'give more hex digits',
      });
    if (hits[0] !== undefined) return hits[0];
  }
  const abs = confine(
    deps.roots,
    path.resolve(opts.cwd, ref),
    opts.remote && !/^[0-9a-f]{8,64}$/.test(lower),
  );
  const byPath = selections.find((s) => s.source_path === abs);
  if (byPath !== undefined) return byPath;
  const r = await deps.assets.resolve(ref, { cwd: opts.cwd, confineToRoots: opts.remote });
  return selections.find((s) => s.content_hash === r.contentHash || s.content_hash === r.byteHash);
}

/** Removes selections, and their file in `selected/` when it still holds that content. */
export async function unselectAssets(
  deps: ProjectDeps,
  name: string,
  refs: readonly string[],
  opts: CallerOptions,
): Promise<{ name: string; path: string; unselected: number; results: UnselectItem[] }> {
  const svc = new ProjectService(deps);
  const h = await svc.locate(name, opts);
  const { text } = await readProjectFile(h);
  const loaded = await readSelections(h);
  const drop = new Map<Selection, UnselectItem>();
  const results: UnselectItem[] = [];
  for (const ref of refs) {
    const s = await findSelection(deps, loaded.data.selections, ref, opts);
    const found = s !== undefined && !drop.has(s);
    const r: UnselectItem = {
      ref,
      content_hash: s?.content_hash ?? null,
      status: found ? 'unselected' : 'not_selected',
      file_removed: false,
    };
    if (found) drop.set(s, r);
    results.push(r);
  }
  const keep = loaded.data.selections.filter((s) => !drop.has(s));
  if (drop.size > 0) {
    await writeSelections(h, loaded, { ...loaded.data, selections: keep });
    await touchProjectFile(h, text, deps.clock.now());
  }
  for (const [s, r] of drop) {
    // A hand-edited file may name one file twice: keep it while a selection still uses it.
    if (!keep.some((k) => k.file_name === s.file_name)) r.file_removed = await removeIfSame(deps, h, s);
  }
  const out = { name: h.name, path: h.dir, unselected: drop.size, results };
  await svc.log(h, 'unselect', { refs }, { unselected: drop.size, items: results });
  return out;
}

async function removeIfSame(deps: ProjectDeps, h: ProjectHandle, s: Selection): Promise<boolean> {
  const file = path.join(h.dir, ProjectDir.SELECTED, s.file_name);
  if (!(await exists(file))) return false;
  const st = await fs.lstat(file);
  if (!st.isFile()) return false;
  const hash = (await sha256File(file)).hash;
  if (hash !== s.content_hash && (await deps.repo.resolveHash(hash)) !== s.content_hash) return false;
  await fs.rm(file);
  return true;
}
