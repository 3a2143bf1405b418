/**
 * Projects use cases: create, list, show, verify, and (in their own files) select/unselect and
 * export. A project is found by name in the configured project roots (or below `--path`). Every
 * operation on a project appends a line to its session log.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import type { LocationRow } from '../../adapters/index/rows.js';
import type { RootConfig } from '../../config/config.js';
import { isInside } from '../../config/paths.js';
import { exists } from '../../adapters/fs.adapter.js';
import { AliceError, ErrorCode, errnoCode, errorMessage } from '../../domain/errors.js';
import { isIgnoredDir, isIgnoredName } from '../../domain/media.js';
import {
  PROJECT_FILE,
  ProjectDir,
  isProjectCopyPath,
  newProjectFile,
  validateProjectName,
  type ProjectFile,
  type Selection,
} from '../../domain/project.js';
import type { AssetsService } from '../search/assets.service.js';
import type { Clock } from '../../ports.js';
import {
  appendSession,
  createProjectFolder,
  projectFoldersIn,
  readProjectFile,
  readSelections,
  type ProjectHandle,
} from './project-store.js';

/** How many in-place edits a selection follows (`derived_from` links) before it calls the content missing. */
const MAX_EDIT_CHAIN = 50;

export interface ProjectDeps {
  readonly roots: readonly RootConfig[];
  readonly repo: AssetRepository;
  readonly assets: AssetsService;
  readonly clock: Clock;
}

/** Who is calling: relative paths resolve against `cwd`; remote callers are confined to the roots. */
export interface CallerOptions {
  readonly cwd: string;
  readonly remote: boolean;
  /** Folder holding the project, instead of the configured project roots. */
  readonly path?: string | undefined;
}

/** A selection with what the library knows about its content now. */
export interface SelectionView extends Selection {
  /** The asset the content belongs to (an alias resolves to its asset). */
  asset_hash: string;
  indexed: boolean;
  /** True while the content has a present location outside project copies (`selected/`, `exports/`). */
  in_library: boolean;
  library_paths: string[];
  /** True when `selected/<file_name>` still exists. */
  in_selected: boolean;
  /**
   * Another program changed the content since it was selected (a new asset `derived_from` it):
   * the selection follows the edited version, whose paths are then in `library_paths`.
   */
  edited_since_selected: string | null;
}

export interface ProjectSummary {
  name: string;
  path: string;
  status: string | null;
  description: string | null;
  created: string | null;
  updated: string | null;
  selections: number | null;
  /** Set when project.yaml or selections.json cannot be read; the others are then null. */
  error: string | null;
}

export interface ProjectShow {
  name: string;
  path: string;
  project: ProjectFile;
  counts: { selections: number; missing: number; selected_files: number; created_files: number };
  selections: SelectionView[];
}

export interface ProjectVerify {
  name: string;
  path: string;
  checked: number;
  missing: SelectionView[];
  ok: boolean;
}

/** Throws OUTSIDE_ROOTS when a remote caller names a path outside every configured root. */
export function confine(roots: readonly RootConfig[], p: string, remote: boolean): string {
  if (remote && !roots.some((r) => isInside(p, r.path))) {
    throw new AliceError(ErrorCode.OUTSIDE_ROOTS, `path is outside the configured roots: ${p}`, {
      hint: 'through the agent, only folders below storage.asset_paths or storage.project_paths can be used',
    });
  }
  return p;
}

export class ProjectService {
  constructor(private readonly deps: ProjectDeps) {}

  private projectRoots(): string[] {
    return this.deps.roots.filter((r) => r.kind === 'project').map((r) => r.path);
  }

  /** Finds an existing project by name. */
  async locate(name: string, opts: CallerOptions): Promise<ProjectHandle> {
    const valid = validateProjectName(name);
    const parents =
      opts.path === undefined
        ? this.projectRoots()
        : [confine(this.deps.roots, path.resolve(opts.cwd, opts.path), opts.remote)];
    for (const parent of parents) {
      const dir = path.join(parent, valid);
      try {
        await fs.access(path.join(dir, PROJECT_FILE));
        return { name: valid, dir, parent };
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
      }
    }
    throw new AliceError(ErrorCode.PROJECT_NOT_FOUND, `no project named ${JSON.stringify(valid)}`, {
      hint:
        parents.length === 0
          ? 'no storage.project_paths configured: add one, or pass --path'
          : `looked in ${parents.join(', ')}; see \`alice project list\``,
    });
  }

  /** Paths that count as project copies when deciding whether content is still in the library. */
  copyRoots(project?: ProjectHandle): string[] {
    const roots = this.projectRoots();
    return project === undefined || roots.includes(project.parent) ? roots : [...roots, project.parent];
  }

  async create(
    name: string,
    opts: CallerOptions & { description?: string | undefined },
  ): Promise<{ name: string; path: string; project: ProjectFile; warnings: string[] }> {
    const valid = validateProjectName(name);
    const roots = this.projectRoots();
    const parentDir =
      opts.path === undefined
        ? roots[0]
        : confine(this.deps.roots, path.resolve(opts.cwd, opts.path), opts.remote);
    if (parentDir === undefined) {
      throw new AliceError(ErrorCode.PROJECT_INVALID, 'no storage.project_paths configured', {
        hint: 'add a folder to storage.project_paths in the settings, or pass --path',
      });
    }
    const warnings: string[] = [];
    if (!roots.includes(parentDir)) {
      warnings.push(
        `${parentDir} is not in storage.project_paths: the project is not indexed or listed there`,
      );
    }
    const handle = { name: valid, dir: path.join(parentDir, valid), parent: parentDir };
    const now = this.deps.clock.now();
    const file = newProjectFile(valid, opts.description ?? '', now);
    await createProjectFolder(handle, file);
    await this.log(handle, 'create', { name: valid, description: file.description }, { path: handle.dir });
    return { name: valid, path: handle.dir, project: file, warnings };
  }

  async list(): Promise<ProjectSummary[]> {
    const out: ProjectSummary[] = [];
    for (const parent of this.projectRoots()) {
      for (const name of await projectFoldersIn(parent)) {
        out.push(await this.summary({ name, dir: path.join(parent, name), parent }));
      }
    }
    return out;
  }

  private async summary(h: ProjectHandle): Promise<ProjectSummary> {
    try {
      const { file } = await readProjectFile(h);
      const sel = await readSelections(h);
      return {
        name: h.name,
        path: h.dir,
        status: file.status,
        description: file.description,
        created: file.created,
        updated: file.updated,
        selections: sel.data.selections.length,
        error: null,
      };
    } catch (err) {
      const detail =
        err instanceof AliceError && err.details.length > 0 ? ` (${err.details.join('; ')})` : '';
      const base = {
        name: h.name,
        path: h.dir,
        status: null,
        description: null,
        created: null,
        updated: null,
      };
      return { ...base, selections: null, error: `${errorMessage(err)}${detail}` };
    }
  }

  /** What the library knows about each selection's content now. */
  async viewSelections(h: ProjectHandle, selections: readonly Selection[]): Promise<SelectionView[]> {
    const copyRoots = this.copyRoots(h);
    const out: SelectionView[] = [];
    for (const s of selections) {
      const asset = await this.deps.repo.resolveHash(s.content_hash);
      const locations = asset === undefined ? [] : await this.deps.repo.locationsOf(asset);
      let library = locations.filter((l) => l.present && !isProjectCopyPath(l.path, copyRoots));
      let edited: string | null = null;
      if (library.length === 0 && asset !== undefined) {
        const found = await this.editedVersion(asset, copyRoots);
        if (found !== undefined) [edited, library] = [found.hash, found.paths];
      }
      out.push({
        ...s,
        asset_hash: asset ?? s.content_hash,
        indexed: asset !== undefined,
        in_library: library.length > 0,
        library_paths: library.map((l) => l.path),
        edited_since_selected: edited,
        in_selected: await exists(path.join(h.dir, ProjectDir.SELECTED, s.file_name)),
      });
    }
    return out;
  }

  /**
   * The newest version of edited content that has a library path: edits chain (`derived_from` of
   * `derived_from`: edited twice, the middle version is gone too), newest edit first, breadth first.
   */
  private async editedVersion(
    asset: string,
    copyRoots: readonly string[],
  ): Promise<{ hash: string; paths: LocationRow[] } | undefined> {
    const seen = new Set([asset]);
    let level = [asset];
    for (let depth = 0; depth < MAX_EDIT_CHAIN && level.length > 0; depth++) {
      const next: string[] = [];
      for (const h of level) {
        for (const d of await this.deps.repo.derivedFrom(h)) {
          if (seen.has(d)) continue;
          seen.add(d);
          const paths = (await this.deps.repo.locationsOf(d)).filter(
            (l) => l.present && !isProjectCopyPath(l.path, copyRoots),
          );
          if (paths.length > 0) return { hash: d, paths };
          next.push(d);
        }
      }
      level = next;
    }
    return undefined;
  }

  async show(name: string, opts: CallerOptions): Promise<ProjectShow> {
    const h = await this.locate(name, opts);
    const { file } = await readProjectFile(h);
    const { data } = await readSelections(h);
    const selections = await this.viewSelections(h, data.selections);
    const counts = {
      selections: selections.length,
      missing: selections.filter((s) => !s.in_library).length,
      selected_files: await countFiles(path.join(h.dir, ProjectDir.SELECTED)),
      created_files: await countFiles(path.join(h.dir, ProjectDir.CREATED)),
    };
    await this.log(h, 'show', { name: h.name }, counts);
    return { name: h.name, path: h.dir, project: file, counts, selections };
  }

  async verify(name: string, opts: CallerOptions): Promise<ProjectVerify> {
    const h = await this.locate(name, opts);
    await readProjectFile(h);
    const { data } = await readSelections(h);
    const views = await this.viewSelections(h, data.selections);
    const missing = views.filter((s) => !s.in_library);
    await this.log(
      h,
      'verify',
      { name: h.name },
      { checked: views.length, missing: missing.map((s) => s.content_hash) },
    );
    return { name: h.name, path: h.dir, checked: views.length, missing, ok: missing.length === 0 };
  }

  /** Appends one line to the project's session log. */
  log(
    h: ProjectHandle,
    op: string,
    args: Record<string, unknown>,
    result: Record<string, unknown>,
  ): Promise<void> {
    const now = this.deps.clock.now();
    return appendSession(h, { op, time: now.toISOString(), args, result }, now);
  }
}

/** Files below `dir`, hidden and temp files left out. */
async function countFiles(dir: string): Promise<number> {
  let n = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
  for (const e of entries) {
    if (e.isDirectory()) n += isIgnoredDir(e.name) ? 0 : await countFiles(path.join(dir, e.name));
    else if (!isIgnoredName(e.name)) n++;
  }
  return n;
}
