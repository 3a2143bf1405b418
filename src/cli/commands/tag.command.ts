/**
 * `alice tag add|remove|set <file|hash>... --tag <tag>...`, `alice describe <file|hash> <text>`
 * and `alice embed [<file|hash>...] [--all] [--dry-run]`. Tags are given with a repeatable
 * `-t/--tag` option, never as positional arguments, so a tag can never be taken for a file and a
 * value starting with `-` is still a value (`--tag -x` or `--tag=-x`).
 */
import type { Command } from 'commander';
import type { EmbedReport, FileEmbed } from '../../services/tagging/embed.service.js';
import type { AssetChange, ChangeResult } from '../../services/tagging/tag.service.js';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import { absRef, type CliContext } from '../context.js';
import { plural, shortHash, type Rendered } from '../render.js';

type Run = (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function fileLine(f: FileEmbed): string {
  const why = f.reason === undefined ? '' : `: ${f.reason}`;
  const hash = f.new_hash === undefined ? '' : `  (now ${shortHash(f.new_hash)})`;
  const warn = f.warnings === undefined ? [] : f.warnings.map((w) => `      warning: ${w}`);
  return [`    ${f.status.padEnd(12)} ${f.path}${why}${hash}`, ...warn].join('\n');
}

function changeLines(a: AssetChange): string[] {
  const delta = [...a.added.map((t) => `+${t}`), ...a.removed.map((t) => `-${t}`)];
  const lines = [
    `${shortHash(a.content_hash)}  ${a.changed ? 'updated' : 'unchanged'}${delta.length > 0 ? `  ${delta.join(' ')}` : ''}`,
    `  tags: ${a.tags.length === 0 ? '(none)' : a.tags.join(', ')}`,
  ];
  if (a.description !== null) lines.push(`  description: ${a.description}`);
  if (a.files.length === 0) lines.push('  (no file present to embed into)');
  for (const f of a.files) lines.push(fileLine(f));
  return lines;
}

function changeRendered(r: ChangeResult): Rendered {
  const text = r.assets.flatMap(changeLines);
  if (r.failed > 0)
    text.push(`${plural(r.failed, 'file')} could not be written: the sidecar and index hold the change`);
  return { data: r, text, exitCode: r.failed > 0 ? 1 : 0 };
}

function embedRendered(r: EmbedReport): Rendered {
  const verb = r.dry_run ? `${r.would_write} would be written` : `${r.written} written`;
  const text = [
    `${r.dry_run ? 'dry run: ' : ''}${verb}, ${r.current} already current, ${r.sidecar_only} sidecar-only, ${r.failed} failed` +
      `${r.missing > 0 ? `, ${r.missing} missing` : ''} (${plural(r.files, 'file')} of ${plural(r.assets, 'asset')})`,
    ...r.results.map(fileLine),
  ];
  return { data: r, text, exitCode: r.failed > 0 ? 1 : 0 };
}

function registerTag(program: Command, run: Run): void {
  const tag = program
    .command('tag')
    .description("add, remove or replace an asset's tags (sidecar, index and the file itself)");
  const modes = [
    ['add', 'add tags (a tag first read from the file becomes the user’s)'],
    ['remove', 'remove tags, whatever their source'],
    ['set', 'replace ALL tags of the asset (from every source) with the given ones'],
  ] as const;
  for (const [mode, help] of modes) {
    const cmd = tag
      .command(mode)
      .description(help)
      .argument('<file|hash...>', 'paths, content hashes or unique hash prefixes (8+ hex digits)')
      .option(
        '-t, --tag <tag>',
        'category:value or a bare value (repeatable; `--tag=-x` for values starting with -)',
        collect,
        [],
      );
    if (mode === 'set') cmd.option('--clear', 'with no --tag: remove every tag');
    cmd.action((refs: string[], o: { tag: string[]; clear?: boolean }) =>
      run(async (ctx) => {
        if (o.tag.length === 0 && !(mode === 'set' && o.clear === true))
          throw new AliceError(ErrorCode.INVALID_INPUT, `alice tag ${mode}: give at least one --tag`, {
            hint: mode === 'set' ? 'or --clear to remove every tag' : 'e.g. --tag style:cyberpunk --tag cat',
          });
        const r = await ctx.invoke(`tag.${mode}`, { refs: refs.map(absRef), tags: o.tag });
        return changeRendered(r);
      }),
    );
  }
}

function registerDescribe(program: Command, run: Run): void {
  program
    .command('describe')
    .description('set the description of an asset (sidecar, index and the file itself)')
    .argument('<file|hash>', 'a path, a content hash or a unique hash prefix')
    .argument('[text]', 'the description; "" or --clear removes it (put -- before text starting with -)')
    .option('--clear', 'remove the description')
    .action((ref: string, text: string | undefined, o: { clear?: boolean }) =>
      run(async (ctx) => {
        if (text === undefined && o.clear !== true)
          throw new AliceError(ErrorCode.INVALID_INPUT, 'alice describe: give the text, or --clear');
        const r = await ctx.invoke('asset.describe', {
          ref: absRef(ref),
          text: o.clear === true ? '' : (text ?? ''),
        });
        return changeRendered(r);
      }),
    );
}

function registerEmbed(program: Command, run: Run): void {
  program
    .command('embed')
    .description("write every sidecar's tags and description into its files (idempotent)")
    .argument('[file|hash...]', 'only these assets')
    .option('--all', 'every asset with a file present')
    .option('-n, --dry-run', 'report what would be written, change nothing')
    .action((refs: string[], o: { all?: boolean; dryRun?: boolean }) =>
      run(async (ctx) => {
        const r = await ctx.invoke('metadata.embed', {
          refs: refs.map(absRef),
          all: o.all === true,
          dryRun: o.dryRun === true,
        });
        return embedRendered(r);
      }),
    );
}

/** Registers `tag`, `describe` and `embed`. */
export function registerTagCommands(program: Command, run: Run): void {
  registerTag(program, run);
  registerDescribe(program, run);
  registerEmbed(program, run);
}
