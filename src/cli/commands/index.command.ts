/** `alice index rebuild|update|verify`. */
import type { Command } from 'commander';
import { AliceError, ErrorCode } from '../../domain/errors.js';
import type { RepairReport } from '../../app/index-ops.js';
import type { ScanSummary } from '../../services/scan/scan.service.js';
import type { PruneReport } from '../../services/verify/prune.service.js';
import type { VerifyReport } from '../../services/verify/verify.service.js';
import type { CliContext } from '../context.js';
import { plural, type Rendered } from '../render.js';

export function scanText(s: ScanSummary): string[] {
  const head = `${s.dry_run ? '[dry run] ' : ''}index ${s.mode}: ${plural(s.files_seen, 'file')} seen, ${s.hashed} hashed (${s.unchanged} unchanged), ${plural(s.assets, 'asset')}`;
  const lines = [
    head,
    `  new ${s.new} · moved ${s.moved} · modified ${s.modified} · restored ${s.restored} · missing ${s.missing} · duplicate groups ${s.duplicates}`,
    ...(s.damaged > 0
      ? [
          `  damaged ${s.damaged}: files that do not decode or are not what their name says (alice search --damaged)`,
        ]
      : []),
    `  sidecars written ${s.sidecars_written} · errors ${s.errors.length} · ${(s.elapsed_ms / 1000).toFixed(1)} s · ${s.files_per_s} files/s · ${s.mb_per_s} MB/s`,
  ];
  for (const r of s.offline_roots) lines.push(`  offline root (nothing marked missing): ${r}`);
  for (const b of s.mass_delete_blocked) {
    lines.push(
      `  refused to mark ${b.would_mark} of ${b.present} files missing in ${b.root}: if they really are gone, run \`alice index update --allow-mass-delete\` (see first what it would mark with \`alice index update --allow-mass-delete --dry-run\`)`,
    );
  }
  if (s.moves.length > 0) lines.push('moves:', ...s.moves.slice(0, 20).map((m) => `  ${m.from} → ${m.to}`));
  if (s.errors.length > 0)
    lines.push('errors:', ...s.errors.slice(0, 50).map((e) => `  ${e.code}  ${e.path}: ${e.message}`));
  if (s.sidecar_issues.length > 0) {
    lines.push(
      'sidecars:',
      ...s.sidecar_issues.map(
        (i) =>
          `  ${i.kind}  ${i.file}: ${i.reason}${i.movedTo === undefined ? '' : ` (kept as ${i.movedTo})`}`,
      ),
    );
  }
  return lines;
}

export function verifyText(r: VerifyReport): string[] {
  const lines = [
    `index verify${r.full ? ' --full' : ''}: ${plural(r.files_checked, 'file')}, ${plural(r.sidecars_checked, 'sidecar')}, ${r.rehashed} re-hashed: ${r.clean ? 'clean' : plural(r.problems.length, 'problem')}`,
  ];
  for (const root of r.offline_roots) lines.push(`  offline root (not checked): ${root}`);
  for (const p of r.problems.slice(0, 200))
    lines.push(`  ${p.kind}  ${p.path || p.content_hash || ''}: ${p.detail}`);
  if (r.missing_assets > 0)
    lines.push(
      `  ${plural(r.missing_assets, 'asset')} with every file gone kept with tags and sidecars (not a problem); \`alice index prune --dry-run\` lists the ghosts it would remove`,
    );
  if ((r.counts.orphaned_sidecar ?? 0) > 0)
    lines.push(
      '  fix orphaned sidecars with `alice index prune` (they go to the trash; --dry-run lists them first)',
    );
  return lines;
}

export function pruneText(r: PruneReport): string[] {
  const dry = r.dry_run ? '[dry run] ' : '';
  if (r.refused !== null) {
    return [
      `${dry}index prune: nothing removed: ${r.refused}`,
      ...r.offline_roots.map((o) => `  offline root: ${o}`),
    ];
  }
  const verb = r.dry_run ? 'would remove' : 'removed';
  const lines = [
    `${dry}index prune: ${verb} ${plural(r.assets.length, 'ghost asset')} and ${plural(r.sidecars.length, 'sidecar')}${r.dry_run ? '' : ' (sidecars moved to the trash, not deleted)'}`,
  ];
  for (const a of r.assets)
    lines.push(
      `  ghost  ${a.content_hash.slice(0, 12)}  ${a.last_path ?? '(no path)'}${a.tags > 0 ? ` (${plural(a.tags, 'tag')}, kept in its trashed sidecar)` : ''}`,
    );
  for (const s of r.sidecars)
    lines.push(`  ${s.reason} sidecar  ${s.path}${s.moved_to === null ? '' : ` → ${s.moved_to}`}`);
  for (const k of r.kept) lines.push(`  kept  ${k.content_hash.slice(0, 12)}  ${k.path ?? ''}: ${k.reason}`);
  return lines;
}

export function repairText(r: RepairReport): string[] {
  const lines = [
    `${r.dry_run ? '[dry run] ' : ''}sidecar repair: ${plural(r.repaired.length, 'sidecar')} written back from the index, ${r.not_repaired.length} not repairable`,
  ];
  for (const x of r.repaired)
    lines.push(
      `  repaired  ${x.file} (${plural(x.tags, 'tag')})${x.movedTo === undefined ? '' : `; garbled original kept as ${x.movedTo}`}`,
    );
  for (const x of r.not_repaired) lines.push(`  not repaired  ${x.file}: ${x.reason}`);
  return lines;
}

export function registerIndexCommands(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  const index = program
    .command('index')
    .description('maintain the search index (a cache rebuilt from files and sidecars)');
  index
    .command('rebuild')
    .description('scan every configured root, write missing sidecars and recreate the index from scratch')
    .option('--verify', 'verify files, sidecars and index afterwards')
    .option('--dry-run', 'report what would happen; write nothing')
    .action((o: { verify?: boolean; dryRun?: boolean }) =>
      run(async (ctx) => {
        const r = await ctx.invoke('index.rebuild', {
          dryRun: o.dryRun === true,
          verify: o.verify === true,
        });
        const text = scanText(r.summary);
        const c = r.carried_over;
        if (c !== undefined)
          text.push(
            c.skipped === undefined
              ? `  kept from the previous index for the offline roots: ${plural(c.assets, 'asset')}, ${plural(c.locations, 'location')} (still searchable)`
              : `  offline roots not kept from the previous index: ${c.skipped}`,
          );
        if (r.verify !== undefined) text.push(...verifyText(r.verify));
        return { data: r, text, exitCode: r.verify !== undefined && !r.verify.clean ? 1 : 0 };
      }),
    );
  index
    .command('update')
    .description('index only what changed since the last scan (unchanged files are not opened)')
    .option('--dry-run', 'report what would happen; write nothing')
    .option(
      '--allow-mass-delete',
      'mark files missing even when more than watch.mass_delete_ratio of a root vanished',
    )
    .action((o: { dryRun?: boolean; allowMassDelete?: boolean }) =>
      run(async (ctx) => {
        const s = await ctx.invoke('index.update', {
          dryRun: o.dryRun === true,
          allowMassDelete: o.allowMassDelete === true,
        });
        // A safety refusal is not success: scripts and services must notice it (exit 1, the reason above).
        return { data: s, text: scanText(s), exitCode: s.mass_delete_blocked.length > 0 ? 1 : 0 };
      }),
    );
  index
    .command('prune')
    .description(
      'remove ghost assets (every file gone, no project selection names them) and orphaned sidecars; sidecars go to <root>/.alice-trash',
    )
    .option('--dry-run', 'list exactly what would be removed; change nothing')
    .action((o: { dryRun?: boolean }) =>
      run(async (ctx) => {
        const r = await ctx.invoke('index.prune', { dryRun: o.dryRun === true });
        return { data: r, text: pruneText(r), exitCode: r.refused === null ? 0 : 1 };
      }),
    );
  index
    .command('verify')
    .description(
      'compare files, sidecars and index; exit 0 when clean, 1 when problems were found, 2 on error',
    )
    .option('--full', 're-hash every file (default: a sample, verify.sample_ratio)')
    .option(
      '--repair',
      'first write each garbled sidecar back from what the index holds (the original is kept aside)',
    )
    .option('--dry-run', 'with --repair: report what would be repaired; write nothing')
    .action((o: { full?: boolean; repair?: boolean; dryRun?: boolean }) =>
      run(async (ctx) => {
        // verify alone writes nothing: a --dry-run there would promise what is already so.
        if (o.dryRun === true && o.repair !== true)
          throw new AliceError(
            ErrorCode.INVALID_INPUT,
            '--dry-run belongs to --repair: `alice index verify` alone never writes anything',
            { hint: 'alice index verify --repair --dry-run (what would be repaired), or drop --dry-run' },
          );
        const repair =
          o.repair === true ? await ctx.invoke('index.repair', { dryRun: o.dryRun === true }) : undefined;
        const r = await ctx.invoke('index.verify', { full: o.full === true });
        const text = [...(repair === undefined ? [] : repairText(repair)), ...verifyText(r)];
        return { data: repair === undefined ? r : { ...r, repair }, text, exitCode: r.clean ? 0 : 1 };
      }),
    );
}
