/** `alice watch` (the resident agent, foreground) and `alice status`. */
import type { Command } from 'commander';
import { callAgent } from '../../app/agent-client.js';
import { readAgentStatus } from '../../app/agent-status.js';
import type { StatusDoc, StatusReading } from '../../services/watch/status.service.js';
import { understandingLine, understandingStatus } from '../../app/understanding-status.js';
import type { CliContext } from '../context.js';
import { plural, type Rendered } from '../render.js';

/** "hashing: 1,234 of 5,000 (24.7%), 41.2/s, about 1 h 36 min left" */
export function progressLine(p: NonNullable<StatusDoc['progress']>): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const of =
    p.total === null
      ? n(p.done)
      : `${n(p.done)} of ${n(p.total)} (${((p.done / Math.max(p.total, 1)) * 100).toFixed(1)}%)`;
  const eta = p.eta_s === null ? '' : `, about ${duration(p.eta_s)} left`;
  return `${p.phase}: ${of}, ${p.rate_per_s}/s${eta}`;
}

function duration(s: number): string {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function statusText(r: StatusReading): string[] {
  if (r.status === null)
    return ['agent: not running (no status file; start it with `alice watch` or `alice service install`)'];
  const s: StatusDoc = r.status;
  const head = r.running
    ? `agent: running (pid ${s.pid}, ${s.state}, heartbeat ${r.age_s}s ago, version ${s.version})`
    : r.reason === 'stopped'
      ? `agent: not running (stopped cleanly; last heartbeat ${r.age_s}s ago)`
      : r.reason === 'dead'
        ? `agent: not running (process ${s.pid} is gone without stopping: it crashed or was killed; state was ${s.state})`
        : `agent: not responding (heartbeat is ${r.age_s}s old: stale; pid ${s.pid})`;
  const lines = [head, `  started ${s.started_at}`, '  roots:'];
  for (const root of s.roots)
    lines.push(
      `    ${root.state.padEnd(8)} ${root.path}${root.reason === undefined ? '' : `  (${root.reason})`}${root.note === undefined ? '' : `  (${root.note})`}`,
    );
  const c = s.counters;
  const p = (s.progress as StatusDoc['progress'] | undefined) ?? null;
  if (p !== null) lines.push(`  ${progressLine(p)}`);
  lines.push(
    `  queue: ${s.queue.pending_paths} pending paths, ${s.queue.in_flight} batch${s.queue.in_flight === 1 ? '' : 'es'} in flight, ${s.queue.batches} waiting, ${s.queue.pending_deletes} deletions in grace window`,
  );
  lines.push(
    `  since start: ${c.indexed} indexed, ${c.moved} moved, ${c.missing} missing, ${plural(c.errors, 'error')}`,
    `  index: ${c.duplicates} duplicate group${c.duplicates === 1 ? '' : 's'} (as \`alice dupes\` lists them), ${c.damaged ?? 0} damaged (\`alice search --damaged\`)`,
  );
  if (s.events_backlog > 0) lines.push(`  events waiting for delivery: ${s.events_backlog}`);
  if (s.last_verification !== null) {
    const v = s.last_verification;
    lines.push(`  last verification: ${v.at}, ${v.checked} checked, ${plural(v.problems, 'problem')}`);
  }
  for (const n of s.notes) lines.push(`  note: ${n}`);
  // Absent in a status file written by an older version.
  const skipped = (s.skipped as StatusDoc['skipped'] | undefined) ?? { count: 0, files: [] };
  if (skipped.count > 0)
    lines.push(
      `  skipped files (not indexed until they change): ${skipped.count}${skipped.count > skipped.files.length ? ` (the latest ${skipped.files.length} named)` : ''}`,
      ...skipped.files.map((e) => `    ${e.reason.padEnd(10)} ${e.path}: ${e.message}`),
    );
  if (s.last_errors.length > 0)
    lines.push(
      '  recent errors:',
      ...s.last_errors.slice(0, 20).map((e) => `    ${e.at} ${e.code} ${e.path}: ${e.message}`),
    );
  return lines;
}

export function registerAgentCommands(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  program
    .command('watch')
    .description(
      'run the agent in the foreground: watch every root, index changes, verify on schedule (what the service runs)',
    )
    .action(() =>
      run(async (ctx) => {
        // The agent's modules (watchers, cron, logger) load only when it runs.
        const { runAgent } = await import('../../app/daemon.js');
        const code = await runAgent(ctx.config(), { verbose: ctx.verbose, console: true });
        return { data: { stopped: true }, text: [], exitCode: code };
      }),
    );
  program
    .command('status')
    .description(
      "show the agent's status: state, roots, queue, counters, recent errors; says when it is not running or stale",
    )
    .action(() =>
      run(async (ctx) => {
        const config = ctx.config();
        const reading = await readAgentStatus(config);
        if (reading.running) {
          const live = await callAgent(config, 'agent.status', {}, 5000).catch(() => undefined);
          if (live !== undefined) reading.status = live.result as StatusDoc;
        }
        const understanding = await understandingStatus(config);
        return {
          data: { ...reading, understanding },
          text: [...statusText(reading), understandingLine(understanding)],
          exitCode: reading.running ? 0 : 3,
        };
      }),
    );
}
