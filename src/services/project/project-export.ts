/**
 * `project export`: copies `selected/` and `created/` into `exports/<time>/` (or `--to DIR`) with a
 * `manifest.json` that lists, for each exported file, the SHA-256 of the exported bytes, the
 * library asset, its tags and prompt, and why it was selected.
 */
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { walkFiles, writeFileAtomic } from '../../adapters/fs.adapter.js';
import { sha256File } from '../../adapters/hash.adapter.js';
import { isInside } from '../../config/paths.js';
import { AliceError, ErrorCode, errnoCode } from '../../domain/errors.js';
import { isIgnoredDir, isIgnoredName } from '../../domain/media.js';
import { buildManifest, type ExportedFile } from '../../domain/project-manifest.js';
import { ProjectDir, exportFolderName } from '../../domain/project.js';
import { flattenTags, formatTag } from '../../domain/tags.js';
import { confine, ProjectService, type CallerOptions, type ProjectDeps } from './project.service.js';
import { readProjectFile, readSelections, type ProjectHandle } from './project-store.js';

export const MANIFEST_FILE = 'manifest.json';

export interface ExportResult {
  name: string;
  path: string;
  /** The export folder. */
  dir: string;
  manifest_path: string;
  files: number;
  bytes: number;
  /** Files that could not be read (reported, not fatal). */
  problems: string[];
}

/** A fresh `exports/<time>` folder; a second export in the same second gets `-2`, `-3`… */
async function freshExportDir(h: ProjectHandle, now: Date): Promise<string> {
  const base = path.join(h.dir, ProjectDir.EXPORTS, exportFolderName(now));
  await fs.mkdir(path.dirname(base), { recursive: true });
  for (let i = 1; ; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    try {
      await fs.mkdir(dir);
      return dir;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  }
}

/** `--to DIR`: created when absent, refused when it holds anything (an export never overwrites). */
async function chosenExportDir(h: ProjectHandle, dir: string): Promise<string> {
  for (const sub of [ProjectDir.SELECTED, ProjectDir.CREATED]) {
    if (isInside(dir, path.join(h.dir, sub)))
      throw new AliceError(ErrorCode.INVALID_INPUT, `cannot export into the project's own ${sub}/ folder`);
  }
  await fs.mkdir(dir, { recursive: true });
  if ((await fs.readdir(dir)).length > 0) {
    throw new AliceError(ErrorCode.INVALID_INPUT, `export folder is not empty: ${dir}`, {
      hint: 'give a new or empty folder to --to, or leave --to out to export into exports/<time>/',
    });
  }
  return dir;
}

/** Tags and prompt of some content, from the index, else from its sidecar. */
async function describeContent(
  deps: ProjectDeps,
  sha: string,
): Promise<{ assetHash: string | undefined; tags: string[]; prompt: string | null }> {
  const asset = await deps.repo.resolveHash(sha);
  let tags: string[] = [];
  let prompt: string | null = null;
  if (asset !== undefined) {
    tags = (await deps.repo.tagsOf(asset)).map((t) => `${t.category}:${t.value}`);
    prompt = (await deps.repo.getAsset(asset))?.prompt ?? null;
  }
  if (tags.length === 0 || prompt === null) {
    const sc = await deps.assets.sidecarOf(asset ?? sha);
    if (sc !== null) {
      if (tags.length === 0) tags = flattenTags(sc.sidecar.analysis.understanding.tags).map(formatTag);
      prompt ??= sc.sidecar.generation?.prompt ?? null;
    }
  }
  return { assetHash: asset, tags, prompt };
}

async function copyTree(
  deps: ProjectDeps,
  h: ProjectHandle,
  kind: 'selected' | 'created',
  dest: string,
  problems: string[],
): Promise<ExportedFile[]> {
  const out: ExportedFile[] = [];
  const walk = walkFiles(path.join(h.dir, kind), {
    skipDir: isIgnoredDir,
    acceptFile: (n) => !isIgnoredName(n),
    onProblem: (p) => problems.push(`${p.path}: ${p.message}`),
  });
  for await (const entry of walk) {
    const rel = path.relative(h.dir, entry.path);
    const target = path.join(dest, rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(entry.path, target, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE);
    // Hash what was written, not the source: the manifest vouches for the exported bytes.
    const written = await sha256File(target);
    const facts = await describeContent(deps, written.hash);
    out.push({
      path: rel.split(path.sep).join('/'),
      kind,
      sha256: written.hash,
      size: written.size,
      ...facts,
    });
  }
  return out;
}

/** Exports a project's selected and created files with a manifest. */
export async function exportProject(
  deps: ProjectDeps,
  name: string,
  opts: CallerOptions & { to?: string | undefined },
): Promise<ExportResult> {
  const svc = new ProjectService(deps);
  const h = await svc.locate(name, opts);
  const { file } = await readProjectFile(h);
  const { data } = await readSelections(h);
  const now = deps.clock.now();
  const dest =
    opts.to === undefined
      ? await freshExportDir(h, now)
      : await chosenExportDir(h, confine(deps.roots, path.resolve(opts.cwd, opts.to), opts.remote));
  const problems: string[] = [];
  const files = [
    ...(await copyTree(deps, h, ProjectDir.SELECTED, dest, problems)),
    ...(await copyTree(deps, h, ProjectDir.CREATED, dest, problems)),
  ];
  const manifest = buildManifest(
    { name: h.name, description: file.description },
    now,
    files,
    data.selections,
  );
  const manifestPath = path.join(dest, MANIFEST_FILE);
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const result = {
    name: h.name,
    path: h.dir,
    dir: dest,
    manifest_path: manifestPath,
    files: files.length,
    bytes,
    problems,
  };
  await svc.log(h, 'export', { to: opts.to ?? null }, { dir: dest, files: files.length, bytes });
  return result;
}
