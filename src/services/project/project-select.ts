/**
 * `project select`. A selection records the asset's content hash with the
 * reason, so it survives moves and renames in the library; the file itself is placed in
 * `selected/` as a hard link (no extra space) or, across file systems, as a verified copy.
 */
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../../adapters/hash.adapter.js';
import { AliceError, ErrorCode, errnoCode } from '../../domain/errors.js';
import { ProjectDir, isProjectCopyPath, selectedFileName, type Selection } from '../../domain/project.js';
import { ProjectService, type CallerOptions, type ProjectDeps } from './project.service.js';
import {
  readProjectFile,
  readSelections,
  touchProjectFile,
  writeSelections,
  type ProjectHandle,
} from './project-store.js';

/** errno codes after which a hard link cannot work here and a copy is made instead. */
const LINK_FALLBACK: ReadonlySet<string | undefined> = new Set([
  'EXDEV',
  'EPERM',
  'ENOTSUP',
  'EMLINK',
  'EOPNOTSUPP',
]);

export interface SelectItem {
  ref: string;
  content_hash: string;
  status: 'selected' | 'already_selected';
  /** Name inside `selected/`. */
  file_name: string;
  /** `link` (hard link), `copy`, `existing` (the file was already there) or `none` (no-op). */
  placed: 'link' | 'copy' | 'existing' | 'none';
  source_path: string | null;
  indexed: boolean;
}

export interface SelectResult {
  name: string;
  path: string;
  selected: number;
  already_selected: number;
  results: SelectItem[];
}

interface Wanted {
  ref: string;
  asset: string;
  byteHash: string;
  indexed: boolean;
  file: string | undefined;
}

/** Resolves a ref to the asset's content hash; a hash must be known to the index. */
async function resolveRef(deps: ProjectDeps, ref: string, opts: CallerOptions): Promise<Wanted> {
  let r;
  try {
    r = await deps.assets.resolve(ref, { cwd: opts.cwd, confineToRoots: opts.remote });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOTFILE' || code === 'EISDIR')
      throw new AliceError(ErrorCode.INVALID_INPUT, `not a file: ${ref}`, {
        hint: 'select files, not folders',
      });
    throw err;
  }
  if (r.contentHash === undefined || (r.path === undefined && !r.indexed)) {
    throw new AliceError(ErrorCode.NOT_FOUND, `content hash not in the library: ${ref}`, {
      hint: 'run `alice index update`, or give the path of the file',
    });
  }
  return { ref, asset: r.contentHash, byteHash: r.byteHash, indexed: r.indexed, file: r.path };
}

/** A readable library file holding the asset, preferring originals over project copies. */
async function sourceOf(deps: ProjectDeps, w: Wanted, copyRoots: readonly string[]): Promise<Wanted> {
  if (w.file !== undefined) return w;
  const locations = (await deps.repo.locationsOf(w.asset)).filter((l) => l.present);
  locations.sort(
    (a, b) => Number(isProjectCopyPath(a.path, copyRoots)) - Number(isProjectCopyPath(b.path, copyRoots)),
  );
  for (const l of locations) {
    try {
      const st = await fs.stat(l.path);
      if (st.size === l.size && st.mtimeMs === l.mtime_ms)
        return { ...w, file: l.path, byteHash: l.byte_hash };
      const h = await sha256File(l.path);
      if (h.hash === l.byte_hash) return { ...w, file: l.path, byteHash: l.byte_hash };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  throw new AliceError(ErrorCode.NOT_FOUND, `no readable file holds ${w.asset.slice(0, 12)}… any more`, {
    hint: 'run `alice index update`; the file may have been moved outside the roots or deleted',
  });
}

async function holdsContent(file: string, src: string, byteHash: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.stat(file), fs.stat(src)]);
  if (a.dev === b.dev && a.ino === b.ino) return true;
  return a.isFile() && (await sha256File(file)).hash === byteHash;
}

/** Places `src` in `dir` under its own name (or a disambiguated one); never overwrites. */
async function place(
  src: string,
  dir: string,
  w: Wanted,
): Promise<{ fileName: string; placed: 'link' | 'copy' | 'existing' }> {
  await fs.mkdir(dir, { recursive: true });
  const names = await fs.readdir(dir);
  const original = path.basename(src);
  const same = names.find((n) => n.toLowerCase() === original.toLowerCase());
  if (same !== undefined && (await holdsContent(path.join(dir, same), src, w.byteHash)))
    return { fileName: same, placed: 'existing' };
  const fileName = selectedFileName(original, w.asset, new Set(names.map((n) => n.toLowerCase())));
  const dest = path.join(dir, fileName);
  try {
    await fs.link(src, dest);
    return { fileName, placed: 'link' };
  } catch (err) {
    if (!LINK_FALLBACK.has(errnoCode(err))) throw err;
  }
  await fs.copyFile(src, dest, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE);
  if ((await sha256File(dest)).hash !== w.byteHash) {
    await fs.rm(dest, { force: true });
    throw new AliceError(ErrorCode.INVALID_INPUT, `${src} changed while it was copied`, {
      hint: 'try again',
    });
  }
  return { fileName, placed: 'copy' };
}

interface SelectRun {
  readonly h: ProjectHandle;
  readonly copyRoots: readonly string[];
  readonly opts: { why: string; role?: string | undefined };
  readonly now: Date;
  /** Selections so far (grows as refs are selected, so a repeated ref is a no-op). */
  readonly selections: Selection[];
  /** Files this call placed in selected/, removed again if the call fails. */
  readonly placedFiles: string[];
}

async function selectOne(deps: ProjectDeps, run: SelectRun, w0: Wanted): Promise<SelectItem> {
  const prior = run.selections.find((s) => s.content_hash === w0.asset || s.content_hash === w0.byteHash);
  if (prior !== undefined) return item(w0, 'already_selected', prior.file_name, 'none', prior.source_path);
  const w = await sourceOf(deps, w0, run.copyRoots);
  const src = w.file as string;
  const selectedDir = path.join(run.h.dir, ProjectDir.SELECTED);
  const placed = await place(src, selectedDir, w);
  if (placed.placed !== 'existing') run.placedFiles.push(path.join(selectedDir, placed.fileName));
  run.selections.push(newSelection(w, src, placed.fileName, run.opts, run.now));
  return item(w, 'selected', placed.fileName, placed.placed, src);
}

/** Selects assets into a project; content already selected is reported and left alone. */
export async function selectAssets(
  deps: ProjectDeps,
  name: string,
  refs: readonly string[],
  opts: CallerOptions & { why: string; role?: string | undefined },
): Promise<SelectResult> {
  const svc = new ProjectService(deps);
  const h = await svc.locate(name, opts);
  const { text } = await readProjectFile(h);
  const loaded = await readSelections(h);
  // Every ref is resolved before anything is placed, so a bad ref changes nothing.
  const wanted: Wanted[] = [];
  for (const ref of refs) wanted.push(await resolveRef(deps, ref, opts));
  const run: SelectRun = {
    h,
    copyRoots: svc.copyRoots(h),
    opts,
    now: deps.clock.now(),
    selections: [...loaded.data.selections],
    placedFiles: [],
  };
  const results: SelectItem[] = [];
  try {
    for (const w of wanted) results.push(await selectOne(deps, run, w));
    if (results.some((r) => r.status === 'selected'))
      await writeSelections(h, loaded, { ...loaded.data, selections: run.selections });
  } catch (err) {
    // Nothing was recorded: take back the files placed by this call.
    for (const f of run.placedFiles) await fs.rm(f, { force: true });
    throw err;
  }
  if (results.some((r) => r.status === 'selected')) await touchProjectFile(h, text, run.now);
  const result = summarise(h, results);
  await svc.log(h, 'select', { refs, why: opts.why, role: opts.role ?? null }, resultLog(result));
  return result;
}

function newSelection(
  w: Wanted,
  src: string,
  fileName: string,
  opts: { why: string; role?: string | undefined },
  now: Date,
): Selection {
  return {
    content_hash: w.asset,
    reason: opts.why,
    role: opts.role ?? null,
    selected_at: now.toISOString(),
    source_path: src,
    file_name: fileName,
  };
}

function item(
  w: Wanted,
  status: SelectItem['status'],
  fileName: string,
  placed: SelectItem['placed'],
  source: string | null,
): SelectItem {
  return {
    ref: w.ref,
    content_hash: w.asset,
    status,
    file_name: fileName,
    placed,
    source_path: source,
    indexed: w.indexed,
  };
}

function summarise(h: ProjectHandle, results: SelectItem[]): SelectResult {
  const selected = results.filter((r) => r.status === 'selected').length;
  return { name: h.name, path: h.dir, selected, already_selected: results.length - selected, results };
}

function resultLog(r: SelectResult): Record<string, unknown> {
  return {
    selected: r.selected,
    already_selected: r.already_selected,
    items: r.results.map((i) => ({ content_hash: i.content_hash, status: i.status, file_name: i.file_name })),
  };
}
