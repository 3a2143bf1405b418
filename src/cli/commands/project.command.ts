/** `alice project create|list|show|select|unselect|export|verify`. `--json` prints the op result. */
import path from 'node:path';
import type { Command } from 'commander';
import type { SelectResult } from '../../services/project/project-select.js';
import type { UnselectItem } from '../../services/project/project-unselect.js';
import type {
  ProjectShow,
  ProjectSummary,
  ProjectVerify,
  SelectionView,
} from '../../services/project/project.service.js';
import { absRef, type CliContext } from '../context.js';
import { plural, shortHash, table, type Rendered } from '../render.js';

type Run = (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>;

const PATH_HELP = 'folder that holds the project (default: the storage.project_paths entries)';

function absOpt(p: string | undefined): { path?: string } {
  return p === undefined ? {} : { path: path.resolve(p) };
}

function selectionLines(s: SelectionView): string[] {
  const state = s.in_library ? 'ok     ' : 'MISSING';
  const lines = [
    `  ${state} ${shortHash(s.content_hash)}  ${s.file_name}${s.role === null ? '' : `  [${s.role}]`}`,
    `          why: ${s.reason}`,
  ];
  for (const p of s.library_paths) lines.push(`          at:  ${p}`);
  if (s.edited_since_selected !== null)
    lines.push(`          edited since selected: now ${shortHash(s.edited_since_selected)}`);
  if (!s.in_selected) lines.push('          (no longer in selected/)');
  return lines;
}

function showText(r: ProjectShow): string[] {
  const c = r.counts;
  const lines = [
    `project ${r.name}  (${r.project.status})  ${r.path}`,
    ...(r.project.description === '' ? [] : [`  ${r.project.description}`]),
    `  ${plural(c.selections, 'selection')}, ${c.missing} missing from the library; ${plural(c.selected_files, 'file')} in selected/, ${plural(c.created_files, 'file')} in created/`,
  ];
  for (const [k, v] of Object.entries(r.project.brief)) lines.push(`  brief.${k}: ${JSON.stringify(v)}`);
  for (const s of r.selections) lines.push(...selectionLines(s));
  return lines;
}

function listText(rows: ProjectSummary[]): string[] {
  if (rows.length === 0) return ['no projects (create one with `alice project create <name>`)'];
  return table([
    ['NAME', 'STATUS', 'SELECTIONS', 'PATH'],
    ...rows.map((r) => [
      r.name,
      r.status ?? 'INVALID',
      r.selections === null ? '-' : String(r.selections),
      r.error === null ? r.path : `${r.path}  (${r.error})`,
    ]),
  ]);
}

function selectText(r: SelectResult): string[] {
  return [
    `${r.name}: ${r.selected} selected, ${r.already_selected} already selected`,
    ...r.results.map(
      (i) =>
        `  ${i.status === 'selected' ? `${i.placed.padEnd(8)}` : 'no-op   '} ${shortHash(i.content_hash)}  selected/${i.file_name}${i.status === 'already_selected' ? '  (already selected)' : ''}`,
    ),
  ];
}

function unselectText(r: { name: string; unselected: number; results: UnselectItem[] }): string[] {
  return [
    `${r.name}: ${plural(r.unselected, 'selection')} removed`,
    ...r.results.map(
      (i) =>
        `  ${i.status === 'unselected' ? 'removed ' : 'no-op   '} ${i.ref}${i.status === 'unselected' && !i.file_removed ? '  (file in selected/ kept: missing or changed)' : ''}`,
    ),
  ];
}

function verifyText(r: ProjectVerify): string[] {
  if (r.ok) return [`${r.name}: ${plural(r.checked, 'selection')} checked, all in the library`];
  return [
    `${r.name}: ${r.missing.length} of ${plural(r.checked, 'selection')} no longer in the library`,
    ...r.missing.flatMap((s) => [
      `  ${s.content_hash}  ${s.file_name}  (was ${s.source_path ?? '?'})`,
      `      why: ${s.reason}${s.in_selected ? '  — a copy is still in selected/' : ''}`,
    ]),
  ];
}

function registerReadCommands(project: Command, run: Run): void {
  project
    .command('list')
    .description('list the projects in the project roots')
    .action(() =>
      run(async (ctx) => {
        const rows = await ctx.invoke('project.list', {});
        return { data: rows, text: listText(rows) };
      }),
    );
  project
    .command('show')
    .argument('<name>', 'project name')
    .option('--path <dir>', PATH_HELP)
    .description('selections with their reasons, counts, and what is missing from the library')
    .action((name: string, o: { path?: string }) =>
      run(async (ctx) => {
        const r = await ctx.invoke('project.show', { name, ...absOpt(o.path) });
        return { data: r, text: showText(r) };
      }),
    );
  project
    .command('verify')
    .argument('<name>', 'project name')
    .option('--path <dir>', PATH_HELP)
    .description('report selections whose content no longer exists anywhere in the library (exit 1)')
    .action((name: string, o: { path?: string }) =>
      run(async (ctx) => {
        const r = await ctx.invoke('project.verify', { name, ...absOpt(o.path) });
        return { data: r, text: verifyText(r), exitCode: r.ok ? 0 : 1 };
      }),
    );
}

function registerWriteCommands(project: Command, run: Run): void {
  project
    .command('create')
    .argument('<name>', 'project name: a plain folder name')
    .option('--path <dir>', 'create it in this folder instead of the first storage.project_paths entry')
    .option('--description <text>', 'one line saying what the project is for')
    .description('make a project folder with project.yaml, .alice/, created/, selected/, exports/')
    .action((name: string, o: { path?: string; description?: string }) =>
      run(async (ctx) => {
        const params = {
          name,
          ...absOpt(o.path),
          ...(o.description === undefined ? {} : { description: o.description }),
        };
        const r = await ctx.invoke('project.create', params);
        return {
          data: r,
          text: [`created project ${r.name} at ${r.path}`, ...r.warnings.map((w) => `warning: ${w}`)],
        };
      }),
    );
  project
    .command('select')
    .argument('<name>', 'project name')
    .argument('<file|hash...>', 'files, content hashes or unique hash prefixes')
    .requiredOption('--why <reason>', 'why these were selected (kept with the selection)')
    .option('--role <role>', 'what it is for in the project (hero, b-roll, reference…)')
    .option('--path <dir>', PATH_HELP)
    .description('record assets in the project by content hash and place them in selected/')
    .action((name: string, refs: string[], o: { why: string; role?: string; path?: string }) =>
      run(async (ctx) => {
        const params = {
          name,
          refs: refs.map(absRef),
          why: o.why,
          ...(o.role === undefined ? {} : { role: o.role }),
          ...absOpt(o.path),
        };
        const r = await ctx.invoke('project.select', params);
        for (const i of r.results)
          if (!i.indexed && i.status === 'selected')
            ctx.notices.push(
              `${i.file_name} is not in the library (its content is in no asset folder): the project keeps it in selected/, and \`alice project show\` lists it as missing until a copy is in an asset folder`,
            );
        return { data: r, text: selectText(r) };
      }),
    );
  project
    .command('unselect')
    .argument('<name>', 'project name')
    .argument('<file|hash...>', 'selected content: hash (prefix), original path or a file with that content')
    .option('--path <dir>', PATH_HELP)
    .description('remove selections and their file in selected/ (when it still holds that content)')
    .action((name: string, refs: string[], o: { path?: string }) =>
      run(async (ctx) => {
        const r = await ctx.invoke('project.unselect', { name, refs: refs.map(absRef), ...absOpt(o.path) });
        return { data: r, text: unselectText(r) };
      }),
    );
  project
    .command('export')
    .argument('<name>', 'project name')
    .option('--to <dir>', 'export here (a new or empty folder) instead of exports/<time>/')
    .option('--path <dir>', PATH_HELP)
    .description('copy selected/ and created/ with a manifest.json (hashes, tags, prompts, reasons)')
    .action((name: string, o: { to?: string; path?: string }) =>
      run(async (ctx) => {
        const params = { name, ...absOpt(o.path), ...(o.to === undefined ? {} : { to: path.resolve(o.to) }) };
        const r = await ctx.invoke('project.export', params);
        const text = [
          `exported ${plural(r.files, 'file')} (${r.bytes} bytes) to ${r.dir}`,
          `manifest: ${r.manifest_path}`,
        ];
        return { data: r, text: [...text, ...r.problems.map((p) => `warning: ${p}`)] };
      }),
    );
}

export function registerProjectCommands(program: Command, run: Run): void {
  const project = program.command('project').description('projects: selections that survive moves, exports');
  registerWriteCommands(project, run);
  registerReadCommands(project, run);
}
