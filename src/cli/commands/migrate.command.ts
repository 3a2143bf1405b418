/** `alice migrate [--dry-run] [--from FILE] [--no-embed] [--no-rebuild]`. */
import path from 'node:path';
import type { Command } from 'commander';
import type { EmbedReport } from '../../services/tagging/embed.service.js';
import type { MigrateReport, StepReport } from '../../services/migrate/migrate.service.js';
import type { CliContext } from '../context.js';
import { scanText } from './index.command.js';
import { plural, shortHash, type Rendered } from '../render.js';

type Run = (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>;

/** Lines listed per section before "… and N more". */
const LIST_MAX = 50;

function capped<T>(items: readonly T[], line: (item: T) => string): string[] {
  const out = items.slice(0, LIST_MAX).map(line);
  if (items.length > LIST_MAX) out.push(`  … and ${items.length - LIST_MAX} more (see --json)`);
  return out;
}

function sidecarLines(r: MigrateReport): string[] {
  const s = r.sidecars;
  const verb = r.dry_run ? 'would migrate' : 'migrated';
  const lines = [
    `${r.dry_run ? '[dry run] ' : ''}sidecars: ${s.checked} checked, ${s.current} already 4.0, ${verb} ${s.migrated.length}, skipped ${s.skipped.length}`,
    ...capped(
      s.migrated,
      (m) =>
        `  ${m.from_version} → 4.0  ${shortHash(m.content_hash)}  ${m.from === m.to ? m.to : `${m.from} → ${m.to}`}${m.merged ? ' (merged)' : ''}${m.file === null ? ' (file not found: indexed as missing)' : ''}`,
    ),
    ...capped(s.skipped, (k) => `  skipped ${k.file}: ${k.reason}`),
  ];
  for (const root of s.offline_roots) lines.push(`  offline root (not migrated): ${root}`);
  return lines;
}

function recordLines(r: MigrateReport): string[] {
  const rec = r.records;
  if (rec === null) return [];
  const verb = r.dry_run ? 'would import' : 'imported';
  return [
    `records from ${path.basename(rec.file)} (${rec.format}): ${rec.records} read, ${verb} ${rec.imported.length}, unchanged ${rec.unchanged}, skipped ${rec.skipped.length}`,
    ...capped(
      rec.imported,
      (i) =>
        `  line ${i.line}: ${shortHash(i.content_hash)} ${i.created ? 'new sidecar' : i.changes.join(', ')}`,
    ),
    ...capped(
      rec.skipped,
      (k) => `  line ${k.line} skipped${k.ref === null ? '' : ` (${k.ref})`}: ${k.reason}`,
    ),
    ...rec.warnings.map((w) => `  warning: ${w}`),
  ];
}

function stepLine(name: string, s: StepReport<unknown>): string {
  return `${name}: ${s.status}${s.reason === undefined ? '' : ` (${s.reason})`}`;
}

export function migrateText(r: MigrateReport): string[] {
  const lines = [...sidecarLines(r), ...recordLines(r)];
  lines.push(stepLine('index rebuild', r.rebuild));
  if (r.rebuild.result !== undefined) lines.push(...scanText(r.rebuild.result).map((l) => `  ${l}`));
  lines.push(stepLine('embed', r.embed));
  const e = r.embed.result as Partial<EmbedReport> | undefined;
  if (e?.files !== undefined)
    lines.push(
      `  ${plural(e.files, 'file')}: written ${e.written ?? 0} · current ${e.current ?? 0} · sidecar only ${e.sidecar_only ?? 0} · failed ${e.failed ?? 0} · missing ${e.missing ?? 0}`,
    );
  const total = r.sidecars.migrated.length + (r.records?.imported.length ?? 0);
  if (total === 0) lines.push('nothing to change');
  else if (r.dry_run) lines.push(`${plural(total, 'change')} would be made; run without --dry-run to apply`);
  return lines;
}

export function registerMigrateCommand(program: Command, run: Run): void {
  program
    .command('migrate')
    .description(
      'upgrade legacy AliceMultiverse sidecars (1.0, 3.0) to 4.0 in place, import a database export, then rebuild the index and embed tags',
    )
    .option('--dry-run', 'report what would change; write nothing')
    .option(
      '--from <file>',
      'import a JSON Lines (.jsonl) or CSV (.csv) export: one record per file, by path or content hash',
    )
    .option('--no-embed', 'do not embed tags into files afterwards')
    .option('--no-rebuild', 'do not rebuild the index afterwards')
    .action((o: { dryRun?: boolean; from?: string; embed: boolean; rebuild: boolean }) =>
      run(async (ctx) => {
        const r = await ctx.invoke('migrate', {
          dryRun: o.dryRun === true,
          ...(o.from === undefined ? {} : { from: path.resolve(o.from) }),
          embed: o.embed,
          rebuild: o.rebuild,
        });
        const embedFailed = (r.embed.result as Partial<EmbedReport> | undefined)?.failed ?? 0;
        const failed = r.rebuild.status === 'failed' || r.embed.status === 'failed' || embedFailed > 0;
        return { data: r, text: migrateText(r), exitCode: failed ? 1 : 0 };
      }),
    );
}
