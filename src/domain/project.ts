/**
 * Projects: self-contained folders `<project root>/<name>/` holding `project.yaml`,
 * `.alice/selections.json`, `.alice/sessions/`, `created/`, `selected/` and `exports/`.
 * The rules here are pure: name validation, the two file schemas, naming of placed and exported
 * files, and which indexed paths belong to a project. Selections point at content hashes, so they
 * survive moves and renames of the library files.
 */
import path from 'node:path';
import { z } from 'zod';
import { AliceError, ErrorCode } from './errors.js';
import { jsonErrorOffset, lineColumnAt } from './json-position.js';
import { HASH_RE } from './sidecar.js';
import type { Tag } from './tags.js';

export const PROJECT_FILE = 'project.yaml';
export const PROJECT_META_DIR = '.alice';
export const SELECTIONS_FILE = path.join(PROJECT_META_DIR, 'selections.json');
export const SESSIONS_DIR = path.join(PROJECT_META_DIR, 'sessions');
/** Sub-folders every project has. */
export const ProjectDir = { CREATED: 'created', SELECTED: 'selected', EXPORTS: 'exports' } as const;
export type ProjectDir = (typeof ProjectDir)[keyof typeof ProjectDir];

export const ProjectStatus = {
  ACTIVE: 'active',
  PAUSED: 'paused',
  DONE: 'done',
  ARCHIVED: 'archived',
} as const;
export type ProjectStatus = (typeof ProjectStatus)[keyof typeof ProjectStatus];

/** Tag category and sidecar tag source that mark files made for a project (in its `created/`). */
export const PROJECT_TAG_CATEGORY = 'project';
export const PROJECT_TAG_SOURCE = 'project';

export const PROJECT_NAME_MAX = 100;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// Characters refused by Windows (and ':' by macOS Finder); control characters break terminals.
// eslint-disable-next-line no-control-regex
const BAD_CHARS = /[<>:"|?*\u0000-\u001f\u007f]/u;

/** Why a project name is refused, or undefined when it is a valid folder name everywhere. */
export function projectNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name === '.' || name === '..') return 'it is a relative path, not a name';
  if (name.includes('/') || name.includes('\\')) return 'it must not contain / or \\';
  if (name.startsWith('.')) return 'it must not start with a dot (hidden folders are not indexed)';
  if (BAD_CHARS.test(name)) return 'it must not contain control characters or any of < > : " | ? *';
  if (name.length > PROJECT_NAME_MAX) return `it is longer than ${PROJECT_NAME_MAX} characters`;
  if (/[. ]$/.test(name)) return 'it must not end with a dot or a space';
  if (/^\s/.test(name)) return 'it must not start with a space';
  if (WINDOWS_RESERVED.test(name)) return 'it is a reserved device name on Windows';
  return undefined;
}

/** Returns the name (NFC-normalised) or throws PROJECT_INVALID saying why it is refused. */
export function validateProjectName(name: string): string {
  const problem = projectNameProblem(name);
  if (problem !== undefined) {
    throw new AliceError(
      ErrorCode.PROJECT_INVALID,
      `invalid project name ${JSON.stringify(name)}: ${problem}`,
      {
        hint: 'use a plain folder name such as "client-x" or "trailer 2025"',
      },
    );
  }
  return name.normalize('NFC');
}

const nullToEmpty = (fallback: unknown) => (v: unknown) => (v === null || v === undefined ? fallback : v);

/** `project.yaml`. Unknown keys are kept: users may add their own. */
export const projectFileSchema = z.looseObject({
  name: z.string().min(1),
  description: z.preprocess(nullToEmpty(''), z.string()),
  created: z.string().min(1),
  updated: z.string().min(1),
  status: z.enum(['active', 'paused', 'done', 'archived']),
  /** Free-form fields of the brief (client, deadline, format, mood…). */
  brief: z.preprocess(nullToEmpty({}), z.record(z.string(), z.unknown())),
});
export type ProjectFile = z.infer<typeof projectFileSchema>;

/** A file name inside `selected/`: one path segment, so a hand-edited value cannot point elsewhere. */
const plainFileName = z
  .string()
  .min(1)
  .refine((s) => !/[/\\\0]/.test(s) && s !== '.' && s !== '..', 'must be a plain file name');

export const selectionSchema = z.looseObject({
  /** The asset's content hash (an alias of it counts as the same asset). */
  content_hash: z.string().regex(HASH_RE, 'must be a 64-hex SHA-256'),
  reason: z.string(),
  role: z.preprocess(nullToEmpty(null), z.string().nullable()),
  selected_at: z.string().min(1),
  /** Where the file was when it was selected. */
  source_path: z.preprocess(nullToEmpty(null), z.string().nullable()),
  /** Its name inside `selected/`. */
  file_name: plainFileName,
});
export type Selection = z.infer<typeof selectionSchema>;

export const SELECTIONS_VERSION = 1;
export const selectionsFileSchema = z.looseObject({
  version: z.literal(SELECTIONS_VERSION),
  selections: z.array(selectionSchema),
});
export type SelectionsFile = z.infer<typeof selectionsFileSchema>;

export function newProjectFile(name: string, description: string, now: Date): ProjectFile {
  const at = now.toISOString();
  return { name, description, created: at, updated: at, status: 'active', brief: {} };
}

export function emptySelections(): SelectionsFile {
  return { version: SELECTIONS_VERSION, selections: [] };
}

/** Schema problems as `line N: key.path: message` lines (line when it can be located). */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  lineOf: (keyPath: readonly PropertyKey[]) => number | undefined,
): string[] {
  return issues.map((issue) => {
    const line = lineOf(issue.path);
    const where = issue.path.map(String).join('.') || '(top level)';
    const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
    return `${line === undefined ? '' : `line ${line}: `}${where}: ${missing ? 'missing' : issue.message}`;
  });
}

/** 1-based line and column of a `JSON.parse` error: from its message when it says, else found by a scan. */
export function jsonErrorPosition(text: string, message: string): { line: number; column: number } {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc !== null) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /position (\d+)/.exec(message);
  return lineColumnAt(text, pos === null ? (jsonErrorOffset(text) ?? text.length) : Number(pos[1]));
}

/**
 * Name for a file placed in `selected/`: the original name, or `<stem>-<hash8><ext>` when that
 * name is taken by other content. `taken` holds names already used, lowercased (case-insensitive
 * file systems would otherwise clash).
 */
export function selectedFileName(original: string, hash: string, taken: ReadonlySet<string>): string {
  const base = original.length > 0 ? original : hash.slice(0, 16);
  if (!taken.has(base.toLowerCase())) return base;
  const ext = path.extname(base);
  const stem = base.slice(0, base.length - ext.length);
  const candidate = `${stem}-${hash.slice(0, 8)}${ext}`;
  if (!taken.has(candidate.toLowerCase())) return candidate;
  for (let i = 2; ; i++) {
    const next = `${stem}-${hash.slice(0, 8)}-${i}${ext}`;
    if (!taken.has(next.toLowerCase())) return next;
  }
}

/** `<project name>` and the sub-folder for a path below a project root, else undefined. */
export function projectPathParts(
  filePath: string,
  projectRoots: readonly string[],
): { root: string; project: string; dir: string | undefined; rel: string } | undefined {
  for (const root of projectRoots) {
    const rel = path.relative(root, filePath);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const parts = rel.split(path.sep);
    const project = parts[0];
    if (project === undefined || project.startsWith('.')) continue;
    return { root, project, dir: parts.length > 2 ? parts[1] : undefined, rel };
  }
  return undefined;
}

/**
 * Tags the scanner adds to a file indexed at `filePath`: `project:<name>` (source
 * PROJECT_TAG_SOURCE) when the file lies in `<project root>/<name>/created/`.
 */
export function projectTagsForPath(filePath: string, projectRoots: readonly string[]): Tag[] {
  const parts = projectPathParts(filePath, projectRoots);
  if (parts?.dir !== ProjectDir.CREATED) return [];
  return [{ category: PROJECT_TAG_CATEGORY, value: parts.project }];
}

/**
 * True for copies alice made inside projects (`selected/`, `exports/`): they do not count as the
 * content still being in the library, or deleting the original would never show as missing.
 */
export function isProjectCopyPath(filePath: string, projectRoots: readonly string[]): boolean {
  const dir = projectPathParts(filePath, projectRoots)?.dir;
  return dir === ProjectDir.SELECTED || dir === ProjectDir.EXPORTS;
}

/**
 * True for files under a project's `exports/`: delivered files, frozen. alice records them as
 * locations but never rewrites them (no tag, description or migration is embedded into them), so
 * they stay byte-identical to their `manifest.json`.
 */
export function isProjectExportPath(filePath: string, projectRoots: readonly string[]): boolean {
  return projectPathParts(filePath, projectRoots)?.dir === ProjectDir.EXPORTS;
}

/** True for any file inside a project folder (`<project root>/<name>/…`). */
export function isInProject(filePath: string, projectRoots: readonly string[]): boolean {
  return projectPathParts(filePath, projectRoots) !== undefined;
}

/** The session log for the local day of `at`: `YYYY-MM-DD.jsonl`. */
export function sessionLogName(at: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}.jsonl`;
}

/** Folder name of an export: UTC time without characters Windows refuses (`2025-01-31T09-05-00Z`). */
export function exportFolderName(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}
