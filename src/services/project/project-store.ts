/**
 * Reading and writing a project folder's own files: `project.yaml`, `.alice/selections.json` and the
 * session logs. A hand-edited file that does not parse or has the wrong shape is reported with its
 * line numbers and never overwritten; writes are atomic.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../adapters/fs.adapter.js';
import { parseYamlText, setYamlKeys, stringifyYaml } from '../../adapters/yaml.adapter.js';
import { AliceError, ErrorCode, errnoCode, errorMessage } from '../../domain/errors.js';
import {
  PROJECT_FILE,
  ProjectDir,
  SELECTIONS_FILE,
  SESSIONS_DIR,
  describeIssues,
  emptySelections,
  jsonErrorPosition,
  projectFileSchema,
  selectionsFileSchema,
  sessionLogName,
  type ProjectFile,
  type SelectionsFile,
} from '../../domain/project.js';

const KEEP_HINT = 'fix the file by hand at the line shown; alice never overwrites a file it cannot read';

const PROJECT_YAML_HEADER = [
  ' alice project. Edit freely: alice only rewrites `updated` and keeps your comments.',
  ' status: active | paused | done | archived. brief: any fields you like (client, deadline, format…).',
].join('\n');

/** A project folder on disk. */
export interface ProjectHandle {
  readonly name: string;
  /** The project folder. */
  readonly dir: string;
  /** The folder that holds it (a project root, or `--path`). */
  readonly parent: string;
}

/** selections.json as read, with the bytes it was read from (to detect concurrent edits). */
export interface LoadedSelections {
  readonly data: SelectionsFile;
  readonly text: string | null;
}

async function readText(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw new AliceError(ErrorCode.PROJECT_INVALID, `cannot read ${file}: ${errorMessage(err)}`);
  }
}

/** Reads and validates `project.yaml`. */
export async function readProjectFile(project: ProjectHandle): Promise<{ file: ProjectFile; text: string }> {
  const file = path.join(project.dir, PROJECT_FILE);
  const text = await readText(file);
  if (text === null) {
    throw new AliceError(ErrorCode.PROJECT_NOT_FOUND, `${project.dir} has no ${PROJECT_FILE}`, {
      hint: `create it with \`alice project create ${project.name}\``,
    });
  }
  const parsed = parseYamlText(text);
  if (!parsed.ok) {
    throw new AliceError(ErrorCode.PROJECT_INVALID, `${file} is not valid YAML`, {
      details: parsed.errors.map((e) => `line ${e.line ?? '?'}, column ${e.column ?? '?'}: ${e.message}`),
      hint: KEEP_HINT,
    });
  }
  const checked = projectFileSchema.safeParse(parsed.value ?? {});
  if (!checked.success) {
    throw new AliceError(ErrorCode.PROJECT_INVALID, `${file} has errors`, {
      details: describeIssues(checked.error.issues, parsed.lineOf),
      hint: KEEP_HINT,
    });
  }
  return { file: checked.data, text };
}

/** Reads and validates `.alice/selections.json`; a missing file is an empty list. */
export async function readSelections(project: ProjectHandle): Promise<LoadedSelections> {
  const file = path.join(project.dir, SELECTIONS_FILE);
  const text = await readText(file);
  if (text === null) return { data: emptySelections(), text: null };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const at = jsonErrorPosition(text, errorMessage(err));
    throw new AliceError(ErrorCode.PROJECT_INVALID, `${file} is not valid JSON`, {
      details: [`line ${at.line}, column ${at.column}: ${errorMessage(err)}`],
      hint: KEEP_HINT,
    });
  }
  const checked = selectionsFileSchema.safeParse(json);
  if (!checked.success) {
    // Valid JSON is valid YAML, whose parser knows where each value sits.
    const located = parseYamlText(text);
    const lineOf = located.ok ? located.lineOf : () => undefined;
    throw new AliceError(ErrorCode.PROJECT_INVALID, `${file} has errors`, {
      details: describeIssues(checked.error.issues, lineOf),
      hint: KEEP_HINT,
    });
  }
  return { data: checked.data, text };
}

/**
 * Writes selections.json atomically, refusing when the file changed since it was read (another
 * process or a hand edit), so neither change is silently lost.
 */
export async function writeSelections(
  project: ProjectHandle,
  loaded: LoadedSelections,
  data: SelectionsFile,
): Promise<void> {
  const file = path.join(project.dir, SELECTIONS_FILE);
  if ((await readText(file)) !== loaded.text) {
    throw new AliceError(ErrorCode.PROJECT_INVALID, `${file} changed while alice was updating it`, {
      hint: 'run the command again',
    });
  }
  await writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`);
}

/** Sets `updated` in project.yaml, keeping the rest of the file (comments included) as it is. */
export async function touchProjectFile(project: ProjectHandle, text: string, now: Date): Promise<void> {
  await writeFileAtomic(
    path.join(project.dir, PROJECT_FILE),
    setYamlKeys(text, { updated: now.toISOString() }),
  );
}

/** Makes the folder layout and writes project.yaml last, so a half-made folder is not a project. */
export async function createProjectFolder(project: ProjectHandle, file: ProjectFile): Promise<void> {
  await fs.mkdir(project.parent, { recursive: true });
  try {
    await fs.mkdir(project.dir);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    if ((await fs.readdir(project.dir)).length > 0) {
      throw new AliceError(ErrorCode.PROJECT_INVALID, `${project.dir} already exists and is not empty`, {
        hint: 'choose another name, or --path to create it elsewhere',
      });
    }
  }
  for (const dir of [SESSIONS_DIR, ProjectDir.CREATED, ProjectDir.SELECTED, ProjectDir.EXPORTS]) {
    await fs.mkdir(path.join(project.dir, dir), { recursive: true });
  }
  await writeFileAtomic(
    path.join(project.dir, SELECTIONS_FILE),
    `${JSON.stringify(emptySelections(), null, 2)}\n`,
  );
  await writeFileAtomic(path.join(project.dir, PROJECT_FILE), stringifyYaml(file, PROJECT_YAML_HEADER));
}

/** One line of the session log. */
export interface SessionEntry {
  op: string;
  time: string;
  args: Record<string, unknown>;
  result: Record<string, unknown>;
}

/** Appends to `.alice/sessions/<local day>.jsonl`: the history of what was chosen and why. */
export async function appendSession(project: ProjectHandle, entry: SessionEntry, now: Date): Promise<void> {
  const dir = path.join(project.dir, SESSIONS_DIR);
  await fs.mkdir(dir, { recursive: true });
  await fs.appendFile(path.join(dir, sessionLogName(now)), `${JSON.stringify(entry)}\n`, 'utf8');
}

/** Names of the project folders (holding a project.yaml) directly below `parent`. */
export async function projectFoldersIn(parent: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(parent, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return []; // an offline or not yet created root
    throw err;
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    try {
      await fs.access(path.join(parent, e.name, PROJECT_FILE));
      out.push(e.name);
    } catch {
      // not a project: any other folder may live beside projects
    }
  }
  return out.sort();
}

/**
 * Every content hash a project selection names, across the projects under these folders; null
 * when a project's selections cannot be read (then nothing may be treated as unreferenced).
 */
export async function selectedHashesIn(parents: readonly string[]): Promise<Set<string> | null> {
  const out = new Set<string>();
  try {
    for (const parent of parents) {
      for (const name of await projectFoldersIn(parent)) {
        const loaded = await readSelections({ name, dir: path.join(parent, name), parent });
        for (const s of loaded.data.selections) out.add(s.content_hash);
      }
    }
  } catch {
    return null;
  }
  return out;
}
