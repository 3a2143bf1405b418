/** `alice root forget <path>`: the user's word that an offline root is gone for good. */
import path from 'node:path';
import type { Command } from 'commander';
import type { ForgetRootReport } from '../../services/scan/root-forget.js';
import type { CliContext } from '../context.js';
import { plural, type Rendered } from '../render.js';

export function forgetText(r: ForgetRootReport): string[] {
  const verb = r.dry_run ? 'would' : 'did';
  const what = r.configured
    ? `mark ${plural(r.marked_missing, 'file')} missing`
    : `remove ${plural(r.locations_removed, 'location')} (the root is no longer in the settings)`;
  return [
    `${r.dry_run ? '[dry run] ' : ''}root forget ${r.root} (offline: ${r.reason})`,
    `  ${verb} ${what}; ${plural(r.assets_now_missing, 'asset')} left with no file (tags and sidecars kept; a file that returns is restored)`,
    ...(r.configured && !r.dry_run
      ? ['  it is still in the settings: remove it there to stop checking it']
      : []),
  ];
}

export function registerRootCommands(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  const root = program.command('root').description('roots that are gone for good');
  root
    .command('forget <path>')
    .description(
      'an offline root is gone for good: mark its files missing (nothing under an offline root is marked missing otherwise)',
    )
    .option('--dry-run', 'report what would happen; change nothing')
    .action((p: string, o: { dryRun?: boolean }) =>
      run(async (ctx) => {
        const r = await ctx.invoke('root.forget', { path: path.resolve(p), dryRun: o.dryRun === true });
        return { data: r, text: forgetText(r) };
      }),
    );
}
