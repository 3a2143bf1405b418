/**
 * `alice understand [<file|hash>...] [--all] [--dry-run] [--force]`: ask the configured vision
 * model what each asset shows (tags by category, a one-sentence description) and record it.
 */
import type { Command } from 'commander';
import type { UnderstandItem, UnderstandReport } from '../../services/tagging/understand.service.js';
import { absRef, type CliContext } from '../context.js';
import { plural, shortHash, type Rendered } from '../render.js';

type Run = (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>;

const money = (n: number): string => `$${n.toFixed(n > 0 && n < 0.01 ? 6 : 4)}`;

function itemLine(i: UnderstandItem): string {
  const who = i.path ?? shortHash(i.content_hash);
  if (i.status === 'understood')
    return `understood  ${who}: ${(i.tags ?? []).join(', ')}${i.description === undefined ? '' : ` — ${i.description}`} (${money(i.cost_usd ?? 0)})`;
  return `${i.status.padEnd(11)} ${who}${i.reason === undefined ? '' : `: ${i.reason}`}`;
}

export function understandRendered(r: UnderstandReport): Rendered {
  const budget = `spent ${money(r.spent_usd)} of the ${money(r.budget_usd)} budget`;
  const head = r.dry_run
    ? `dry run: ${plural(r.would_send, 'asset')} would be sent to ${r.model} (${r.provider}), estimated at most ${money(r.estimated_cost_usd)}; ${r.cached} already understood; ${budget}`
    : `${r.understood} understood, ${r.cached} already understood, ${r.failed} failed, ${r.over_budget} over budget` +
      `${r.skipped > 0 ? `, ${r.skipped} skipped` : ''} (${plural(r.sent, 'request')} to ${r.model}, ${money(r.cost_usd)}; ${budget})`;
  const lines = r.items.filter((i) => i.status !== 'cached' || r.assets <= 20).map(itemLine);
  return { data: r, text: [head, ...lines], exitCode: r.failed > 0 || r.over_budget > 0 ? 1 : 0 };
}

export function registerUnderstandCommand(program: Command, run: Run): void {
  program
    .command('understand')
    .description(
      'ask the configured vision model for tags and a description of each asset (settings: understanding)',
    )
    .argument('[file|hash...]', 'paths, content hashes or unique hash prefixes')
    .option('--all', 'every asset with a file present')
    .option('-n, --dry-run', 'print how many assets would be sent and the estimated cost; send nothing')
    .option('--force', 'ask again even for assets this model already understood')
    .addHelpText(
      'after',
      '\nAn understood asset is never sent again unless --force or the model changes. No request is\n' +
        'sent that could exceed understanding.budget_usd. The API key is read from the variable named\n' +
        'by understanding.api_key_env.',
    )
    .action((refs: string[], o: { all?: boolean; dryRun?: boolean; force?: boolean }) =>
      run(async (ctx) => {
        const r = await ctx.invoke('asset.understand', {
          refs: refs.map(absRef),
          all: o.all === true,
          dryRun: o.dryRun === true,
          force: o.force === true,
        });
        return understandRendered(r);
      }),
    );
}
