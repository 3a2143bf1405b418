/** `alice show <file|hash>`. */
import type { Command } from 'commander';
import type { AssetRecord } from '../../services/search/assets.service.js';
import { absRef, type CliContext } from '../context.js';
import type { Rendered } from '../render.js';

function showText(r: AssetRecord): string[] {
  const lines = [`asset ${r.content_hash}`];
  const a = r.index;
  if (a !== null) {
    lines.push(
      `  ${a.media_type}${a.format === null ? '' : ` (${a.format})`}  ${a.width ?? '?'}×${a.height ?? '?'}  ${a.file_size} bytes  status ${a.status}`,
    );
    if (a.created_at !== null)
      lines.push(
        `  created: ${a.created_at}${a.created_source === null ? '' : ` (from ${a.created_source})`}`,
      );
    if (a.source !== null)
      lines.push(`  generator: ${a.source}${a.model === null ? '' : `  model: ${a.model}`}`);
    if (a.prompt !== null) lines.push(`  prompt: ${a.prompt}`);
    if (a.description !== null) lines.push(`  description: ${a.description}`);
  }
  if (r.damage !== null) lines.push(`  DAMAGED: ${r.damage}`);
  if (r.tags.length > 0) lines.push(`  tags: ${r.tags.map((t) => `${t.category}:${t.value}`).join(', ')}`);
  lines.push('  locations:');
  const exports = new Set(r.export_copies);
  for (const l of r.locations)
    lines.push(
      `    ${l.present ? 'present' : 'missing'}  ${l.path}${exports.has(l.path) ? '  (export copy, never rewritten)' : ''}`,
    );
  if (r.aliases.length > 0) lines.push(`  aliases: ${r.aliases.join(', ')}`);
  lines.push(`  sidecar: ${r.sidecar_path ?? '(none found)'}`);
  return lines;
}

export function registerShowCommand(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  program
    .command('show')
    .argument('<file|hash>', 'a path, a content hash or a unique hash prefix (8+ hex digits)')
    .description("print an asset's sidecar, locations and index row")
    .action((ref: string) =>
      run(async (ctx) => {
        const r = await ctx.invoke('asset.show', { ref: absRef(ref) });
        return { data: r, text: showText(r) };
      }),
    );
}
